// Hover, from the core's language service; on a step, the last run's figures when the client
// answers `keel/lastRun` (core/protocol/lsp.ts). Without an answer, the hover is the same minus them.
import { MarkupKind } from "vscode-languageserver";
import { hoverAt, lastRunMarkdown } from "@keel/core/service/hover";
import { pythonHoverAt } from "@keel/core/service/python";
import { agentHoverAt } from "@keel/core/service/agents";
import { pathToFileURL } from "node:url";
import { nodeHost } from "@keel/core/node/host";
import {
  promptFileAt,
  promptFileCheck,
  promptFileHover,
  promptInputAt,
  promptInputHover,
} from "@keel/core/service/prompt-files";
import type { Feature } from "../context";
import { toRange } from "../convert";

export const hover: Feature = {
  capabilities: { hoverProvider: true },
  register({ connection, workspace, lastRuns }) {
    connection.onHover(async ({ textDocument, position }) => {
      const prompt = workspace.promptDocument(textDocument.uri);
      if (prompt) {
        const at = promptInputAt(prompt.check, prompt.index.offset(position));
        const value = at && promptInputHover(prompt.check, at.name);
        return value
          ? {
              contents: { kind: MarkupKind.Markdown, value },
              range: toRange(prompt.index, at.span),
            }
          : null;
      }
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const mention = a.file && promptFileAt(a.model, a.index.offset(position));
      if (mention && a.file) {
        // A prompt file: its inputs, and the prompt the last run rendered from it.
        const path = nodeHost.resolve(a.file, mention.path);
        const text =
          workspace.documents.get(pathToFileURL(path).href)?.getText() ?? nodeHost.readFile(path);
        const check = text === undefined ? undefined : promptFileCheck(text, mention.path);
        const value = promptFileHover(mention, check, await lastRuns.get(textDocument.uri));
        return {
          contents: { kind: MarkupKind.Markdown, value },
          range: toRange(a.index, mention.span),
        };
      }
      const offset = a.index.offset(position);
      const python = workspace.python(textDocument.uri);
      const info =
        (python && pythonHoverAt(a.model, offset, python)) ??
        agentHoverAt(a.model, offset, workspace.tools(textDocument.uri)) ??
        hoverAt(a.model, offset, workspace.children(textDocument.uri));
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
