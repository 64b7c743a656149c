// Literal secrets: a provider's api_key must come from `secrets`, and no string in the file may
// look like a credential. The patterns recognise well-known key formats; they are deliberately
// specific, so an ordinary value is never flagged.
import type { DiagnosticSink, Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { scalarSourceMap } from "../model/scalar-map";
import type { AnalyzedSite } from "./references";
import type { WorkflowParts } from "./parts";
import { isObj } from "../model/untyped";
import { siteSpan } from "./sites";

/** The environment variables that hold secrets: KEEL_SECRET_<NAME> is `secrets.NAME`. */
export const SECRET_PREFIX = "KEEL_SECRET_";

/**
 * The shortest secret Keel redacts (core/runner/redact.ts); a shorter one is refused by name
 * (core/node/secrets.ts).
 */
export const MIN_SECRET_LENGTH = 6;

const CREDENTIAL = new RegExp(
  [
    String.raw`sk-ant-[A-Za-z0-9_-]{20,}`,
    String.raw`sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}`,
    String.raw`AKIA[0-9A-Z]{16}`,
    String.raw`gh[pousr]_[A-Za-z0-9]{36,}`,
    String.raw`github_pat_[A-Za-z0-9_]{40,}`,
    String.raw`xox[abprs]-[A-Za-z0-9-]{10,}`,
    String.raw`AIza[0-9A-Za-z_-]{35}`,
    String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----`,
    String.raw`(?<=^|\s)Bearer [A-Za-z0-9._~+/-]{20,}=*`,
  ].join("|"),
);

/**
 * Providers' api_keys, and credentials in every string outside the steps' entries (when `steps`
 * is a mapping, checkStepSecrets scans each entry).
 */
export function checkSecrets(
  parts: WorkflowParts,
  analyzed: readonly AnalyzedSite[],
  sink: DiagnosticSink,
): void {
  const reported = new Set<Loc>();
  for (const p of parts.providers.values()) {
    if (!isObj(p.value) || typeof p.value.api_key !== "string") continue;
    const loc = p.loc.children?.get("api_key");
    if (!loc) continue;
    const sites = analyzed.filter((a) => a.site.loc === loc);
    const readsSecret = sites.some((a) =>
      a.info.refs.some((r) => r.segments[0]?.name === "secrets"),
    );
    if (!readsSecret) {
      reported.add(loc);
      const name = `${p.id.toUpperCase().replace(/-/g, "_")}_API_KEY`;
      sink.add(
        "KEEL401",
        loc.span,
        sites.length === 0
          ? `provider '${p.id}' has a literal api_key: write \`\${{ secrets.${name} }}\` and set the secret instead`
          : `provider '${p.id}''s api_key must read a secret: \`\${{ secrets.${name} }}\``,
        {
          fixes: [
            {
              title: `Read the key from secrets.${name}`,
              span: loc.span,
              newText: `"\${{ secrets.${name} }}"`,
            },
          ],
        },
      );
    }
  }
  const stepsLoc = isObj(parts.top.steps) ? parts.root.children?.get("steps") : undefined;
  if (stepsLoc) reported.add(stepsLoc);
  scanStrings(parts.text, parts.top, parts.root, reported, sink);
  checkSecretsFromEnv(parts.text, analyzed, sink);
}

/** Credentials in the strings of one entry of `steps`, and secrets it reads through `env`. */
export function checkStepSecrets(
  text: string,
  value: unknown,
  loc: Loc,
  analyzed: readonly AnalyzedSite[],
  sink: DiagnosticSink,
): void {
  scanStrings(text, value, loc, NOTHING, sink);
  checkSecretsFromEnv(text, analyzed, sink);
}

/**
 * `env.KEEL_SECRET_NAME`: a secret read as an ordinary variable would be recorded with the run's
 * env snapshot and be no step's own secret; `secrets.NAME` is the way (docs/runner.md).
 */
function checkSecretsFromEnv(
  text: string,
  analyzed: readonly AnalyzedSite[],
  sink: DiagnosticSink,
): void {
  for (const { site, info } of analyzed) {
    for (const { segments } of info.refs) {
      const [root, name] = segments;
      if (root?.name !== "env" || !name?.name.startsWith(SECRET_PREFIX)) continue;
      const secret = name.name.slice(SECRET_PREFIX.length);
      const span = siteSpan(text, site, root.start, name.end);
      sink.add(
        "KEEL403",
        span,
        `\`env.${name.name}\` would record the secret in clear with the run's env: write \`secrets.${secret}\``,
        { fixes: [{ title: `Read it as secrets.${secret}`, span, newText: `secrets.${secret}` }] },
      );
    }
  }
}

const NOTHING: ReadonlySet<Loc> = new Set();

function scanStrings(
  text: string,
  value: unknown,
  loc: Loc,
  skip: ReadonlySet<Loc>,
  sink: DiagnosticSink,
): void {
  if (skip.has(loc)) return;
  if (typeof value === "string") {
    const m = CREDENTIAL.exec(value);
    if (!m) return;
    const span = stringSpan(text, loc, m.index, m.index + m[0].length);
    sink.add(
      "KEEL402",
      span,
      "this looks like a credential written into the file: move it to a secret and write `${{ secrets.NAME }}`",
    );
    return;
  }
  if (value === null || typeof value !== "object" || !loc.children) return;
  for (const [key, child] of loc.children) {
    scanStrings(text, (value as Record<string | number, unknown>)[key], child, skip, sink);
  }
}

function stringSpan(text: string, loc: Loc, start: number, end: number): Span {
  if (!loc.scalar || loc.viaAlias) return loc.span;
  const map = scalarSourceMap(text, loc.scalar);
  return { start: map[start]!, end: map[end - 1]! + 1 };
}
