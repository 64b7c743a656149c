// Code lenses over `steps:` and each step (run, run up to here, last run's status). The client
// says when a run finished (`keel/runDidFinish`); the server then asks it to refresh them.
import { codeLenses } from "@keel/core/service/lenses";
import type { Feature } from "../context";
import { toRange } from "../convert";

export const lenses: Feature = {
  capabilities: { codeLensProvider: { resolveProvider: false } },
  register({ connection, workspace, lastRuns }) {
    connection.onCodeLens(async ({ textDocument }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const run = await lastRuns.get(textDocument.uri);
      return codeLenses(a.model, textDocument.uri, run).map((l) => ({
        range: toRange(a.index, l.span),
        command: { title: l.title, command: l.command, arguments: [...l.args] },
      }));
    });
  },
};
