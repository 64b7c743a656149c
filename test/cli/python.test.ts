// Python tools through the built CLI (docs/format.md, "Python tools"): the worker's script travels
// inside the bundle, `keel show` names the attempt's Python and lockfile, and `keel replay` answers
// the tool with no Python on the machine's PATH.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: py
defaults:
  python: { lockfile: ./requirements.txt }
steps:
  greet: { type: tool, uses: ./tools/greet.py#greet, with: { name: world } }
outputs:
  greeting: steps.greet.output.greeting
`;

const TOOL = `import sys

def greet(name):
    print("greeting", name)
    return {"greeting": "hello " + name, "python": sys.version.split()[0]}
`;

test("keel run calls a Python tool from the bundle, keel show names its Python and lockfile, keel replay needs no Python", () => {
  const dir = workspace({
    "py.keel.yaml": FLOW,
    "tools/greet.py": TOOL,
    "requirements.txt": "requests==2.32.0\n",
  });
  const run = keel(["run", "py.keel.yaml", "--json"], dir);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const result = JSON.parse(run.stdout) as { outputs: { greeting: string } };
  assert.equal(result.outputs.greeting, "hello world");
  const shown = keel(["show", "latest", "greet"], dir);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /Python 3\.\d+\.\d+, lockfile sha256 [0-9a-f]{12}/);
  assert.match(shown.stdout, /greeting world/);
  const replay = keel(["replay", "latest"], dir, {
    PATH: "/nonexistent",
    KEEL_PYTHON: "/nowhere/python",
  });
  assert.equal(replay.code, 0, replay.stderr + replay.stdout);
  assert.match(replay.stdout, /no divergence \(succeeded, 0 effects executed\)/);
});
