// The graph panel's entry (built for the browser). The panel itself arrives with the editor
// issue; until then this bundle only proves that the browser-safe core builds for a webview.
import { buildGraph } from "@keel/core/graph/graph";

const root = document.getElementById("root");
if (root) {
  const graph = buildGraph([], []);
  root.textContent = `Keel graph panel (${graph.ids.length} steps)`;
}
