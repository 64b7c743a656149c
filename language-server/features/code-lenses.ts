// Code lenses over `steps:` and each step (run, run up to here, last run's status), and over a
// child workflow's `name:` the number of workflow steps in the workspace that run it. The client
// says when a run finished (`keel/runDidFinish`); the server then asks it to refresh them.
import { callersLens, codeLenses } from "@keel/core/service/lenses";
import type { Feature } from "../context";
import { toRange } from "../convert";

export const lenses: Feature = {
  capabilities: { codeLensProvider: { resolveProvider: false } },
  register({ connection, workspace, lastRuns, callers }) {
    connection.onCodeLens(async ({ textDocument }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const run = await lastRuns.get(textDocument.uri);
      const calls = a.file ? callers.of(a.file).reduce((n, c) => n + c.calls.length, 0) : 0;
      const called = callersLens(a.model, calls);
      return [...(called ? [called] : []), ...codeLenses(a.model, textDocument.uri, run)].map(
        (l) => ({
          range: toRange(a.index, l.span),
          command: { title: l.title, command: l.command, arguments: [...l.args] },
        }),
      );
    });
  },
};
