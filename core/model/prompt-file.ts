// Prompt files (docs/format.md "Prompt files"): a Markdown file with a YAML front matter of
// `inputs` and `params`, whose `## system`, `## user` and `## assistant` headings make messages
// (no heading: one user prompt), or a GitHub Models `.prompt.yml` (`messages` with `{{var}}`).
// Pure and browser-safe: the runner renders what this returns, the checks read it as you type.
// Invariant: parsing never throws; every problem is a PromptProblem with a range in the file.
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type YAMLMap } from "yaml";
import type { Span } from "./diagnostic";
import { LineIndex } from "./line-index";

export type PromptRole = "system" | "user" | "assistant";

/** How the variables of a message are written. */
export type PromptSyntax = "keel" | "mustache";

export interface PromptMessage {
  readonly role: PromptRole;
  /** The message text as written, templates included. */
  readonly text: string;
  /** Offset of `text` in the file. */
  readonly start: number;
  /** Offset of the message's heading (or of its first character when it has none). */
  readonly headingStart: number;
}

export interface PromptInput {
  readonly name: string;
  /** `string`, `number`, `integer`, `boolean`, `object`, `array` or `any`. */
  readonly type: string;
  readonly default?: unknown;
  readonly description?: string;
  readonly required: boolean;
  /** The input's name in the front matter (of its placeholder, in a `.prompt.yml`). */
  readonly span: Span;
}

export interface PromptProblem extends Span {
  readonly message: string;
}

export interface PromptFile {
  readonly syntax: PromptSyntax;
  readonly messages: readonly PromptMessage[];
  /** Declared inputs by name (a `.prompt.yml`'s placeholders, all required text). */
  readonly inputs: ReadonlyMap<string, PromptInput>;
  /** Model parameters, merged under the step's own `params`. */
  readonly params: Readonly<Record<string, unknown>>;
  /** A model named by the file, used when the step names none. */
  readonly model?: string;
  /** False when the front matter could not be read, so the inputs are not known. */
  readonly inputsKnown: boolean;
  /** True when the body had no role heading: the whole body is the one prompt. */
  readonly headless: boolean;
  readonly problems: readonly PromptProblem[];
  /** The file's lines, for `lineOf`. */
  readonly lines: LineIndex;
}

const INPUT_TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "any"]);
const FRONT_KEYS = new Set(["inputs", "params", "model", "name", "description"]);
const HEADING = /^##[ \t]+(system|user|assistant)[ \t]*$/i;
/** A `.prompt.yml` placeholder: `{{name}}`. */
export const MUSTACHE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

const cache = new Map<string, PromptFile>();

/** Whether a path names a GitHub Models prompt (`.prompt.yml` / `.prompt.yaml`). */
export function isPromptYaml(path: string): boolean {
  return /\.prompt\.ya?ml$/i.test(path);
}

/** The prompt file `text` at `path` (its extension chooses the format); cached by content. */
export function parsePromptFile(text: string, path: string): PromptFile {
  const key = (isPromptYaml(path) ? "y:" : "m:") + text;
  let hit = cache.get(key);
  if (!hit) {
    hit = isPromptYaml(path) ? parsePromptYaml(text) : parseMarkdown(text);
    if (cache.size > 200) cache.clear();
    cache.set(key, hit);
  }
  return hit;
}

/** The 1-based line of an offset of the file. */
export function lineOf(file: PromptFile, offset: number): number {
  return file.lines.position(offset).line + 1;
}

/** The 1-based line at which two texts of a prompt file first differ (null when equal). */
export function firstChangedLine(before: string, after: string): number | null {
  if (before === after) return null;
  let i = 0;
  while (i < before.length && i < after.length && before[i] === after[i]) i++;
  let line = 1;
  for (let j = 0; j < i; j++) if (after[j] === "\n") line++;
  return line;
}

function parseMarkdown(text: string): PromptFile {
  const problems: PromptProblem[] = [];
  const inputs = new Map<string, PromptInput>();
  let params: Record<string, unknown> = {};
  let model: string | undefined;
  let bodyStart = 0;
  let inputsKnown = true;
  const open = /^---[ \t]*\r?\n/.exec(text);
  if (open) {
    const close = /^---[ \t]*$/m;
    const rest = text.slice(open[0].length);
    const end = close.exec(rest);
    if (!end) {
      problems.push({
        start: 0,
        end: 3,
        message:
          "the front matter opened by `---` on line 1 is never closed: end it with a `---` line",
      });
      bodyStart = text.length;
      inputsKnown = false;
    } else {
      const yamlStart = open[0].length;
      const yamlText = rest.slice(0, end.index);
      const front = readFrontMatter(yamlText, yamlStart, problems);
      inputsKnown = front.known;
      for (const i of front.inputs) inputs.set(i.name, i);
      params = front.params;
      model = front.model;
      const after = yamlStart + end.index + end[0].length;
      bodyStart = text[after] === "\r" ? after + 2 : text[after] === "\n" ? after + 1 : after;
    }
  }
  const { messages, headless } = splitBody(text, bodyStart, problems);
  return {
    syntax: "keel",
    messages,
    inputs,
    params,
    model,
    inputsKnown,
    headless,
    problems,
    lines: new LineIndex(text),
  };
}

