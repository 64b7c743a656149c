// Hover, from the core's language service; on a step, the last run's figures when the client
// answers `keel/lastRun` (core/protocol/lsp.ts). Without an answer, the hover is the same minus them.
import { MarkupKind } from "vscode-languageserver";
import { hoverAt, lastRunMarkdown } from "@keel/core/service/hover";
import type { Feature } from "../context";
import { toRange } from "../convert";

export const hover: Feature = {
  capabilities: { hoverProvider: true },
  register({ connection, workspace, lastRuns }) {
    connection.onHover(async ({ textDocument, position }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const info = hoverAt(a.model, a.index.offset(position), workspace.children(textDocument.uri));
      if (!info) return null;
      let value = info.markdown;
      if (info.stepId) {
        const run = await lastRuns.get(textDocument.uri);
        const section = run && lastRunMarkdown(run, info.stepId);
        if (section) value += `\n\n---\n\n${section}`;
      }
      return { contents: { kind: MarkupKind.Markdown, value }, range: toRange(a.index, info.span) };
    });
  },
};
