// The zoomed-out drawing (below FAR_ZOOM): every node as a box in its status colour and every
// edge, on one canvas. React Flow's node elements stay in the DOM, on top and transparent, so
// clicks, Tab, the arrow keys and screen readers work as when zoomed in; React Flow gets no edges
// while zoomed out. Why: with 1,000 nodes on screen, one changed node made the browser lay out,
// paint and layerize all 1,000 node elements (each its own transformed layer), 15 ms a move;
// a canvas redraws in about 1 ms, and a 1 → 1,000 → 1 fan-out's 2,000 edges are one path instead
// of 2,000 SVG elements. The canvas draws what the elements would: status fill, diff border,
// selection outline, the step-through's current step, the keyboard focus ring, dashed
// conditional edges (graph-canvas.tsx, panel.css `.keel-far`).
import { useContext, useEffect, useRef } from "react";
import { useStoreApi, type Edge } from "@xyflow/react";
import { StepViewsContext, type StepView } from "./step-views";
import { EDGE_IN, EDGE_OUT, NODE_HEIGHT, NODE_WIDTH, type StepNode } from "./to-flow";

export interface FarCanvasProps {
  readonly nodes: readonly StepNode[];
  readonly edges: readonly Edge[];
  /** Nodes that moved (to the refined layout) glide from where they were drawn. */
  readonly settling: boolean;
}

type Point = { readonly x: number; readonly y: number };
const GLIDE_MS = 400;

/** x0, y0, x1, y1 in the graph's units. */
type Rect = [number, number, number, number];

/** The theme's colours, read from the CSS custom properties panel.css defines on the body. */
interface Palette {
  readonly status: Readonly<Record<StepView["status"], string>>;
  readonly diff: Readonly<Record<NonNullable<StepView["diff"]>, string>>;
  readonly border: string;
  readonly edge: string;
  readonly background: string;
  readonly focus: string;
  readonly selected: string;
  readonly current: string;
}

/**
 * Read once, when first drawn, and again when the theme changes: getComputedStyle forces a style
 * recalculation of the page, 80 ms when 1,000 nodes were just added.
 */
let shared: Palette | undefined;

function paletteOf(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string) => css.getPropertyValue(name).trim() || "#808080";
  return {
    status: {
      pending: v("--keel-c-pending"),
      running: v("--keel-c-running"),
      succeeded: v("--keel-c-succeeded"),
      failed: v("--keel-c-failed"),
      skipped: v("--keel-c-skipped"),
      cancelled: v("--keel-c-skipped"),
    },
    diff: {
      same: v("--keel-c-diff-same"),
      changed: v("--keel-c-diff-changed"),
      added: v("--keel-c-diff-added"),
      removed: v("--keel-c-diff-removed"),
    },
    border: v("--keel-c-border"),
    edge: v("--keel-c-edge"),
    background: v("--keel-c-background"),
    focus: v("--keel-c-focus"),
    selected: v("--keel-c-selected"),
    current: v("--keel-c-current"),
  };
}

/** The focused node's id when its focus came from the keyboard (as `:focus-visible` would ring it). */
function focusedNode(): string | null {
  const el = document.activeElement;
  if (!(el instanceof HTMLElement) || !el.classList.contains("react-flow__node")) return null;
  return el.matches(":focus-visible") ? el.getAttribute("data-id") : null;
}

