// The step-through fold moved to core/log/fold.ts, where the runner can read logs with it too
// (core/runner may not depend on core/replay, which depends on the runner). Kept for the editor's
// and the webview's imports.
export * from "../log/fold";
