// Expression sites: every place in the document that holds a JSONata expression, either bare
// (`expr`, `if`, `that`, `for_each`, `key`, `messages` written as text, `outputs.*`,
// `snapshot.version`, `repeat.until`; the paths isBareExpressionPath names) or inside `${{ }}` in a
// templated string (an agent tool's `with:` and `http:` ones see `args`). Each site keeps enough to
// map an offset in its expression back to the text.
import type { DiagnosticSink, Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { scalarSourceMap } from "../model/scalar-map";
import { STEP_TYPES } from "../model/schema";
import { isObj, str, type Obj } from "../model/untyped";
import { scanTemplates, wholeTemplate } from "../expr/template";

export type SiteOwner =
  | { readonly kind: "step"; readonly id: string }
  | { readonly kind: "provider"; readonly id: string }
  /** `defaults.<type>`'s templates (`defaults.llm.params`): shared by every step of the type. */
  | { readonly kind: "defaults"; readonly id: string }
  | { readonly kind: "outputs"; readonly id: string };

/**
 * What an expression is for, which decides the names it may read (references.ts): `for_each` is
 * evaluated before any item, `until` after each iteration of a `repeat`, `repeat_with` before the
 * next iteration.
 */
export type SiteRole =
  | "value"
  | "if"
  | "snapshot"
  | "api_key"
  | "for_each"
  | "key"
  | "until"
  | "repeat_with"
  /** An agent tool's `with:` or `http:` template: evaluated per call, with the model's `args`. */
  | "tool";

export interface ExprSite {
  readonly owner: SiteOwner;
  readonly role: SiteRole;
  /** The expression text (without `${{ }}`). */
  readonly text: string;
  readonly loc: Loc;
  /** Offset of the expression inside the scalar's string value; -1 when the value is not a string. */
  readonly valueStart: number;
  /** A bare expression field, rather than a template inside a string. */
  readonly bare: boolean;
  /** The agent tool whose `with:` or `http:` holds it (role "tool"), which sees `args`. */
  readonly tool?: string;
}

/** Keys of a step whose values are not templates (they are ids, settings or bare expressions). */
const STEP_PLAIN_KEYS = new Set([
  "type",
  "description",
  "needs",
  "provider",
  "timeout",
  "retry",
  "cache",
  "on_error",
  "output",
  "uses",
  "method",
  "if",
  "expr",
  "that",
  "snapshot",
  "for_each",
  "key",
  "concurrency",
  "max_items",
  "on_item_error",
  "max_failures",
  "repeat",
  "max_turns",
  "budget",
  "on_max_turns",
  "tool_errors",
  "parallel_tool_calls",
]);
/** The keys of an agent tool that hold templates; the others are plain. */
const TOOL_TEMPLATE_KEYS = new Set(["with", "http"]);
const PROVIDER_TEMPLATE_KEYS = new Set(["base_url", "endpoint", "api_key", "headers"]);

/** The role of an expression at `path` inside a step (`["repeat", "until"]`); see collectStepSites. */
export function stepRoleAt(path: readonly (string | number)[]): SiteRole {
  const [key, sub] = path;
  if (key === "if" || key === "for_each" || key === "key") return key;
  if (key === "snapshot" && sub === "version") return "snapshot";
  if (key === "repeat" && sub === "until") return "until";
  if (key === "repeat" && sub === "with") return "repeat_with";
  if (key === "tools" && path.length > 2 && TOOL_TEMPLATE_KEYS.has(String(path[2]))) return "tool";
  return "value";
}

/** The expression sites of one step, in document order. */
export function collectStepSites(
  text: string,
  id: string,
  step: unknown,
  loc: Loc,
  sink: DiagnosticSink,
): ExprSite[] {
  const sites: ExprSite[] = [];
  const owner = { kind: "step", id } as const;
  if (!isObj(step) || !loc.children) return sites;
  const add = new SiteAdder(text, sites, sink);
  for (const [key, v] of Object.entries(step)) {
    const vLoc = loc.children.get(key);
    if (!vLoc) continue;
    if (key === "if") add.bare(owner, "if", v, vLoc);
    else if (key === "expr") add.bare(owner, "value", v, vLoc);
    else if (key === "that") {
      if (Array.isArray(v))
        v.forEach((item, i) => add.bare(owner, "value", item, vLoc.children?.get(i)));
      else add.bare(owner, "value", v, vLoc);
    } else if (key === "snapshot" && isObj(v)) {
      add.bare(owner, "snapshot", v.version, vLoc.children?.get("version"));
    } else if (key === "for_each" || key === "key") add.bare(owner, key, v, vLoc);
    else if (key === "messages" && typeof v === "string") add.bare(owner, "value", v, vLoc);
    else if (key === "tools" && isObj(v) && maybeAgent(str(step.type))) {
      forEachEntry(v, vLoc, (tool, toolValue, toolLoc) => {
        forEachEntry(toolValue, toolLoc, (sub, subValue, subLoc) => {
          if (TOOL_TEMPLATE_KEYS.has(sub)) add.templates(owner, "tool", subValue, subLoc, tool);
        });
      });
    } else if (key === "repeat" && isObj(v)) {
      // In document order: `until` and `with` may come either way round.
      for (const [sub, subValue] of Object.entries(v)) {
        const subLoc = vLoc.children?.get(sub);
        if (!subLoc) continue;
        if (sub === "until") add.bare(owner, "until", subValue, subLoc);
        else if (sub === "with") add.templates(owner, "repeat_with", subValue, subLoc);
      }
    } else if (!STEP_PLAIN_KEYS.has(key)) add.templates(owner, "value", v, vLoc);
  }
  return sites;
}

/** An agent, or a step whose type Keel does not know (misspelt, or set aside by a YAML error). */
function maybeAgent(type: string | undefined): boolean {
  return type === "agent" || !(STEP_TYPES as readonly (string | undefined)[]).includes(type);
}

/** The expression sites outside the steps: providers' templates, `defaults.llm.params`, then `outputs`. */
export function collectHeaderSites(
  text: string,
  value: unknown,
  root: Loc,
  sink: DiagnosticSink,
): ExprSite[] {
  const sites: ExprSite[] = [];
  const top = isObj(value) ? value : undefined;
  const children = root.children;
  if (!top || !children) return sites;
  const add = new SiteAdder(text, sites, sink);
  forEachEntry(top.providers, children.get("providers"), (id, provider, loc) => {
    if (!isObj(provider)) return;
    for (const key of PROVIDER_TEMPLATE_KEYS) {
      const vLoc = loc.children?.get(key);
      if (vLoc && key in provider) {
        add.templates(
          { kind: "provider", id },
          key === "api_key" ? "api_key" : "value",
          provider[key],
          vLoc,
        );
      }
    }
  });
  forEachEntry(top.defaults, children.get("defaults"), (type, d, loc) => {
    const params = loc.children?.get("params");
    if (isObj(d) && params && "params" in d)
      add.templates({ kind: "defaults", id: type }, "value", d.params, params);
  });
  forEachEntry(top.outputs, children.get("outputs"), (name, v, loc) => {
    add.bare({ kind: "outputs", id: name }, "value", v, loc);
  });
  return sites;
}

/** Calls `fn` for each key of a mapping that has both a value and a location. */
export function forEachEntry(
  value: unknown,
  loc: Loc | undefined,
  fn: (key: string, value: unknown, loc: Loc) => void,
): void {
  if (!isObj(value) || !loc?.children) return;
  for (const [key, v] of Object.entries(value as Obj)) {
    const child = loc.children.get(key);
    if (child) fn(key, v, child);
  }
}

/** The text span of `[start, end)` of a site's expression. */
export function siteSpan(text: string, site: ExprSite, start: number, end: number): Span {
  const scalar = site.loc.scalar;
  if (site.valueStart < 0 || !scalar || site.loc.viaAlias || typeof scalar.value !== "string") {
    return site.loc.span;
  }
  const map = scalarSourceMap(text, scalar);
  const last = map.length - 1;
  const s = map[Math.min(site.valueStart + start, last)]!;
  const e = end > start ? map[Math.min(site.valueStart + end - 1, last)]! + 1 : s;
  return { start: s, end: Math.max(s, Math.min(e, site.loc.span.end)) };
}

class SiteAdder {
  constructor(
    private readonly text: string,
    private readonly sites: ExprSite[],
    private readonly sink: DiagnosticSink,
  ) {}

  bare(owner: SiteOwner, role: SiteRole, v: unknown, loc: Loc | undefined): void {
    if (!loc || v === undefined || v === null) return;
    if (typeof v === "number" || typeof v === "boolean") {
      this.sites.push({ owner, role, text: String(v), loc, valueStart: -1, bare: true });
      return;
    }
    if (typeof v !== "string") return; // the schema check reports the wrong type
    const whole = wholeTemplate(v);
    const start = whole ? whole.exprStart : 0;
    const exprText = whole ? v.slice(whole.exprStart, whole.exprEnd) : v;
    if (exprText.trim() === "") {
      this.sink.add("KEEL305", loc.span, "the expression is empty");
      return;
    }
    this.sites.push({ owner, role, text: exprText, loc, valueStart: start, bare: true });
  }

  templates(owner: SiteOwner, role: SiteRole, v: unknown, loc: Loc, tool?: string): void {
    if (typeof v === "string") {
      if (!v.includes("${{")) return;
      const scan = scanTemplates(v);
      const site = { owner, role, loc, bare: false, ...(tool !== undefined ? { tool } : {}) };
      for (const part of scan.parts) {
        const exprText = v.slice(part.exprStart, part.exprEnd);
        if (exprText.trim() === "") {
          this.sink.add(
            "KEEL305",
            siteSpan(this.text, { ...site, text: "", valueStart: 0 }, part.start, part.end),
            "`${{ }}` holds no expression",
          );
          continue;
        }
        this.sites.push({ ...site, text: exprText, valueStart: part.exprStart });
      }
      if (scan.unterminatedAt !== undefined) {
        const at = scan.unterminatedAt;
        this.sink.add(
          "KEEL303",
          siteSpan(this.text, { ...site, text: "", valueStart: 0 }, at, at + 3),
          "`${{` is never closed: end the expression with `}}`",
        );
      }
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const child = loc.children?.get(i);
        if (child) this.templates(owner, role, item, child, tool);
      });
    } else if (isObj(v)) {
      forEachEntry(v, loc, (_key, item, child) => this.templates(owner, role, item, child, tool));
    }
  }
}