interface FrontMatter {
  inputs: PromptInput[];
  params: Record<string, unknown>;
  model?: string;
  known: boolean;
}

function readFrontMatter(yamlText: string, offset: number, problems: PromptProblem[]): FrontMatter {
  const doc = parseDocument(yamlText, { keepSourceTokens: false });
  const at = (node: YamlNode | null | undefined, fallback: Span): Span =>
    node?.range ? { start: offset + node.range[0], end: offset + node.range[1] } : fallback;
  const whole = { start: offset, end: offset + yamlText.length };
  for (const e of doc.errors) {
    problems.push({
      start: offset + e.pos[0],
      end: offset + Math.max(e.pos[1], e.pos[0] + 1),
      message: `the front matter is not valid YAML: ${yamlMessage(e.message)}`,
    });
  }
  const out: FrontMatter = { inputs: [], params: {}, known: true };
  if (doc.errors.length > 0) return { ...out, known: false };
  if (doc.contents === null) return out;
  if (!isMap(doc.contents)) {
    problems.push({ ...at(doc.contents, whole), message: "the front matter must be a mapping" });
    return { ...out, known: false };
  }
  for (const pair of (doc.contents as YAMLMap).items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    const keySpan = at(pair.key as YamlNode, whole);
    const value = pair.value as YamlNode | null;
    if (!FRONT_KEYS.has(key)) {
      problems.push({
        ...keySpan,
        message: `unknown front matter key \`${key}\`: a prompt file declares \`inputs\`, \`params\`, \`model\`, \`name\` and \`description\``,
      });
    } else if (key === "inputs") {
      if (value === null || (isScalar(value) && value.value === null)) continue;
      if (!isMap(value)) {
        problems.push({
          ...at(value, keySpan),
          message: "`inputs` must map names to { type, default, description }",
        });
        continue;
      }
      for (const ip of value.items) {
        const name = isScalar(ip.key) ? String(ip.key.value) : "";
        const nameSpan = at(ip.key as YamlNode, keySpan);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          problems.push({
            ...nameSpan,
            message: `input name \`${name}\` must be a name (letters, digits, _)`,
          });
          continue;
        }
        const decl = ip.value as YamlNode | null;
        const plain: unknown = decl === null ? null : decl.toJSON();
        let type = "string";
        let def: unknown;
        let description: string | undefined;
        let hasDefault = false;
        if (typeof plain === "string") type = plain;
        else if (plain !== null && typeof plain === "object" && !Array.isArray(plain)) {
          const o = plain as Record<string, unknown>;
          for (const k of Object.keys(o)) {
            if (k !== "type" && k !== "default" && k !== "description")
              problems.push({
                ...at(decl, nameSpan),
                message: `input \`${name}\`: unknown key \`${k}\` (type, default, description)`,
              });
          }
          if (o.type !== undefined) type = String(o.type);
          if ("default" in o) {
            hasDefault = true;
            def = o.default;
          }
          if (typeof o.description === "string") description = o.description;
        } else if (plain !== null) {
          problems.push({
            ...at(decl, nameSpan),
            message: `input \`${name}\` must be { type, default, description } or a type name`,
          });
        }
        if (!INPUT_TYPES.has(type)) {
          problems.push({
            ...at(decl, nameSpan),
            message: `input \`${name}\`: unknown type \`${type}\` (string, number, integer, boolean, object, array, any)`,
          });
          type = "any";
        }
        out.inputs.push({
          name,
          type,
          ...(hasDefault ? { default: def } : {}),
          ...(description !== undefined ? { description } : {}),
          required: !hasDefault,
          span: nameSpan,
        });
      }
    } else if (key === "params") {
      const plain: unknown = value?.toJSON();
      if (plain === null || typeof plain !== "object" || Array.isArray(plain)) {
        problems.push({
          ...at(value, keySpan),
          message: "`params` must be a mapping of model parameters",
        });
      } else out.params = plain as Record<string, unknown>;
    } else if (key === "model") {
      const plain: unknown = value?.toJSON();
      if (typeof plain === "string") out.model = plain;
      else problems.push({ ...at(value, keySpan), message: "`model` must be text" });
    }
  }
  return out;
}

