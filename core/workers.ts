// The workers' entry (issue #10): the DBOS executor, for `keel worker` and `keel run --on`, with
// the DBOS SDK it loads. Bundled apart, as dist/workers.js, and imported by the CLI as
// `@keel/workers` on first use, like `@keel/production` (core/production.ts); the extension
// never loads it.
export { startWorker, type Worker, type WorkerOptions } from "./executor/dbos-worker";
export { openDbosExecutor, DbosExecutor, type DbosExecutorOptions } from "./executor/dbos-submit";
export { RunNotExecutedError } from "./executor/executor";
export type { RunSpec, RunHandle, Executor } from "./executor/executor";
