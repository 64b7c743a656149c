// Workflow steps across files (docs/format.md, "Maps, child workflows and loops"): `keel validate`
// on a parent reads its child files through the Node host and reports, on the parent's lines,
// a missing child, a child with errors, `with:` against the child's inputs, output names, cycles
// between files and nesting past 8 levels. Parent and children live in temporary folders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keel, workspace } from "../../helpers/cli";
import { validate } from "@keel/core/check/validate";

interface Found {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

/** `keel validate --json` on `file` in a workspace holding `files`. */
function validateIn(files: Record<string, string>, file: string): Found[] {
  const dir = workspace(files);
  const r = keel(["validate", "--json", file], dir);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const list = JSON.parse(r.stdout) as {
    file: string;
    range: { start: { line: number } };
    code: string;
    message: string;
  }[];
  return list.map(({ file, range, code, message }) => ({
    file: file.startsWith(dir) ? file.slice(dir.length + 1) : file,
    line: range.start.line + 1,
    code,
    message,
  }));
}

const CHILD = `keel: 1
name: child
inputs:
  ticket: { type: object }
  language: { type: string, default: en }
  tries: { type: number, default: 1 }
steps:
  label: { type: transform, expr: 'inputs.ticket.title' }
outputs:
  label: steps.label.output
  tries: inputs.tries
`;

const parent = (step: string, more = "") => `keel: 1
name: parent
steps:
  child:
    type: workflow
${step}${more}`;

test("a parent whose child is valid and used as it declares is valid", () => {
  const found = validateIn(
    {
      "flows/child.keel.yaml": CHILD,
      "parent.keel.yaml": parent(
        "    uses: ./flows/child.keel.yaml\n    with: { ticket: { title: t }, tries: 2 }\n",
        "  read: { type: transform, expr: 'steps.child.output.label & steps.child.output.tries' }\n",
      ),
    },
    "parent.keel.yaml",
  );
  assert.deepEqual(found, []);
});

test("a child file that does not exist is an error on uses naming the path looked for", () => {
  const found = validateIn(
    { "parent.keel.yaml": parent("    uses: ./flows/none.keel.yaml\n") },
    "parent.keel.yaml",
  );
  assert.deepEqual(found, [
    {
      file: "parent.keel.yaml",
      line: 6,
      code: "KEEL602",
      message:
        "child workflow './flows/none.keel.yaml' does not exist (looked for flows/none.keel.yaml): `uses:` is relative to this file's folder",
    },
  ]);
});

test("a child with errors makes one error on uses, counting them and quoting the first with its line", () => {
  const broken =
    "keel: 1\nname: b\nsteps:\n  a: { type: transform, expr: steps.nope.output }\n  b: { type: transform, expr: inputs.x }\n";
  const found = validateIn(
    { "child.keel.yaml": broken, "parent.keel.yaml": parent("    uses: ./child.keel.yaml\n") },
    "parent.keel.yaml",
  );
  assert.deepEqual(
    found.filter((f) => f.file === "parent.keel.yaml"),
    [
      {
        file: "parent.keel.yaml",
        line: 6,
        code: "KEEL603",
        message:
          "the child workflow './child.keel.yaml' has 2 errors (first: child.keel.yaml:4: unknown step 'nope')",
      },
    ],
  );
});

test("with: unknown inputs (with did-you-mean), required inputs missing, literals of the wrong type; unknown output names", () => {
  const found = validateIn(
    {
      "child.keel.yaml": CHILD,
      "parent.keel.yaml": parent(
        "    uses: ./child.keel.yaml\n    with: { tiket: {}, tries: many }\n",
        "  read: { type: transform, expr: 'steps.child.output.lable' }\n",
      ),
    },
    "parent.keel.yaml",
  );
  assert.deepEqual(
    found.map((f) => [f.code, f.message]),
    [
      [
        "KEEL605",
        "child workflow './child.keel.yaml' needs input 'ticket' (it has no default): add `ticket:` to `with:`",
      ],
      [
        "KEEL604",
        "child workflow './child.keel.yaml' has no input 'tiket': did you mean 'ticket'?",
      ],
      ["KEEL606", `the child's input 'tries' is the string "many", but its type is number`],
      [
        "KEEL607",
        "steps.child.output has no 'lable': the output of workflow step 'child' is the outputs of './child.keel.yaml': did you mean 'label'?",
      ],
    ],
  );
});

test("files that use each other in a cycle: an error on uses naming the whole cycle", () => {
  const uses = (target: string) =>
    `keel: 1\nname: n\nsteps:\n  next:\n    type: workflow\n    uses: ./${target}\n`;
  const found = validateIn(
    { "a.keel.yaml": uses("b.keel.yaml"), "b.keel.yaml": uses("a.keel.yaml") },
    "a.keel.yaml",
  );
  assert.deepEqual(found, [
    {
      file: "a.keel.yaml",
      line: 6,
      code: "KEEL608",
      message:
        "workflow files use each other in a cycle: a.keel.yaml → b.keel.yaml → a.keel.yaml: a workflow cannot run itself, directly or through its children",
    },
  ]);
  const itself = validateIn({ "a.keel.yaml": uses("a.keel.yaml") }, "a.keel.yaml");
  assert.deepEqual(
    itself.map((f) => f.message),
    [
      "workflow files use each other in a cycle: a.keel.yaml → a.keel.yaml: a workflow cannot run itself, directly or through its children",
    ],
  );
});

test("children nest at most 8 levels deep", () => {
  const chain = (levels: number): Record<string, string> => {
    const files: Record<string, string> = {};
    for (let i = 0; i < levels; i++) {
      files[`n${i}.keel.yaml`] =
        `keel: 1\nname: n\nsteps:\n  next:\n    type: workflow\n    uses: ./n${i + 1}.keel.yaml\n`;
    }
    files[`n${levels}.keel.yaml`] =
      "keel: 1\nname: n\nsteps:\n  end: { type: transform, expr: 1 }\n";
    return files;
  };
  assert.deepEqual(validateIn(chain(8), "n0.keel.yaml"), []);
  const deep = validateIn(chain(9), "n0.keel.yaml");
  assert.deepEqual(
    deep.map((f) => [f.file, f.code, f.message]),
    [
      [
        "n0.keel.yaml",
        "KEEL608",
        "child workflows nest 9 levels deep here (n0.keel.yaml → n1.keel.yaml → n2.keel.yaml → n3.keel.yaml → n4.keel.yaml → n5.keel.yaml → n6.keel.yaml → n7.keel.yaml → n8.keel.yaml → n9.keel.yaml), more than the limit of 8",
      ],
    ],
  );
});

test("without a host (the browser) the child is not read: only the form of uses is checked", () => {
  const text = parent("    uses: ./none.keel.yaml\n    with: { anything: 1 }\n");
  assert.deepEqual(validate(text, { file: "/x/parent.keel.yaml" }).diagnostics, []);
  const bad = validate(parent("    uses: child.keel.yaml\n")).diagnostics;
  assert.deepEqual(
    bad.map((d) => d.code),
    ["KEEL601"],
  );
});
