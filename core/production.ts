// Production mode's entry (issue #10): what only a `postgres://` store and an OpenTelemetry export
// need, with the packages they load (`pg`, the OpenTelemetry SDK). esbuild bundles it apart, as
// dist/production.js, and the other bundles import it as `@keel/production`, an external module
// loaded on first use: the embedded default (SQLite, no export) never reads it, and the CLI's and
// the extension's bundles do not grow with it.
export { openPgStore, NoPgStoreError, redactUrl, type PgStoreOptions } from "./store/pg-store";
export { spansOfRun, type SpanSpec, type SpanOptions } from "./otel/spans";
export { exportSpans, tracesUrl, traceIdOf, type OtelTarget } from "./otel/export";
