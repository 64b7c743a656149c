// The RunStore conformance suite: every store implementation must pass all of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RunStore } from "@keel/core/store/run-store";
import type { AttemptRecord, EventRecord, RunRecord } from "@keel/core/record/records";

export function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    workflowPath: "/w/flow.keel.yaml",
    workflowName: "flow",
    sourceHash: "src",
    inputsHash: "in",
    status: "running",
    mode: "run",
    parentId: null,
    parentScope: null,
    startedAt: "2026-11-23T10:00:00.000Z",
    endedAt: null,
    outputsHash: null,
    error: null,
    ownerPid: 42,
    heartbeatAt: "2026-11-23T10:00:00.000Z",
    ...over,
  };
}

export function event(runId: string, seq: number, over: Partial<EventRecord> = {}): EventRecord {
  return {
    runId,
    seq,
    type: "step_started",
    stepId: "a",
    scope: null,
    attempt: 1,
    at: "2026-11-23T10:00:01.000Z",
    data: null,
    ...over,
  };
}

export function attempt(
  runId: string,
  stepId: string,
  n: number,
  over: Partial<AttemptRecord> = {},
): AttemptRecord {
  return {
    runId,
    stepId,
    scope: null,
    attempt: n,
    status: "succeeded",
    origin: "live",
    inputHash: "i",
    outputHash: "o",
    errorKind: null,
    errorMessage: null,
    startedAt: `2026-11-23T10:00:0${n}.000Z`,
    endedAt: `2026-11-23T10:00:0${n}.500Z`,
    cacheKey: null,
    sourceRunId: null,
    meta: { model: "m-1", usage: { input: 3, output: 4 } },
    ...over,
  };
}

