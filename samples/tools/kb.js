// A tiny, deterministic knowledge base for the rag-answer sample: help-centre articles and
// policies of "Lumen", a fictional project-management SaaS, held in this file. No network, no
// clock, no randomness: the same arguments always give the same JSON, so a recorded run replays
// exactly. Every answer carries the knowledge base's `version`, which the workflow records with
// `snapshot:` so Keel can tell when two steps of one run read different versions of it.
//
// Tool exports are called as `fn(args, ctx)`: `args` is the step's `with:` map; `ctx` holds the
// workflow's folder, the run id, the step, the attempt, an abort signal and a logger (the whole
// contract: docs/format.md, "How a tool is called"). CommonJS, so both `require()` and `import()`
// can load it.
"use strict";

const VERSION = "kb-2026-11-20";
const BASE_URL = "https://help.lumen.example/articles/";

const ARTICLES = [
  {
    id: "kb-101",
    title: "Refunds for annual plans",
    tags: ["billing", "refund", "annual", "cancel"],
    text:
      "Annual Team and Business plans can be refunded in full within 30 days of the purchase " +
      "or renewal date. After 30 days we refund the unused months pro rata, minus a 10% early " +
      "termination fee. Workspace owners request a refund under Settings > Billing > Cancel plan.",
  },
  {
    id: "kb-102",
    title: "How long refunds take",
    tags: ["billing", "refund", "card", "invoice"],
    text:
      "Approved refunds are sent to the original payment method within 2 business days. Card " +
      "issuers usually show the credit 5 to 10 business days later. Refunds paid by invoice " +
      "(bank transfer) are returned to the bank account on the invoice within 10 business days.",
  },
  {
    id: "kb-103",
    title: "Duplicate charges and failed payments",
    tags: ["billing", "charge", "duplicate", "payment"],
    text:
      "A duplicate charge usually comes from a payment retried after a card timeout. We void " +
      "the duplicate automatically within 24 hours; if it is still on your statement after " +
      "that, contact billing with the invoice number and we refund it the same day.",
  },
  {
    id: "kb-104",
    title: "Switching between monthly and annual billing",
    tags: ["billing", "annual", "monthly", "plan"],
    text:
      "You can switch a workspace from monthly to annual billing at any time; the unused part " +
      "of the current month is credited. Switching from annual to monthly takes effect at the " +
      "next renewal and does not by itself trigger a refund.",
  },
  {
    id: "kb-201",
    title: "Resetting two-factor authentication",
    tags: ["account", "2fa", "login", "security"],
    text:
      "If you lost your authenticator device, sign in with one of your recovery codes and set " +
      "up two-factor authentication again. Without recovery codes, a workspace owner can reset " +
      "2FA for a member under Members > Security; owners contact support with an ID check.",
  },
  {
    id: "kb-202",
    title: "Single sign-on with Okta",
    tags: ["account", "sso", "okta", "saml", "login"],
    text:
      "Business plans support SAML single sign-on. Add the Lumen app from the Okta catalogue, " +
      "copy the metadata URL into Settings > Security > SSO and verify your email domain. " +
      "Members who sign in with SSO keep their projects and permissions.",
  },
  {
    id: "kb-301",
    title: "Exporting your data",
    tags: ["export", "data", "csv", "json", "cancel"],
    text:
      "Workspace owners can export every project as CSV or JSON under Settings > Data > " +
      "Export. Exports include tasks, comments and attachments' links; they stay available " +
      "for 90 days after a plan is cancelled.",
  },
  {
    id: "kb-302",
    title: "API rate limits",
    tags: ["api", "rate", "limit", "integration"],
    text:
      "The REST API allows 600 requests per minute per workspace token. A 429 response carries " +
      "a Retry-After header in seconds; clients should wait that long before retrying.",
  },
];

const POLICIES = {
  refunds: {
    id: "policy-refunds",
    title: "Lumen refund policy",
    effective_date: "2026-09-01",
    sections: [
      "Monthly plans are not refunded; cancelling stops the next renewal.",
      "Annual plans are refunded in full within 30 days of purchase or renewal.",
      "After 30 days, annual plans are refunded pro rata for whole unused months, minus a 10% " +
        "early termination fee.",
      "Duplicate or erroneous charges are always refunded in full.",
      "Refunds go to the original payment method.",
    ],
  },
  security: {
    id: "policy-security",
    title: "Account security policy",
    effective_date: "2026-03-15",
    sections: [
      "Support never asks for a password or a one-time code.",
      "Resetting 2FA for a workspace owner requires an identity check.",
    ],
  },
};

const STOPWORDS = new Set(
  (
    "a an and are as at be but by can do for from get how i if in is it my of on or our " +
    "so that the this to was we were what when with you your ago"
  ).split(" "),
);

function tokens(text) {
  return String(text)
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 && !STOPWORDS.has(t));
}

function checkAborted(ctx) {
  if (ctx && ctx.signal && ctx.signal.aborted) throw new Error("knowledge base call was aborted");
}

/**
 * Full-text search over the articles. `args`: `{ query: string, top_k?: number }`.
 * Returns `{ version, query, results: [{ id, title, url, score, text }] }`, best first; ties
 * are broken by id so the order never changes.
 */
function search(args, ctx) {
  checkAborted(ctx);
  const query = String((args && args.query) || "");
  const topK = Math.max(1, Math.min(10, Number((args && args.top_k) || 3)));
  const wanted = new Set(tokens(query));
  const results = ARTICLES.map((article) => {
    let score = 0;
    for (const t of tokens(article.title)) if (wanted.has(t)) score += 3;
    for (const t of article.tags) if (wanted.has(t)) score += 2;
    for (const t of new Set(tokens(article.text))) if (wanted.has(t)) score += 1;
    return { article, score };
  })
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || a.article.id.localeCompare(b.article.id))
    .slice(0, topK)
    .map(({ article, score }) => ({
      id: article.id,
      title: article.title,
      url: BASE_URL + article.id,
      score,
      text: article.text,
    }));
  return { version: VERSION, query, results };
}

/**
 * One policy document by name. `args`: `{ name: "refunds" | "security" }`.
 * Returns `{ version, id, title, effective_date, sections: string[] }`.
 */
function fetchPolicy(args, ctx) {
  checkAborted(ctx);
  const name = String((args && args.name) || "");
  const policy = POLICIES[name];
  if (!policy) {
    throw new Error(`no policy named '${name}': known are ${Object.keys(POLICIES).join(", ")}`);
  }
  return { version: VERSION, ...policy, sections: [...policy.sections] };
}

module.exports = { search, fetchPolicy };
