// Where the graph's nodes are drawn (docs/editor.md, "The graph panel"). At once: the core's cheap
// layered placement (to-flow.ts `positions`). Then the refined layout, computed by dagre in a Web
// Worker (layout/worker.ts, bundled alone as layout-worker.js beside webview.js) and animated to
// when it arrives. Refined layouts are cached by the graph's shape (step ids and edges), in memory
// and in the webview's saved state: re-drawing a shape already laid out (an edit that keeps the
// shape, an undo, the panel shown again or restored) draws the refined layout at once.
import { useEffect, useMemo, useState } from "react";
import type { GraphMessage } from "@keel/core/protocol/webview";
import { savedState, saveState } from "../channel";
import { NODE_HEIGHT, NODE_WIDTH, GAP_X, GAP_Y, positions } from "../graph/to-flow";
import type { LayoutAnswer, LayoutRequest, Positions } from "./refine";

type At = ReadonlyMap<string, { readonly x: number; readonly y: number }>;

/** The webview's own script: the worker's file is beside it. */
const SCRIPT =
  document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : "";
/** Shapes kept in the saved state (a 1,000-step layout is about 30 kB there). */
const KEPT = 6;
const STATE_KEY = "layouts";

/** A short, stable name for a shape key (FNV-1a, 52 bits): the saved state stays small. */
export function shapeHash(key: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x1b873593;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return `${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}.${key.length}`;
}

/** A shape's refined positions, or null: the library could not refine it (the layered stays). */
const cache = new Map<string, At | null>();
for (const [hash, p] of (savedState(STATE_KEY) as [string, Positions | null][] | undefined) ?? [])
  cache.set(hash, p ? new Map(Object.entries(p)) : null);

function remember(hash: string, p: Positions | undefined): void {
  cache.delete(hash);
  cache.set(hash, p ? new Map(Object.entries(p)) : null);
  while (cache.size > KEPT) cache.delete(cache.keys().next().value!);
  saveState(
    STATE_KEY,
    [...cache].map(([h, m]) => [h, m ? Object.fromEntries(m) : null]),
  );
}

let worker: Promise<Worker | null> | undefined;

/**
 * The layout worker, started once. VS Code serves the webview's files from another origin than
 * the page's, and a worker's script must be same-origin: the file is fetched and started from a
 * blob (the panel's CSP allows fetching that one file, and workers from blobs only). Where fetch
 * cannot read the file (a page opened from disk in a test), the file itself is tried.
 */
function layoutWorker(): Promise<Worker | null> {
  worker ??= (async () => {
    if (!SCRIPT || typeof Worker === "undefined") return null;
    const url = new URL("layout-worker.js", SCRIPT).href;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${response.status}`);
      const blob = await response.blob();
      return new Worker(URL.createObjectURL(new Blob([blob], { type: "text/javascript" })));
    } catch {
      try {
        return new Worker(url);
      } catch (e) {
        console.warn("keel: no layout worker, the graph keeps its first layout", e);
        return null;
      }
    }
  })();
  return worker;
}

function requestLayout(graph: GraphMessage, key: string): Promise<Positions | undefined> {
  return layoutWorker().then(
    (w) =>
      new Promise<Positions | undefined>((resolve) => {
        if (!w) return resolve(undefined);
        const onMessage = (e: MessageEvent<LayoutAnswer>) => {
          if (e.data.key !== key) return;
          w.removeEventListener("message", onMessage);
          // dagre ranks by recursion: a chain of ~1,000 steps exceeds a worker's stack.
          if (e.data.error)
            console.warn("keel: no refined layout, the first one stays:", e.data.error);
          resolve(e.data.positions);
        };
        w.addEventListener("message", onMessage);
        const request: LayoutRequest = {
          key,
          ids: graph.steps.map((s) => s.id),
          edges: graph.edges.map((e) => [e.to, e.from]),
          width: NODE_WIDTH,
          height: NODE_HEIGHT,
          gapX: GAP_X,
          gapY: GAP_Y,
        };
        w.postMessage(request);
      }),
  );
}

export interface Layout {
  /** Positions by step id; the same object for as long as the drawing does not change. */
  readonly at: At;
  /**
   * Which layout is drawn: the layered placement while the refined one is computed, the refined
   * one, or the layered one for good when the library could not refine the graph.
   */
  readonly kind: "layered" | "refined" | "unrefined";
  /** The refined layout has just replaced the layered one: the drawing animates to it. */
  readonly settling: boolean;
}

/** The positions to draw `graph` at, `key` being its shape (app.tsx `shapeKey`). */
export function useLayout(graph: GraphMessage | undefined, key: string): Layout {
  const hash = useMemo(() => shapeHash(key), [key]);
  const [arrived, setArrived] = useState<string>();
  // A shape drawn again (from the cache) does not glide: forget an arrival as the shape changes.
  const [shown, setShown] = useState(hash);
  if (shown !== hash) {
    setShown(hash);
    setArrived(undefined);
  }
  const cached = cache.get(hash);
  const layered = useMemo<At>(() => (graph && !cached ? positions(graph) : new Map()), [key]);
  useEffect(() => {
    if (!graph || graph.steps.length === 0 || cache.has(hash)) return;
    let live = true;
    void requestLayout(graph, key).then((p) => {
      if (!live) return;
      remember(hash, p);
      setArrived(hash);
    });
    return () => void (live = false);
  }, [hash]);
  if (cached) return { at: cached, kind: "refined", settling: arrived === hash };
  if (cached === null) return { at: layered, kind: "unrefined", settling: false };
  return { at: layered, kind: "layered", settling: false };
}