export function FarCanvas({ nodes, edges, settling }: FarCanvasProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const drawnAt = useRef<ReadonlyMap<string, Point>>(undefined);
  const store = useStoreApi();
  const views = useContext(StepViewsContext);

  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext("2d");
    if (!el || !ctx) return;
    const at = new Map(nodes.map((n) => [n.id, n]));
    // Where each node was last drawn, to glide from when the layout changed.
    const from = settling ? drawnAt.current : undefined;
    drawnAt.current = new Map(nodes.map((n) => [n.id, n.position]));
    const start = performance.now();
    let frame = 0;

    /** Graph-unit rectangles to redraw at the next frame; null: everything. */
    let dirty: Rect[] | null = null;
    const MARGIN = 5; // screen pixels around a box: its rings

    const draw = () => {
      frame = 0;
      const palette = (shared ??= paletteOf(el));
      const k = from ? Math.min(1, (performance.now() - start) / GLIDE_MS) : 1;
      const ease = 1 - (1 - k) ** 3;
      const pos = (n: StepNode): Point => {
        const f = k < 1 ? from?.get(n.id) : undefined;
        if (!f) return n.position;
        return { x: f.x + (n.position.x - f.x) * ease, y: f.y + (n.position.y - f.y) * ease };
      };
      const { transform, width, height } = store.getState();
      const [tx, ty, z] = transform;
      const dpr = window.devicePixelRatio || 1;
      const px = 1 / z;
      if (el.width !== Math.round(width * dpr) || el.height !== Math.round(height * dpr)) {
        el.width = Math.round(width * dpr);
        el.height = Math.round(height * dpr);
        el.style.width = `${width}px`;
        el.style.height = `${height}px`;
        dirty = null;
      }
      // Graph units → screen pixels.
      ctx.setTransform(dpr * z, 0, 0, dpr * z, dpr * tx, dpr * ty);
      const view: Rect = [-tx * px, -ty * px, (width - tx) * px, (height - ty) * px];
      const regions = dirty ?? [view];
      dirty = null;
      ctx.save();
      ctx.beginPath();
      for (const [x0, y0, x1, y1] of regions) ctx.rect(x0, y0, x1 - x0, y1 - y0);
      ctx.clip();
      for (const [x0, y0, x1, y1] of regions) ctx.clearRect(x0, y0, x1 - x0, y1 - y0);
      const inside = (x0: number, y0: number, x1: number, y1: number) =>
        regions.some((r) => x1 >= r[0] && x0 <= r[2] && y1 >= r[1] && y0 <= r[3]);

      // Edges: React Flow's default bezier from the source's right middle to the target's left.
      ctx.lineWidth = px;
      ctx.strokeStyle = palette.edge;
      for (const dashed of [false, true]) {
        ctx.setLineDash(dashed ? [6 * px, 4 * px] : []);
        ctx.beginPath();
        for (const e of edges) {
          if ((e.className?.includes("conditional") ?? false) !== dashed) continue;
          const s = at.get(e.source);
          const t = at.get(e.target);
          if (!s || !t) continue;
          const ps = pos(s);
          const pt = pos(t);
          const sx = ps.x + EDGE_OUT.x;
          const sy = ps.y + EDGE_OUT.y;
          const ex = pt.x + EDGE_IN.x;
          const ey = pt.y + EDGE_IN.y;
          const d = ex - sx;
          const offset = d >= 0 ? d / 2 : 0.25 * 25 * Math.sqrt(-d);
          const [x0, x1] = d >= 0 ? [sx, ex] : [ex - offset, sx + offset];
          if (!inside(x0, Math.min(sy, ey), x1, Math.max(sy, ey))) continue;
          ctx.moveTo(sx, sy);
          ctx.bezierCurveTo(sx + offset, sy, ex - offset, ey, ex, ey);
        }
        ctx.stroke();
      }
      ctx.setLineDash([]);

      // Nodes: the rings (outside the box), then the border and the status fill.
      const focus = focusedNode();
      const m = MARGIN * px;
      for (const n of nodes) {
        const { x, y } = pos(n);
        if (!inside(x - m, y - m, x + NODE_WIDTH + m, y + NODE_HEIGHT + m)) continue;
        const v = views.get(n.id);
        const ring = (k: number, colour: string) => {
          ctx.fillStyle = colour;
          ctx.fillRect(x - k * px, y - k * px, NODE_WIDTH + 2 * k * px, NODE_HEIGHT + 2 * k * px);
        };
        if (v.current) ring(4, palette.current);
        if (n.id === focus) {
          ring(4, palette.focus);
          ring(2, palette.background);
        }
        if (n.selected) ring(3, palette.selected);
        const edge = v.diff ? 3 * px : px;
        ctx.fillStyle = v.diff ? palette.diff[v.diff] : palette.border;
        ctx.fillRect(x, y, NODE_WIDTH, NODE_HEIGHT);
        ctx.fillStyle = palette.status[v.status];
        ctx.globalAlpha = v.diff === "same" ? 0.7 : 1;
        ctx.fillRect(x + edge, y + edge, NODE_WIDTH - 2 * edge, NODE_HEIGHT - 2 * edge);
        ctx.globalAlpha = 1;
      }
      ctx.restore();
      if (k < 1) schedule();
    };
    const schedule = () => {
      dirty = null;
      if (frame === 0) frame = requestAnimationFrame(draw);
    };
    /** A step-through move: only the boxes whose views changed are drawn again. */
    const scheduleSteps = (ids: readonly string[]) => {
      const m = (MARGIN + 1) / store.getState().transform[2];
      if (frame === 0) dirty = [];
      for (const id of ids) {
        const n = at.get(id);
        if (!n) continue;
        const { x, y } = n.position;
        dirty?.push([x - m, y - m, x + NODE_WIDTH + m, y + NODE_HEIGHT + m]);
      }
      if (frame === 0) frame = requestAnimationFrame(draw);
    };
    // In the next frame, after the frame's own style recalculation would have happened anyway.
    schedule();
    const stopStore = store.subscribe((s, old) => {
      if (s.transform !== old.transform || s.width !== old.width || s.height !== old.height)
        schedule();
    });
    const stopViews = views.subscribeAll(scheduleSteps);
    // The focus ring follows the keyboard focus; a theme change (VS Code sets the variables on
    // the page's root element) brings new colours.
    const root = store.getState().domNode ?? document.body;
    root.addEventListener("focusin", schedule);
    root.addEventListener("focusout", schedule);
    const theme = new MutationObserver(() => {
      shared = undefined;
      schedule();
    });
    theme.observe(document.documentElement, { attributes: true });
    theme.observe(document.body, { attributes: true });
    return () => {
      cancelAnimationFrame(frame);
      stopStore();
      stopViews();
      root.removeEventListener("focusin", schedule);
      root.removeEventListener("focusout", schedule);
      theme.disconnect();
    };
  }, [nodes, edges, settling, store, views]);

  return <canvas ref={canvas} className="keel-far-canvas" aria-hidden="true" />;
}
