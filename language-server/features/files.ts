// Cross-file awareness: a workflow's diagnostics follow the tool modules and child workflows it
// uses. A file edited in the editor (open document) or changed on disk
// (workspace/didChangeWatchedFiles) re-validates every other open workflow that read it;
// `.keel/settings.json` changes re-publish everything.
import { DidChangeWatchedFilesNotification, FileChangeType } from "vscode-languageserver";
import type { Feature } from "../context";
import { filePath } from "../workspace";

export const files: Feature = {
  register(ctx) {
    const { connection, workspace } = ctx;
    const changed = (paths: string[]) => {
      for (const uri of workspace.filesChanged(paths)) ctx.refreshDiagnostics(uri);
    };
    // An edited workflow is re-validated by the server itself; here, those that use it as a child.
    const onFile = (uri: string) => {
      const path = filePath(uri);
      if (!path) return;
      for (const other of workspace.filesChanged([path]))
        if (other !== uri) ctx.refreshDiagnostics(other);
    };
    workspace.documents.onDidChangeContent((e) => onFile(e.document.uri));
    workspace.documents.onDidClose((e) => onFile(e.document.uri));
    connection.onDidChangeWatchedFiles(({ changes }) => {
      for (const c of changes) {
        const path = filePath(c.uri);
        if (path) ctx.callers.fileEvent(path, c.type === FileChangeType.Deleted);
      }
      const paths = changes.map((c) => filePath(c.uri)).filter((p): p is string => !!p);
      changed(paths);
      if (paths.some((p) => /[\\/]\.keel[\\/]settings\.json$/.test(p))) {
        for (const doc of workspace.documents.all())
          if (workspace.isWorkflow(doc.uri)) ctx.refreshDiagnostics(doc.uri);
      }
    });
    connection.onInitialized(() => {
      if (!ctx.client.watchedFilesRegistration) return;
      void connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [
          { globPattern: "**/*.{js,mjs,cjs,py}" },
          { globPattern: "**/*.keel.{yaml,yml}" },
          { globPattern: "**/*.{md,prompt.yml,prompt.yaml}" },
          { globPattern: "**/.keel/settings.json" },
        ],
      });
    });
  },
};
