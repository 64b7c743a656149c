// Prints a fixture's diagnostics as annotation lines, or with --write inserts them into the file
// (a help for writing fixtures: every annotation must still be checked by eye before it is
// committed). Usage: node --import tsx scripts/annotate.ts [--write | --at-end] x.keel.yaml
// --at-end appends every annotation in the explicit form to the file's bytes (for block scalars,
// where a comment line would end the scalar, and for files that are not UTF-8).
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { LineIndex, validateBytes } from "@keel/core/index";
import { nodeHost } from "@keel/core/node/host";

const write = process.argv.includes("--write");
const atEnd = process.argv.includes("--at-end");
for (const file of process.argv.slice(2).filter((a) => !a.startsWith("--"))) {
  const { text, diagnostics } = validateBytes(readFileSync(file), {
    file: resolve(file),
    host: nodeHost,
  });
  const index = new LineIndex(text);
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r\n|\r|\n/);
  const after = new Map<number, string[]>();
  const positions = diagnostics.map((d) => ({
    d,
    s: index.position(d.start),
    e: index.position(d.end),
  }));
  // Explicit ranges name absolute lines of the annotated file: count the notes inserted above.
  const insertedBefore = (line: number) =>
    write ? positions.filter((p) => p.s.line < line).length : 0;
  for (const { d, s, e } of positions) {
    const note =
      s.line === e.line && e.character > s.character && s.character > 0
        ? `#${" ".repeat(s.character - 1)}${"^".repeat(e.character - s.character)} ${d.code} ${d.message}`
        : `# want ${s.line + 1 + insertedBefore(s.line)}:${s.character + 1}-${e.line + 1 + insertedBefore(e.line)}:${e.character + 1} ${d.code} ${d.message}`;
    const list = after.get(s.line) ?? [];
    list.push(note);
    after.set(s.line, list);
    if (!write) console.log(`${s.line + 1}| ${lines[s.line]}\n  ${note}`);
  }
  if (atEnd) {
    const notes = positions.map(
      ({ d, s, e }) =>
        `# want ${s.line + 1}:${s.character + 1}-${e.line + 1}:${e.character + 1} ${d.code} ${d.message}`,
    );
    const needsEol = text.length > 0 && !/[\r\n]$/.test(text);
    appendFileSync(file, (needsEol ? eol : "") + notes.join(eol) + eol);
  } else if (write) {
    const out: string[] = [];
    lines.forEach((line, i) => {
      out.push(line);
      for (const note of after.get(i) ?? []) out.push(note);
    });
    writeFileSync(file, out.join(eol));
  }
}
