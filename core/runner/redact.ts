// Secret redaction (docs/runner.md, "Secrets"): a secret's value never reaches the store, a log or
// an export. Redaction works on values, never on serialised text: every string of a value (keys
// too) is rewritten, then the value is serialised. A secret is replaced in every form Keel itself
// produces: plain, JSON-escaped (once and twice: a JSON body inside a JSON record), URL-, form- and
// path-encoded, base64 (of its UTF-8 and of its Latin-1 bytes, as JSONata's `$base64encode`
// makes it, at any alignment), each line of a multi-line secret, and a cut-off start of it at the
// end of a string (a message that keeps the first 200 characters of a reply).
// Each encoded form becomes the same encoding of the mark `«secret:NAME»`, so that a replay, whose
// secrets are the marks, computes exactly what was recorded.
import { MIN_SECRET_LENGTH } from "../check/secrets";

export function secretMark(name: string): string {
  return `«secret:${name}»`;
}

interface Secret {
  readonly mark: string;
  readonly value: string;
  /** The secret's bytes as base64 encoders see them, and the bytes of its mark in the same encoding. */
  readonly bytes: readonly { readonly secret: Buffer; readonly mark: Buffer }[];
}

/** A base64 run: long enough to hold a secret, with its padding. */
const BASE64_RUN = /[A-Za-z0-9+/]{8,}={0,2}/g;

export class Redactor {
  private readonly forms: [string, string][];
  /**
   * Texts one of which any string holding a secret contains (its forms, and the start of a long
   * secret, which any cut-off start holds too), raw and as they read inside JSON text: a value
   * without any is returned as it is, without a walk.
   */
  private readonly triggers: string[];
  private readonly jsonTriggers: string[];
  private readonly secrets: Secret[] = [];

