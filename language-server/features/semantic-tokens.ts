// Semantic tokens for expressions, from core/service/tokens.ts, in the legend announced here.
import { SemanticTokensBuilder } from "vscode-languageserver";
import { semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from "@keel/core/service/tokens";
import type { Feature } from "../context";

const TYPE_INDEX = new Map<string, number>(TOKEN_TYPES.map((t, i) => [t, i]));

export const tokens: Feature = {
  capabilities: {
    semanticTokensProvider: {
      legend: { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] },
      full: true,
    },
  },
  register({ connection, workspace }) {
    connection.languages.semanticTokens.on(({ textDocument }) => {
      const builder = new SemanticTokensBuilder();
      const a = workspace.analysis(textDocument.uri);
      if (!a) return builder.build();
      for (const t of semanticTokens(a.model)) {
        const p = a.index.position(t.start);
        builder.push(p.line, p.character, t.length, TYPE_INDEX.get(t.type)!, t.modifiers);
      }
      return builder.build();
    });
  },
};
