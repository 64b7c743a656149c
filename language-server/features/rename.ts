// Rename a step id, input or provider across the file (prepareRename says what will be renamed).
import { ResponseError, ErrorCodes } from "vscode-languageserver";
import { prepareRename, renameEdits } from "@keel/core/service/rename";
import type { Feature } from "../context";
import { toRange, toTextEdit } from "../convert";

export const rename: Feature = {
  capabilities: { renameProvider: { prepareProvider: true } },
  register({ connection, workspace }) {
    connection.onPrepareRename(({ textDocument, position }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const r = prepareRename(a.model, a.index.offset(position));
      if ("error" in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return { range: toRange(a.index, r.span), placeholder: r.placeholder };
    });
    connection.onRenameRequest(({ textDocument, position, newName }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const r = renameEdits(a.model, a.index.offset(position), newName);
      if ("error" in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return { changes: { [textDocument.uri]: r.edits.map((e) => toTextEdit(a.index, e)) } };
    });
  },
};