function splitBody(
  text: string,
  from: number,
  problems: PromptProblem[],
): { messages: PromptMessage[]; headless: boolean } {
  const headings: { role: PromptRole; start: number; next: number }[] = [];
  let at = from;
  let fence = false;
  while (at < text.length) {
    const nl = text.indexOf("\n", at);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(at, end).replace(/\r$/, "");
    if (/^(```|~~~)/.test(line)) fence = !fence;
    const m = fence ? null : HEADING.exec(line);
    if (m)
      headings.push({
        role: m[1]!.toLowerCase() as PromptRole,
        start: at,
        next: nl < 0 ? end : nl + 1,
      });
    at = nl < 0 ? text.length : nl + 1;
  }
  if (headings.length === 0) {
    const [start, body] = trimmed(text, from, text.length);
    return { messages: [{ role: "user", text: body, start, headingStart: start }], headless: true };
  }
  const [leadStart, lead] = trimmed(text, from, headings[0]!.start);
  if (lead.length > 0) {
    problems.push({
      start: leadStart,
      end: leadStart + lead.length,
      message:
        "text before the first `## system`, `## user` or `## assistant` heading belongs to no message: move it under a heading",
    });
  }
  const messages = headings.map((h, i) => {
    const [start, body] = trimmed(text, h.next, headings[i + 1]?.start ?? text.length);
    return { role: h.role, text: body, start, headingStart: h.start };
  });
  return { messages, headless: false };
}

/** The text between `from` and `to` without its leading blank lines and trailing whitespace. */
function trimmed(text: string, from: number, to: number): [number, string] {
  let start = from;
  for (;;) {
    const m = /^[ \t]*\r?\n/.exec(text.slice(start, to));
    if (!m) break;
    start += m[0].length;
  }
  return [start, text.slice(start, to).trimEnd()];
}

function parsePromptYaml(text: string): PromptFile {
  const problems: PromptProblem[] = [];
  const doc = parseDocument(text);
  const messages: PromptMessage[] = [];
  const inputs = new Map<string, PromptInput>();
  let params: Record<string, unknown> = {};
  let model: string | undefined;
  const span = (n: YamlNode | null | undefined): Span =>
    n?.range ? { start: n.range[0], end: n.range[1] } : { start: 0, end: 0 };
  for (const e of doc.errors) {
    problems.push({
      start: e.pos[0],
      end: Math.max(e.pos[1], e.pos[0] + 1),
      message: `not valid YAML: ${yamlMessage(e.message)}`,
    });
  }
  const top = doc.contents;
  if (doc.errors.length === 0 && !isMap(top)) {
    problems.push({
      start: 0,
      end: text.length,
      message: "a .prompt.yml must be a mapping with `messages`",
    });
  } else if (isMap(top)) {
    const msgs = top.get("messages", true) as YamlNode | undefined;
    if (!isSeq(msgs)) {
      problems.push({
        start: 0,
        end: Math.min(text.length, 1),
        message: "a .prompt.yml needs `messages: [{ role, content }]`",
      });
    } else {
      for (const item of msgs.items as YamlNode[]) {
        const role = isMap(item) ? item.get("role") : undefined;
        const content = isMap(item)
          ? (item.get("content", true) as YamlNode | undefined)
          : undefined;
        if (role !== "system" && role !== "user" && role !== "assistant") {
          problems.push({
            ...span(item),
            message: "each message needs `role: system`, `user` or `assistant`",
          });
          continue;
        }
        if (!isScalar(content) || typeof content.value !== "string") {
          problems.push({ ...span(item), message: "each message needs `content` text" });
          continue;
        }
        // A block or plain scalar's text starts at its source; quoted ones after the quote.
        const s = span(content);
        const quoted = content.type === "QUOTE_DOUBLE" || content.type === "QUOTE_SINGLE";
        const block = content.type === "BLOCK_LITERAL" || content.type === "BLOCK_FOLDED";
        const start = block ? text.indexOf("\n", s.start) + 1 : quoted ? s.start + 1 : s.start;
        messages.push({ role, text: content.value, start, headingStart: span(item).start });
        for (const m of content.value.matchAll(MUSTACHE)) {
          const name = m[1]!;
          if (inputs.has(name)) continue;
          const off = text.indexOf(m[0], start);
          const at = off >= 0 ? off : s.start;
          inputs.set(name, {
            name,
            type: "string",
            required: true,
            span: { start: at, end: at + m[0].length },
          });
        }
      }
    }
    const mp: unknown = (top.get("modelParameters", true) as YamlNode | undefined)?.toJSON();
    if (mp !== undefined && mp !== null && typeof mp === "object" && !Array.isArray(mp))
      params = snakeParams(mp as Record<string, unknown>);
    const m = top.get("model");
    if (typeof m === "string") model = m;
  }
  return {
    syntax: "mustache",
    messages,
    inputs,
    params,
    model,
    inputsKnown: doc.errors.length === 0,
    headless: false,
    problems,
    lines: new LineIndex(text),
  };
}

/** A YAML error's first line, without its own line and column (the problem's range says where). */
function yamlMessage(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** GitHub Models writes `maxTokens`, `topP`; providers take `max_tokens`, `top_p`. */
function snakeParams(p: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(p).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()), v]),
  );
}
