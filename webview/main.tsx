// The graph panel's entry, built for the browser (dist/webview.js and dist/webview.css).
import { createRoot } from "react-dom/client";
import { ReactFlowProvider } from "@xyflow/react";
import "@xyflow/react/dist/base.css";
import "./panel.css";
import { App } from "./app";

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <ReactFlowProvider>
      <App />
    </ReactFlowProvider>,
  );
}
