// A recorded run with a map step, for the webview tests of maps: `split` makes a list, `summarize`
// (for_each, on_item_error continue) runs one item per document, `digest` reads the list. Items
// run one after another, each a step_started and a step_succeeded (or step_failed) with its scope,
// as the runner records them (docs/dev/scopes.md); every `failEvery`-th item fails.
import type { GraphMessage } from "@keel/core/protocol/webview";

export const mapGraph: GraphMessage = {
  type: "graph",
  uri: "file:///w/digest.keel.yaml",
  name: "digest",
  steps: [
    { id: "split", type: "transform", line: 5, conditional: false },
    { id: "summarize", type: "llm", line: 10, conditional: false, map: true },
    { id: "digest", type: "llm", line: 20, conditional: false },
  ],
  edges: [
    { from: "summarize", to: "split" },
    { from: "digest", to: "summarize" },
  ],
  errors: 0,
};

export const keyOf = (i: number) => `doc-${i}`;

/** Where things are in the log of mapRecording(n): indexes (0-based) into its events. */
export const at = {
  expanded: 4,
  /** Item i's step_started and its end. */
  itemStarted: (i: number) => 5 + 2 * i,
  itemEnded: (i: number) => 6 + 2 * i,
};

export function mapRecording(n: number, failEvery = 21): Record<string, unknown> {
  const t0 = Date.parse("2026-11-23T10:00:00.000Z");
  const t = (ms: number) => new Date(t0 + ms).toISOString();
  const events: Record<string, unknown>[] = [];
  const attempts: Record<string, unknown>[] = [];
  const ev = (
    type: string,
    stepId: string | null,
    scope: string | null,
    attempt: number | null,
    data: Record<string, unknown> | null = null,
  ) =>
    events.push({
      runId: "01MAP",
      seq: events.length + 1,
      type,
      stepId,
      scope,
      attempt,
      at: t(events.length * 100),
      data,
    });
  const attempt = (
    stepId: string,
    scope: string | null,
    from: number,
    over: Record<string, unknown> = {},
  ) =>
    attempts.push({
      runId: "01MAP",
      stepId,
      scope,
      attempt: 1,
      status: "succeeded",
      origin: "live",
      inputHash: `={"doc":${JSON.stringify(scope ?? stepId)}}`,
      outputHash: `="summary of ${scope ?? stepId}"`,
      errorKind: null,
      errorMessage: null,
      startedAt: t(from * 100),
      endedAt: t((from + 1) * 100),
      cacheKey: null,
      sourceRunId: null,
      meta: null,
      ...over,
    });
  const keys = Array.from({ length: n }, (_, i) => keyOf(i));
  ev("run_started", null, null, null, { inputs: {} });
  ev("step_started", "split", null, null);
  attempt("split", null, 1, { outputHash: `=${JSON.stringify(keys)}` });
  ev("step_succeeded", "split", null, 1, { output: `=${JSON.stringify(keys)}` });
  ev("step_started", "summarize", null, null);
  ev("expanded", "summarize", null, null, { count: n, keys, list: '="…"', concurrency: 1 });
  keys.forEach((key, i) => {
    const scope = `[${key}]`;
    ev("step_started", "summarize", scope, null);
    const fails = (i + 1) % failEvery === 0;
    if (fails) {
      attempt("summarize", scope, events.length - 1, {
        status: "failed",
        outputHash: null,
        errorKind: "server_error",
        errorMessage: "500 from the provider",
        meta: { provider: "openai", model: "gpt-x", costUsd: 0 },
      });
      ev("step_failed", "summarize", scope, 1, {
        kind: "server_error",
        message: "500 from the provider",
        continued: true,
      });
    } else {
      attempt("summarize", scope, events.length - 1, {
        meta: { provider: "openai", model: "gpt-x", costUsd: 0.0012 },
      });
      ev("step_succeeded", "summarize", scope, 1, { output: `="summary of ${key}"` });
    }
  });
  ev("step_succeeded", "summarize", null, null, { output: '="the list"' });
  ev("step_started", "digest", null, null);
  attempt("digest", null, events.length - 1);
  ev("step_succeeded", "digest", null, 1, { output: '="digest"' });
  ev("run_finished", null, null, null, { status: "succeeded" });
  return {
    type: "recording",
    runId: "01MAP",
    status: "succeeded",
    startedAt: t(0),
    events,
    attempts,
  };
}
