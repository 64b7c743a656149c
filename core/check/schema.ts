// Schema check: runs the zod schema and turns each issue into a diagnostic on the exact key or
// value it concerns, with Keel's own wording (what is wrong, what is expected, did you mean).
import { z } from "zod";
import type { DiagnosticSink, Span } from "../model/diagnostic";
import { locate, type Loc } from "../model/parse";
import {
  DURATION_PATTERN,
  isBareExpressionPath,
  STEP_TYPES,
  Step,
  Workflow,
} from "../model/schema";
import { didYouMean } from "../model/suggest";
import { branchKeys, keysAt, schemaAt, WORKFLOW_SCHEMA, type ZodLike } from "../model/schema-walk";
import { describeValue, valueAt } from "../model/untyped";

type Issue = z.core.$ZodIssue;

/** The workflow's schema with each step's value left unchecked (checkStepSchema checks them). */
const Header = Workflow.extend({ steps: z.record(z.string(), z.unknown()) });
const Steps = Workflow.shape.steps;

/**
 * Schema issues outside the steps' entries: the top level, inputs, providers, defaults, outputs,
 * and `steps` itself being a mapping. Together with checkStepSchema on every entry of `steps`,
 * this reports exactly what one parse of the whole workflow would.
 */
export function checkHeaderSchema(value: unknown, root: Loc, sink: DiagnosticSink): void {
  const result = Header.safeParse(value, { reportInput: false });
  if (result.success) return;
  for (const issue of result.error.issues) reportIssue(issue, issue.path, value, root, sink);
}

/**
 * Schema issues of one entry of `steps` (its id and its value). `rootValue` and `root` need only
 * hold the path to this step and, for the rare issue reported on the first line, the first key.
 */
export function checkStepSchema(
  id: string,
  value: unknown,
  rootValue: unknown,
  root: Loc,
  sink: DiagnosticSink,
): void {
  const one: Record<string, unknown> = Object.create(null);
  one[id] = value;
  const result = Steps.safeParse(one, { reportInput: false });
  if (result.success) return;
  for (const issue of result.error.issues) {
    reportIssue(issue, ["steps", ...issue.path], rootValue, root, sink);
  }
}