  constructor(secrets: Readonly<Record<string, string>>) {
    const forms = new Map<string, string>();
    const add = (form: string, mark: string) => {
      if (form.length > 0 && !forms.has(form)) forms.set(form, mark);
    };
    for (const [name, value] of Object.entries(secrets)) {
      const mark = secretMark(name);
      // A replay's secrets are their marks already: nothing to hide, and its record must stay
      // as it computes it.
      if (!value || value === mark) continue;
      add(value, mark);
      // A secret too short to be told from ordinary text (the CLI refuses one, see
      // core/node/secrets.ts) is masked in its plain form only, in strings: never in ids, hashes
      // or serialised JSON, which it would break.
      if (value.length < MIN_SECRET_LENGTH) continue;
      const latin1 = [...value].every((c) => c.charCodeAt(0) <= 0xff);
      this.secrets.push({
        mark,
        value,
        bytes: [
          // Latin-1 first: a secret that is ASCII is the same bytes either way, and JSONata's
          // `$base64encode` encodes Latin-1, so the mark goes back the way a replay encodes it.
          ...(latin1
            ? [{ secret: Buffer.from(value, "latin1"), mark: Buffer.from(mark, "latin1") }]
            : []),
          { secret: Buffer.from(value, "utf8"), mark: Buffer.from(mark, "utf8") },
        ],
      });
      const escaped = JSON.stringify(value).slice(1, -1);
      add(escaped, mark);
      add(JSON.stringify(escaped).slice(1, -1), mark);
      for (const encode of ENCODINGS) {
        const form = encode(value);
        if (form !== undefined) add(form, encode(mark) ?? mark);
      }
      // The lines of a multi-line secret (a PEM key) stand alone in a command's stderr tail.
      if (/[\r\n]/.test(value)) {
        for (const line of value.split(/\r?\n|\r/)) {
          const trimmed = line.trim();
          if (trimmed.length >= MIN_SECRET_LENGTH) add(trimmed, mark);
        }
      }
      // Base64 at any alignment: the characters that depend on the secret's bytes alone.
      for (const { secret } of this.secrets.at(-1)!.bytes) {
        for (const core of base64Cores(secret))
          if (core.length >= MIN_SECRET_LENGTH) add(core, mark);
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.forms = [...forms].sort((a, b) => b[0].length - a[0].length);
    const triggers = new Set(forms.keys());
    for (const { value } of this.secrets) {
      let start = value.slice(0, MIN_SECRET_LENGTH);
      // Not half a surrogate pair, which JSON text would show escaped.
      if (/[\ud800-\udbff]$/.test(start)) start = start.slice(0, -1);
      triggers.add(start);
    }
    this.triggers = [...triggers];
    this.jsonTriggers = [...new Set(this.triggers.map((t) => JSON.stringify(t).slice(1, -1)))];
  }

  get active(): boolean {
    return this.forms.length > 0;
  }

  /** The length of the longest text this replaces: a live print holds back one less (stream.ts). */
  get longest(): number {
    return this.forms[0]?.[0].length ?? 0;
  }

  /**
   * `at`, or past the end of every secret that starts before `at` in `s` and ends after it: a
   * place to cut `s` that splits no secret in two.
   */
  safeCut(s: string, at: number): number {
    for (let moved = true; moved;) {
      moved = false;
      for (const [form] of this.forms) {
        const from = Math.max(0, at - form.length + 1);
        for (let i = s.indexOf(form, from); i >= 0 && i < at; i = s.indexOf(form, i + 1)) {
          if (i + form.length > at) {
            at = i + form.length;
            moved = true;
          }
        }
      }
    }
    return at;
  }

  /** A string with every secret replaced by its mark. */
  text(s: string): string {
    if (!this.active || !this.triggers.some((t) => s.includes(t))) return s;
    let out = this.base64(s);
    for (const [form, mark] of this.forms) if (out.includes(form)) out = out.split(form).join(mark);
    return this.cutOff(out);
  }

  /**
   * A JSON value with every string redacted (keys too), walked: never its serialised text, which
   * a short secret could break. Parts without a secret are the same objects.
   */
  value<T>(v: T): T {
    if (!this.active) return v;
    if (v !== null && typeof v === "object") {
      const json = JSON.stringify(v);
      if (json === undefined || !this.jsonTriggers.some((t) => json.includes(t))) return v;
    }
    return this.walk(v) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === "string") return this.text(v);
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        const r = this.walk(item);
        if (r !== item) (out ??= v.slice())[i] = r;
      }
      return out ?? v;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    let out: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(v)) {
      const k = this.text(key);
      const r = this.walk(item);
      if (k !== key || r !== item) {
        out ??= { ...(v as Record<string, unknown>) };
        if (k !== key) delete out[key];
        out[k] = r;
      }
    }
    return out ?? v;
  }

  /** Base64 runs that decode to bytes holding a secret: decoded, the secret's bytes replaced, encoded again. */
  private base64(s: string): string {
    return s.replace(BASE64_RUN, (run) => {
      let bytes: Buffer = Buffer.from(run, "base64");
      let changed = false;
      for (const secret of this.secrets) {
        for (const form of secret.bytes) {
          if (bytes.indexOf(form.secret) < 0) continue;
          bytes = replaceBytes(bytes, form.secret, form.mark);
          changed = true;
        }
      }
      if (!changed) return run;
      const encoded = bytes.toString("base64");
      return run.endsWith("=") ? encoded : encoded.replace(/=+$/, "");
    });
  }

  /** A secret cut off at the end of a string (a message keeping a reply's first characters). */
  private cutOff(s: string): string {
    const last = s.at(-1)!;
    for (const { value, mark } of this.secrets) {
      for (let k = value.length - 1; k >= MIN_SECRET_LENGTH; k--) {
        if (value[k - 1] === last && s.endsWith(value.slice(0, k)))
          return s.slice(0, s.length - k) + mark;
      }
    }
    return s;
  }
}

/** The encodings Keel applies to a value it puts in a URL or a form. */
const ENCODINGS: readonly ((v: string) => string | undefined)[] = [
  (v) => encodeURIComponent(v),
  // A query parameter (`query:`), as URLSearchParams writes it: a space is `+`.
  (v) => new URLSearchParams([["", v]]).toString().slice(1),
  // A value templated into a URL's path or its query by hand, as `new URL` normalises it.
  (v) => urlPart(v, "path"),
  (v) => urlPart(v, "query"),
];

function urlPart(v: string, part: "path" | "query"): string | undefined {
  if (/[#]/.test(v) || (part === "path" && /[/?\\]/.test(v))) return undefined;
  try {
    const url = new URL(part === "path" ? `http://h/${v}` : `http://h/?${v}`);
    return part === "path" ? url.pathname.slice(1) : url.search.slice(1);
  } catch {
    return undefined;
  }
}

/** The base64 characters that depend on `bytes` alone, when they follow 0, 1 or 2 other bytes. */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const text = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    const skip = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    cores.push(text.slice(skip, end));
  }
  return cores;
}

function replaceBytes(bytes: Buffer, from: Buffer, to: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = bytes.indexOf(from); i >= 0; i = bytes.indexOf(from, at)) {
    parts.push(bytes.subarray(at, i), to);
    at = i + from.length;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}
