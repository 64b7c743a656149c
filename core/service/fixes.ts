// Quick fixes for diagnostics: the fixes checks attach (`Diagnostic.fixes`), "did you mean"
// replacements, a literal credential moved to `${{ secrets.NAME }}`, an impure clock call replaced
// by the recorded clock, a repeated `needs` entry removed, and a bare expression put in quotes.
import type { Diagnostic, Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { suggestionIn } from "../model/suggest";
import type { WorkflowModel } from "../check/validate";
import type { TextEdit } from "./rename";

export interface QuickFix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
  /** The fix to apply when the user asks for "the" fix (VS Code's auto-fix). */
  readonly preferred?: boolean;
}

export function quickFixes(model: WorkflowModel, d: Diagnostic): QuickFix[] {
  const text = model.yaml.text;
  if (d.fixes && d.fixes.length > 0) {
    return d.fixes.map((f) => ({
      title: f.title,
      edits: [{ span: f.span, newText: f.newText }],
      preferred: d.fixes!.length === 1,
    }));
  }
  const fix = FIXERS[d.code]?.(model, d, text) ?? didYouMeanFix(d, text);
  return fix ? [fix] : [];
}

type Fixer = (model: WorkflowModel, d: Diagnostic, text: string) => QuickFix | undefined;

const FIXERS: Partial<Record<Diagnostic["code"], Fixer>> = {
  KEEL402: extractSecret,
  KEEL302: (_model, d, text) => {
    if (text.slice(d.end, d.end + 2) !== "()") return undefined;
    const call = text.slice(d.start, d.end);
    const instead =
      call === "$now"
        ? "run.started_at"
        : call === "$millis"
          ? "$toMillis(run.started_at)"
          : undefined;
    return instead
      ? {
          title: `Use the recorded clock: ${instead}`,
          edits: [{ span: { start: d.start, end: d.end + 2 }, newText: instead }],
          preferred: true,
        }
      : undefined;
  },
  KEEL211: (_model, d, text) => {
    const lineStart = text.lastIndexOf("\n", d.start - 1) + 1;
    if (/^\s*-\s*$/.test(text.slice(lineStart, d.start))) {
      const next = text.indexOf("\n", d.end);
      const end = next < 0 ? text.length : next + 1;
      return removal(lineStart, end);
    }
    const comma = text.slice(0, d.start).search(/,\s*$/);
    return comma < 0 ? undefined : removal(comma, d.end);
  },
  KEEL304: (_model, d, text) => quoted(text, d),
  KEEL301: (model, d, text) => {
    if (!d.message.includes("started a YAML comment")) return undefined;
    const loc = scalarAt(model.yaml.root, d.start);
    if (!loc) return undefined;
    const lineEnd = text.slice(loc.span.start).search(/\r?\n|\r|$/) + loc.span.start;
    return quoted(text, { start: loc.span.start, end: lineEnd });
  },
};

function removal(start: number, end: number): QuickFix {
  return {
    title: "Remove the repeated entry",
    edits: [{ span: { start, end }, newText: "" }],
    preferred: true,
  };
}

/** Puts a one-line value in single quotes, so YAML reads it as text. */
function quoted(text: string, span: Span): QuickFix | undefined {
  const value = text.slice(span.start, span.end).trimEnd();
  if (value === "" || /[\r\n]/.test(value)) return undefined;
  return {
    title: "Put the expression in quotes",
    edits: [
      {
        span: { start: span.start, end: span.start + value.length },
        newText: `'${value.replace(/'/g, "''")}'`,
      },
    ],
    preferred: true,
  };
}

/** "did you mean 'x'?": replace the word the diagnostic points at. */
function didYouMeanFix(d: Diagnostic, text: string): QuickFix | undefined {
  const suggestion = suggestionIn(d.message);
  if (suggestion === undefined) return undefined;
  let span: Span = d;
  let written = text.slice(d.start, d.end);
  const q = written[0];
  if ((q === '"' || q === "'") && written.length >= 2 && written.endsWith(q)) {
    span = { start: d.start + 1, end: d.end - 1 };
    written = written.slice(1, -1);
  }
  if (!/^\$?[\w-]+$/.test(written)) return undefined;
  return {
    title: `Change to '${suggestion}'`,
    edits: [{ span, newText: suggestion }],
    preferred: true,
  };
}

function extractSecret(model: WorkflowModel, d: Diagnostic, text: string): QuickFix | undefined {
  const found = scalarWithKey(model.yaml.root, d.start, undefined);
  if (!found?.loc.scalar || typeof found.loc.scalar.value !== "string") return undefined;
  const key = typeof found.key === "string" ? found.key : "secret";
  let name = key
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!/^[A-Z]/.test(name)) name = `SECRET_${name}`;
  const credential = text.slice(d.start, d.end);
  const bearer = credential.startsWith("Bearer ") ? "Bearer " : "";
  const reference = `${bearer}\${{ secrets.${name} }}`;
  const title = `Move the credential to a secret: \${{ secrets.${name} }}`;
  const scalar = found.loc.scalar;
  if (scalar.type === "PLAIN") {
    const value = scalar.value as string;
    return {
      title,
      edits: [
        { span: found.loc.span, newText: JSON.stringify(value.replace(credential, reference)) },
      ],
      preferred: true,
    };
  }
  return { title, edits: [{ span: d, newText: reference }], preferred: true };
}

function scalarAt(root: Loc | undefined, offset: number): Loc | undefined {
  return scalarWithKey(root, offset, undefined)?.loc;
}

/** The scalar containing `offset`, and the key it is the value of. */
function scalarWithKey(
  loc: Loc | undefined,
  offset: number,
  key: string | number | undefined,
): { loc: Loc; key: string | number | undefined } | undefined {
  if (!loc || offset < loc.span.start || offset > loc.span.end) return undefined;
  if (loc.scalar && !loc.viaAlias) return { loc, key };
  for (const [k, child] of loc.children ?? []) {
    const hit = scalarWithKey(child, offset, k);
    if (hit) return hit;
  }
  return undefined;
}
