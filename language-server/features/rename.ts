// Rename a step id, input or provider across the file (prepareRename says what will be renamed);
// in a prompt file, an input, with the `with:` keys of the workflows that use the file.
import { ResponseError, ErrorCodes, type Position, type TextEdit } from "vscode-languageserver";
import { promptInputAt, promptInputOccurrences } from "@keel/core/service/prompt-files";
import { prepareRename, renameEdits } from "@keel/core/service/rename";
import type { Feature } from "../context";
import type { PromptDocument } from "../workspace";
import { toRange, toTextEdit } from "../convert";

export const rename: Feature = {
  capabilities: { renameProvider: { prepareProvider: true } },
  register({ connection, workspace, callers }) {
    connection.onPrepareRename(({ textDocument, position }) => {
      const prompt = workspace.promptDocument(textDocument.uri);
      if (prompt) {
        const at = renamedInput(prompt, position);
        return { range: toRange(prompt.index, at.span), placeholder: at.name };
      }
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const r = prepareRename(a.model, a.index.offset(position));
      if ("error" in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return { range: toRange(a.index, r.span), placeholder: r.placeholder };
    });
    connection.onRenameRequest(({ textDocument, position, newName }) => {
      const prompt = workspace.promptDocument(textDocument.uri);
      if (prompt) {
        // An input of a prompt file: its declaration and reads, and every caller's `with:` key.
        const at = renamedInput(prompt, position);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName))
          throw new ResponseError(
            ErrorCodes.InvalidRequest,
            `'${newName}' is not an input name (letters, digits, _)`,
          );
        const changes: Record<string, TextEdit[]> = {
          [textDocument.uri]: promptInputOccurrences(prompt.check, at.name).map((span) =>
            toTextEdit(prompt.index, { span, newText: newName }),
          ),
        };
        for (const u of callers.promptUsers(prompt.path)) {
          for (const use of u.uses) {
            const key = use.inputs.get(at.name);
            if (key)
              (changes[u.uri] ??= []).push(toTextEdit(u.index, { span: key, newText: newName }));
          }
        }
        return { changes };
      }
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const r = renameEdits(a.model, a.index.offset(position), newName);
      if ("error" in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return { changes: { [textDocument.uri]: r.edits.map((e) => toTextEdit(a.index, e)) } };
    });
  },
};

/** The declared input of a Markdown prompt file at `position`; an error for anything else. */
function renamedInput(prompt: PromptDocument, position: Position) {
  const at = promptInputAt(prompt.check, prompt.index.offset(position));
  if (!at || prompt.check.file.syntax !== "keel" || !prompt.check.file.inputs.has(at.name))
    throw new ResponseError(
      ErrorCodes.InvalidRequest,
      "only a declared input of a prompt file can be renamed here",
    );
  return at;
}
