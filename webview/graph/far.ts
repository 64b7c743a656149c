// The zoomed-out level of detail: below FAR_ZOOM a node's text is unreadable, so the drawing drops
// to boxes in their status colours and the edges, on one canvas (far-canvas.tsx), over node
// elements made transparent and textless (step-node.tsx, panel.css `.keel-far`).
import { createContext } from "react";

export const FAR_ZOOM = 0.3;

/** Whether the graph is drawn zoomed out; node components render only their accessible name then. */
export const FarContext = createContext(false);
