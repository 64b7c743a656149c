// Prompt files on a team's workers (docs/team.md): the attempt that renders a prompt file stores
// the file's text in the run's record, so the input's `promptFile.hash` names a text the record
// holds, and the run pulled to a laptop replays from that text after the file was edited.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openPgStore } from "@keel/core/store/pg-store";
import { keel, workspace } from "../helpers/cli";
import { keelAsync } from "../helpers/otlp";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { killWorkers, startWorkerProcess } from "../helpers/workers";

const FLOW = `keel: 1
name: prompt on workers
providers:
  m: { type: scripted, default: "a summary" }
steps:
  sum: { type: llm, prompt_file: ./prompts/sum.md, with: { doc: "the release notes" } }
outputs:
  text: steps.sum.output
`;
const PROMPT = `---
inputs:
  doc: { type: string }
---
## system
You summarise.
## user
Summarise \${{ doc }}.
`;

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
let dir = "";

before(async () => {
  if (missing) return;
  server = await startPostgres();
  dir = workspace({ "p.keel.yaml": FLOW, "prompts/sum.md": PROMPT });
  writeFileSync(join(dir, "effects.log"), "");
  const worker = startWorkerProcess(server.url, "p1", dir, join(dir, "effects.log"));
  await worker.ready;
});
after(() => {
  killWorkers();
  server?.stop();
});

test(
  "a prompt file's text is in the record of a run on the workers, and its pulled copy replays from it after the file changed",
  { skip: missing },
  async () => {
    const run = await keelAsync(["run", "p.keel.yaml", "--on", server!.url, "--json"], dir);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const store = await openPgStore(server!.url, { readOnly: true });
    try {
      const [attempt] = await store.attempts(runId);
      const input = JSON.parse((await store.blob(attempt!.inputHash))!) as {
        promptFile: { path: string; hash: string };
      };
      assert.equal(input.promptFile.path, "./prompts/sum.md");
      assert.equal(await store.blob(input.promptFile.hash), PROMPT);
    } finally {
      await store.close();
    }
    const into = join(dir, "copy.sqlite");
    const pulled = keel(["pull", runId, "--store", server!.url, "--into", into], dir);
    assert.equal(pulled.code, 0, pulled.stderr);
    // The file is edited after the run: the replay renders the recorded text, --current the file.
    const saved = readFileSync(join(dir, "prompts/sum.md"), "utf8");
    writeFileSync(join(dir, "prompts/sum.md"), saved.replace("Summarise", "Condense"));
    try {
      const replay = keel(["replay", runId, "--store", into, "--json"], dir);
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      const report = JSON.parse(replay.stdout) as { divergence: unknown; effectsExecuted: number };
      assert.equal(report.divergence, null);
      assert.equal(report.effectsExecuted, 0);
      const current = keel(["replay", runId, "--store", into, "--current", "--json"], dir);
      assert.match(current.stdout, /prompts\/sum\.md/);
    } finally {
      writeFileSync(join(dir, "prompts/sum.md"), saved);
    }
  },
);