function reportIssue(
  issue: Issue,
  issuePath: readonly PropertyKey[],
  rootValue: unknown,
  root: Loc,
  sink: DiagnosticSink,
): void {
  const path = issuePath as PropertyKey[];
  const here = valueAt(rootValue, path);
  const { loc, depth } = locate(root, path);
  const exact = depth === path.length;
  const span = exact || loc.viaAlias ? loc.span : (loc.keySpan ?? firstLine(loc.span, root));
  const where = describePath(path);

  switch (issue.code) {
    case "unrecognized_keys":
      for (const key of issue.keys) {
        const child = loc.children?.get(key);
        const known = keysAt(Workflow as unknown as ZodLike, path, rootValue);
        const owner = ownerHint(key, path, rootValue);
        sink.add(
          "KEEL101",
          child?.keySpan ?? loc.keySpan ?? loc.span,
          `unknown key '${key}' ${where ? `in ${where}` : "at the top level"}${owner || didYouMean(key, known)}`,
        );
      }
      return;
    case "invalid_type": {
      if (here === undefined) {
        reportMissing(path, loc, root, sink);
      } else if (isBareExpressionPath(path) && typeof here === "object" && here !== null) {
        reportNotText(where, here, span, sink);
      } else {
        sink.add(
          "KEEL102",
          span,
          `${where} must be ${article(issue.expected)}, not ${describeValue(here)}`,
        );
      }
      return;
    }
    case "invalid_value": {
      const allowed = issue.values.map((v) => String(v));
      const text = typeof here === "string" ? `'${here}'` : describeValue(here);
      const hint = typeof here === "string" ? didYouMean(here, allowed) : "";
      sink.add("KEEL104", span, `${where} must be ${oneOf(allowed)}, not ${text}${hint}`);
      return;
    }
    case "invalid_format":
      if (path[path.length - 1] === "max_failures") {
        reportShare(where, here, span, sink);
      } else if (
        issue.format === "regex" &&
        "pattern" in issue &&
        issue.pattern === String(DURATION_PATTERN)
      ) {
        sink.add(
          "KEEL107",
          span,
          `'${String(here)}' is not a duration: write a number and a unit, like 500ms, 30s, 2m or 1h`,
        );
      } else {
        sink.add(
          "KEEL106",
          span,
          `'${String(here)}' is not a valid id for ${where}: ${idRule(path)}`,
        );
      }
      return;
    case "invalid_key": {
      const key = String(path[path.length - 1]);
      sink.add(
        "KEEL106",
        loc.keySpan ?? span,
        `'${key}' is not a valid ${idKind(path)}: ${idRule(path)}`,
      );
      return;
    }
    case "invalid_union":
      if (issue.discriminator) {
        reportDiscriminator(
          issue.discriminator,
          (issue as { options?: unknown[] }).options ?? [],
          path,
          here,
          loc,
          exact,
          sink,
        );
        if (here === undefined) reportTypelessKeys(path.slice(0, -1), rootValue, loc, sink);
        return;
      }
      if (here === undefined) {
        reportMissing(path, loc, root, sink);
      } else if (path[0] === "steps" && path.length === 3 && path[2] === "messages") {
        // A list of messages or a bare expression: a list's own problems, else the two forms.
        const list = Array.isArray(here) && issue.errors.find((b) => b.every((i) => i.path.length));
        if (list)
          for (const inner of list)
            reportIssue(inner, [...path, ...inner.path], rootValue, root, sink);
        else reportUnion(issue, where, here, span, sink);
      } else if (isBareExpressionPath(path) && typeof here === "object" && here !== null) {
        reportNotText(where, here, span, sink);
      } else if (path[path.length - 1] === "max_failures") {
        reportShare(where, here, span, sink);
      } else reportUnion(issue, where, here, span, sink);
      return;
    case "too_small":
    case "too_big": {
      const bound =
        issue.code === "too_small" ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      const message =
        issue.origin === "array" && issue.code === "too_small" && issue.minimum === 1
          ? `${where} must not be empty`
          : issue.origin === "array"
            ? `${where} must have ${bound} items`
            : issue.origin === "string"
              ? `${where} must have ${bound} character(s)`
              : `${where} must be ${bound}`;
      sink.add("KEEL104", span, message);
      return;
    }
    default:
      sink.add("KEEL104", span, `${where || "the workflow"}: ${issue.message}`);
  }
}

/** `max_failures` is a count or a share of the items. */
function reportShare(where: string, here: unknown, span: Span, sink: DiagnosticSink): void {
  const text = typeof here === "string" ? `'${here}'` : describeValue(here);
  sink.add(
    "KEEL104",
    span,
    `${where} must be a count of items (a whole number, \`3\`) or a share of them (\`"5%"\`), not ${text}`,
  );
}

function reportMissing(
  path: readonly PropertyKey[],
  loc: Loc,
  root: Loc,
  sink: DiagnosticSink,
): void {
  const parent = describePath(path.slice(0, -1));
  const last = path[path.length - 1];
  const why =
    path[path.length - 2] === "repeat" && last === "max"
      ? ": a loop needs a bound, the most iterations it may run (`max: 3`)"
      : path[0] === "steps" && path.length === 3 && last === "max_turns"
        ? ": an agent needs a bound, the most model calls it may make (`max_turns: 10`); past it the step fails, or answers with `on_max_turns: answer`"
        : "";
  sink.add(
    "KEEL103",
    loc.viaAlias ? loc.span : (loc.keySpan ?? firstLine(loc.span, root)),
    `missing required field '${String(path[path.length - 1])}'${parent ? ` in ${parent}` : ""}${why}`,
  );
}

function reportNotText(where: string, here: unknown, span: Span, sink: DiagnosticSink): void {
  sink.add(
    "KEEL304",
    span,
    `${where} is a JSONata expression, but YAML read ${describeValue(here)}: put the expression in quotes`,
  );
}

