// Secret redaction (SPEC §4): a secret's value never reaches the store, a log or an export. Every
// text written is passed through here first; the value is replaced by «secret:NAME» in its plain,
// JSON-escaped, URL-encoded and base64 forms (DECISIONS §2).

export class Redactor {
  private readonly forms: [string, string][];

  constructor(secrets: Readonly<Record<string, string>>) {
    const forms = new Map<string, string>();
    for (const [name, value] of Object.entries(secrets)) {
      if (!value) continue;
      const mark = `«secret:${name}»`;
      const b64 = Buffer.from(value, "utf8").toString("base64");
      for (const form of [
        value,
        JSON.stringify(value).slice(1, -1),
        encodeURIComponent(value),
        b64,
        b64.replace(/=+$/, ""),
      ]) {
        if (form && !forms.has(form)) forms.set(form, mark);
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.forms = [...forms].sort((a, b) => b[0].length - a[0].length);
  }

  get active(): boolean {
    return this.forms.length > 0;
  }

  text(s: string): string {
    let out = s;
    for (const [form, mark] of this.forms) if (out.includes(form)) out = out.split(form).join(mark);
    return out;
  }

  /** A JSON value with every string redacted (keys too). */
  value<T>(v: T): T {
    if (!this.active) return v;
    return JSON.parse(this.text(JSON.stringify(v) ?? "null")) as T;
  }
}