/** Registers the suite; `open` gives a fresh, empty store for each test. */
export function describeRunStore(name: string, open: () => Promise<RunStore>): void {
  const withStore = (title: string, fn: (s: RunStore) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  withStore(
    "a committed run, its events, attempts, blobs and findings read back as written",
    async (s) => {
      const r = run("01A");
      await s.commit({
        runs: [r],
        blobs: [{ hash: "h1", text: '{"x":1}' }],
        events: [
          event("01A", 1, { type: "run_started", stepId: null, attempt: null }),
          event("01A", 2, { data: { k: [1, "two"] } }),
        ],
        attempts: [attempt("01A", "a", 1)],
        findings: [
          { runId: "01A", kind: "provider_drift", message: "model changed", data: { step: "a" } },
        ],
      });
      assert.deepEqual(await s.getRun("01A"), r);
      assert.deepEqual(await s.events("01A"), [
        event("01A", 1, { type: "run_started", stepId: null, attempt: null }),
        event("01A", 2, { data: { k: [1, "two"] } }),
      ]);
      assert.deepEqual(await s.attempts("01A"), [attempt("01A", "a", 1)]);
      assert.equal(await s.blob("h1"), '{"x":1}');
      assert.equal(await s.blob("nope"), undefined);
      assert.deepEqual(await s.findings("01A"), [
        { runId: "01A", kind: "provider_drift", message: "model changed", data: { step: "a" } },
      ]);
      assert.equal(await s.getRun("missing"), undefined);
    },
  );

  withStore(
    "the process groups a run's commands started read back by pid, once each",
    async (s) => {
      const p = (pid: number, stepId: string) => ({
        runId: "01A",
        stepId,
        attempt: 1,
        pid,
        start: `boot:${pid * 10}`,
      });
      await s.commit({ runs: [run("01A"), run("01B")], processes: [p(300, "b"), p(20, "a")] });
      // A record committed twice (a retried commit) is kept once.
      await s.commit({ processes: [p(20, "a")] });
      assert.deepEqual(await s.processes("01A"), [p(20, "a"), p(300, "b")]);
      assert.deepEqual(await s.processes("01B"), []);
    },
  );

  withStore(
    "committing a run again updates its status and end, and keeps what made it",
    async (s) => {
      await s.commit({ runs: [run("01A")] });
      await s.commit({
        runs: [
          run("01A", {
            status: "succeeded",
            endedAt: "2026-11-23T10:01:00.000Z",
            outputsHash: "out",
            workflowName: "changed",
            ownerPid: null,
          }),
        ],
      });
      const got = await s.getRun("01A");
      assert.equal(got?.status, "succeeded");
      assert.equal(got?.endedAt, "2026-11-23T10:01:00.000Z");
      assert.equal(got?.outputsHash, "out");
      assert.equal(got?.ownerPid, null);
      assert.equal(got?.workflowName, "flow");
    },
  );

  withStore("events come back in sequence order, after a given sequence number", async (s) => {
    await s.commit({ runs: [run("01A")], events: [event("01A", 2), event("01A", 1)] });
    await s.commit({ events: [event("01A", 3)] });
    assert.deepEqual(
      (await s.events("01A")).map((e) => e.seq),
      [1, 2, 3],
    );
    assert.deepEqual(
      (await s.events("01A", 2)).map((e) => e.seq),
      [3],
    );
  });

  withStore("a commit that repeats an event's sequence number is refused whole", async (s) => {
    await s.commit({ runs: [run("01A")], events: [event("01A", 1)] });
    await assert.rejects(
      s.commit({ blobs: [{ hash: "h2", text: "x" }], events: [event("01A", 2), event("01A", 1)] }),
    );
    assert.deepEqual(
      (await s.events("01A")).map((e) => e.seq),
      [1],
    );
    assert.equal(await s.blob("h2"), undefined);
  });

  withStore("a commit that leaves a gap in a run's log is refused whole", async (s) => {
    await s.commit({ runs: [run("01A")], events: [event("01A", 1)] });
    await assert.rejects(s.commit({ events: [event("01A", 3)] }), /does not follow/);
    await assert.rejects(s.commit({ runs: [run("01B")], events: [event("01B", 2)] }));
    await s.commit({ events: [event("01A", 2)] });
    assert.deepEqual(
      (await s.events("01A")).map((e) => e.seq),
      [1, 2],
    );
    assert.deepEqual(await s.events("01B"), []);
  });

  withStore("events and attempts of a run that is not recorded are refused", async (s) => {
    await assert.rejects(s.commit({ events: [event("01Z", 1)] }), /not recorded/);
    await assert.rejects(s.commit({ attempts: [attempt("01Z", "a", 1)] }), /not recorded/);
    await s.commit({ runs: [run("01Z")], events: [event("01Z", 1)] });
    assert.equal((await s.events("01Z")).length, 1);
  });

  withStore("an inline value reference is its own value, with no blob behind it", async (s) => {
    assert.equal(await s.blob('={"x":1}'), '{"x":1}');
    assert.equal(await s.blob("=3"), "3");
  });

  withStore("attempts come back in the order they were committed, across commits", async (s) => {
    await s.commit({
      runs: [run("01A")],
      attempts: [attempt("01A", "b", 1), attempt("01A", "a", 1, { status: "failed" })],
    });
    await s.commit({ attempts: [attempt("01A", "a", 2)] });
    assert.deepEqual(
      (await s.attempts("01A")).map((a) => `${a.stepId}${a.attempt}`),
      ["b1", "a1", "a2"],
    );
    assert.deepEqual(await s.attempts("01B"), []);
  });

  withStore("an attempt recorded twice, in one commit or across commits, is refused", async (s) => {
    await s.commit({ runs: [run("01A"), run("01B")], attempts: [attempt("01A", "a", 1)] });
    await assert.rejects(s.commit({ attempts: [attempt("01A", "a", 1)] }));
    await assert.rejects(s.commit({ attempts: [attempt("01A", "b", 1), attempt("01A", "b", 1)] }));
    // The same step and number in another run, or another number, is a different attempt.
    await s.commit({ attempts: [attempt("01B", "a", 1), attempt("01A", "a", 2)] });
    assert.deepEqual(
      (await s.attempts("01A")).map((a) => `${a.stepId}${a.attempt}`),
      ["a1", "a2"],
    );
  });

  withStore("a blob written twice is stored once, unchanged", async (s) => {
    await s.commit({ blobs: [{ hash: "h", text: "first" }] });
    await s.commit({
      blobs: [
        { hash: "h", text: "first" },
        { hash: "g", text: "second" },
      ],
    });
    assert.equal(await s.blob("h"), "first");
    assert.equal(await s.blob("g"), "second");
  });

  withStore("runs list newest first, by workflow, with a limit", async (s) => {
    await s.commit({
      runs: [run("01A"), run("01C", { workflowPath: "/w/other.keel.yaml" }), run("01B")],
    });
    assert.deepEqual(
      (await s.listRuns()).map((r) => r.id),
      ["01C", "01B", "01A"],
    );
    assert.deepEqual(
      (await s.listRuns({ workflowPath: "/w/flow.keel.yaml" })).map((r) => r.id),
      ["01B", "01A"],
    );
    assert.deepEqual(
      (await s.listRuns({ limit: 1 })).map((r) => r.id),
      ["01C"],
    );
  });

  withStore("cache entries are found until they expire", async (s) => {
    await s.commit({
      cache: [
        {
          key: "k1",
          outputHash: "o1",
          runId: "01A",
          stepId: "a",
          createdAt: "2026-11-23T10:00:00.000Z",
          expiresAt: "2026-11-23T11:00:00.000Z",
        },
        {
          key: "k2",
          outputHash: "o2",
          runId: "01A",
          stepId: "b",
          createdAt: "2026-11-23T10:00:00.000Z",
          expiresAt: null,
        },
      ],
    });
    assert.equal((await s.cacheLookup("k1", "2026-11-23T10:30:00.000Z"))?.outputHash, "o1");
    assert.equal(await s.cacheLookup("k1", "2026-11-23T11:00:00.000Z"), undefined);
    assert.equal((await s.cacheLookup("k2", "2099-01-01T00:00:00.000Z"))?.outputHash, "o2");
    assert.equal(await s.cacheLookup("k3", "2026-11-23T10:30:00.000Z"), undefined);
  });

  withStore(
    "the previous live attempt skips this run, other workflows, failures, cache hits and reuse",
    async (s) => {
      await s.commit({
        runs: [
          run("01A"),
          run("01B"),
          run("01C", { workflowPath: "/w/other.keel.yaml" }),
          run("01D"),
          run("01E"),
        ],
        attempts: [
          attempt("01A", "a", 1, { meta: { model: "old" } }),
          attempt("01B", "a", 1, { status: "failed", errorKind: "timeout" }),
          attempt("01B", "a", 2, { meta: { model: "newer" } }),
          attempt("01C", "a", 1, { meta: { model: "elsewhere" } }),
          attempt("01D", "a", 1, { origin: "cached", sourceRunId: "01B" }),
          attempt("01E", "a", 1, { meta: { model: "mine" } }),
          attempt("01E", "b", 1, { meta: null }),
        ],
      });
      const prev = await s.previousModelCall("/w/flow.keel.yaml", "a", "01E");
      assert.deepEqual([prev?.runId, prev?.attempt, prev?.meta], ["01B", 2, { model: "newer" }]);
      assert.equal(await s.previousModelCall("/w/flow.keel.yaml", "zzz", "01E"), undefined);
      // An attempt without provider metadata is no model call.
      assert.equal(await s.previousModelCall("/w/flow.keel.yaml", "b", "01A"), undefined);
    },
  );

  withStore(
    "events and attempts of items and iterations, and a child run's parent unit, read back as written",
    async (s) => {
      const child = run("01B", { parentId: "01A", parentScope: "per_ticket[t-9]" });
      const events = [
        event("01A", 1, { type: "run_started", stepId: null, attempt: null }),
        event("01A", 2, { stepId: "per_ticket", attempt: null }),
        event("01A", 3, {
          type: "expanded",
          stepId: "per_ticket",
          attempt: null,
          data: { count: 3, keys: ["t-9", '{"id":10}', ""], list: "=[1,2,3]", concurrency: 4 },
        }),
        event("01A", 4, { stepId: "per_ticket", scope: "[t-9]", attempt: null }),
        event("01A", 5, {
          type: "child_started",
          stepId: "per_ticket",
          scope: "[t-9]",
          attempt: null,
          data: { childRun: "01B" },
        }),
        event("01A", 6, { type: "attempt_failed", stepId: "per_ticket", scope: '[{"id":10}]' }),
        event("01A", 7, { type: "step_succeeded", stepId: "refine", scope: "#2" }),
        event("01A", 8, { type: "step_skipped", stepId: "per_ticket", scope: "[]" }),
      ];
      const attempts = [
        attempt("01A", "per_ticket", 1, { scope: "[t-9]" }),
        attempt("01A", "per_ticket", 1, { scope: '[{"id":10}]', status: "failed", meta: null }),
        attempt("01A", "per_ticket", 1),
        attempt("01A", "refine", 2, { scope: "#2", meta: null }),
      ];
      await s.commit({ runs: [run("01A"), child], events: events.slice(0, 5), attempts });
      await s.commit({ events: events.slice(5) });
      assert.deepEqual(await s.getRun("01B"), child);
      assert.equal((await s.getRun("01A"))?.parentScope, null);
      assert.deepEqual(await s.events("01A"), events);
      assert.deepEqual(await s.events("01A", 5), events.slice(5));
      assert.deepEqual(await s.attempts("01A"), attempts);
    },
  );

  withStore(
    "items of one step record the same attempt numbers; a unit's attempt twice is refused",
    async (s) => {
      await s.commit({
        runs: [run("01A")],
        attempts: [
          attempt("01A", "m", 1, { scope: "[a]" }),
          attempt("01A", "m", 1, { scope: "[b]" }),
          attempt("01A", "m", 1),
        ],
      });
      await assert.rejects(s.commit({ attempts: [attempt("01A", "m", 1, { scope: "[b]" })] }));
      assert.deepEqual(
        (await s.attempts("01A")).map((a) => [a.scope, a.attempt]),
        [
          ["[a]", 1],
          ["[b]", 1],
          [null, 1],
        ],
      );
    },
  );

  withStore(
    "the previous model call of a step with items: the newest run's highest attempt, then the first scope",
    async (s) => {
      await s.commit({
        runs: [run("01A"), run("01B"), run("01C")],
        attempts: [
          attempt("01A", "m", 1, { scope: "[a]", meta: { model: "old" } }),
          attempt("01A", "m", 3, { scope: "[a]", meta: { model: "old, third try" } }),
          attempt("01B", "m", 1, { scope: "[a]", meta: { model: "b1" } }),
          attempt("01B", "m", 2, { scope: "[c]", meta: { model: "c2" } }),
          attempt("01B", "m", 2, { scope: "[b]", meta: { model: "b2" } }),
          attempt("01B", "m", 1, { scope: "#3", meta: { model: "loop" } }),
          attempt("01C", "m", 1, { meta: { model: "the step itself" } }),
          attempt("01C", "m", 1, { scope: "#1", meta: { model: "iteration" } }),
        ],
      });
      const pick = async (except: string) => {
        const a = await s.previousModelCall("/w/flow.keel.yaml", "m", except);
        return [a?.runId, a?.scope, a?.attempt, a?.meta];
      };
      assert.deepEqual(await pick("01C"), ["01B", "[b]", 2, { model: "b2" }]);
      // With the same attempt, the step itself ('' before any scope) comes first.
      assert.deepEqual(await pick("01Z"), ["01C", null, 1, { model: "the step itself" }]);
      assert.deepEqual(await pick("01B"), ["01C", null, 1, { model: "the step itself" }]);
    },
  );

  withStore("closing twice is harmless", async (s) => {
    await s.close();
    await s.close();
  });
}