function reportDiscriminator(
  key: string,
  options: readonly unknown[],
  path: readonly PropertyKey[],
  here: unknown,
  loc: Loc,
  exact: boolean,
  sink: DiagnosticSink,
): void {
  // zod reports the discriminator's path; `here` is the discriminator's value.
  const owner = describePath(path.slice(0, -1));
  const allowed = options.map(String);
  const isStep = path[0] === "steps" && path.length === 3;
  if (here === undefined) {
    sink.add(
      "KEEL103",
      loc.viaAlias ? loc.span : (loc.keySpan ?? loc.span),
      `${owner} has no '${key}': add \`${key}:\` with one of ${oneOf(allowed)}`,
    );
    return;
  }
  const text = typeof here === "string" ? `'${here}'` : describeValue(here);
  sink.add(
    isStep ? "KEEL105" : "KEEL104",
    exact || loc.viaAlias ? loc.span : (loc.keySpan ?? loc.span),
    `${text} is not a ${isStep ? "step" : "provider"} type: expected ${oneOf(allowed)}${
      typeof here === "string" ? didYouMean(here, allowed) : ""
    }`,
  );
}

/**
 * Keys of an entry that has no `type` (a step, a provider) that no type of it knows, each with the
 * closest known key: a misspelt `tyep:` is named where it stands, not only as a missing `type`.
 */
function reportTypelessKeys(
  ownerPath: readonly PropertyKey[],
  rootValue: unknown,
  loc: Loc,
  sink: DiagnosticSink,
): void {
  const owner = valueAt(rootValue, ownerPath);
  const union = schemaAt(WORKFLOW_SCHEMA, ownerPath, rootValue)?.schema;
  if (owner === null || typeof owner !== "object" || !union) return;
  const known = new Set(branchKeys(union));
  if (known.size === 0) return;
  const where = describePath(ownerPath);
  for (const key of Object.keys(owner)) {
    if (known.has(key)) continue;
    sink.add(
      "KEEL101",
      loc.children?.get(key)?.keySpan ?? loc.keySpan ?? loc.span,
      `unknown key '${key}' in ${where}${didYouMean(key, known)}`,
    );
  }
}

function reportUnion(
  issue: Extract<Issue, { code: "invalid_union" }>,
  where: string,
  here: unknown,
  span: Span,
  sink: DiagnosticSink,
): void {
  const expected = new Set<string>();
  for (const branch of issue.errors) {
    for (const inner of branch) {
      if (inner.code === "invalid_type" && inner.path.length === 0)
        expected.add(article(inner.expected));
    }
  }
  if (expected.size === issue.errors.length) {
    sink.add(
      "KEEL102",
      span,
      `${where} must be ${[...expected].join(" or ")}, not ${describeValue(here)}`,
    );
    return;
  }
  // The value had the right shape for one branch: report that branch's own problems.
  const best = issue.errors.find((b) =>
    b.every((i) => i.code !== "invalid_type" || i.path.length > 0),
  );
  const first = best?.[0];
  sink.add("KEEL104", span, `${where}: ${first ? first.message : issue.message}`);
}

/** "it belongs to http steps" when a key is wrong for this step's type but right for another. */
function ownerHint(key: string, path: readonly PropertyKey[], rootValue: unknown): string {
  if (!(path[0] === "steps" && path.length === 2)) return "";
  const types = STEP_TYPES.filter((t) =>
    keysAt(Step as unknown as ZodLike, [], { type: t }).includes(key),
  );
  if (types.length === 0) return "";
  const step = valueAt(rootValue, path) as Record<string, unknown> | undefined;
  return `: '${key}' belongs to ${types.join(", ")} steps, and this step's type is '${String(step?.type)}'`;
}

function idKind(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (path[0] === "providers" || last === "fallback" || last === "provider") return "provider id";
  if (path[0] === "inputs") return "input name";
  if (path[0] === "steps" || last === "needs") return "step id";
  return "name";
}

function idRule(path: readonly PropertyKey[]): string {
  return path[0] === "providers" ||
    path[path.length - 1] === "fallback" ||
    path[path.length - 1] === "provider"
    ? "use lowercase letters, digits, '_' and '-', starting with a letter"
    : "use lowercase letters, digits and '_', starting with a letter";
}

/** `steps.fetch.retry.initial`, written the way a user would point at it. */
export function describePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function firstLine(span: Span, root: Loc): Span {
  const first = root.children?.values().next().value;
  return first?.keySpan ?? { start: span.start, end: span.start };
}

function article(type: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    record: "a mapping",
    array: "a list",
    null: "null",
  };
  return names[type] ?? type;
}

function oneOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
