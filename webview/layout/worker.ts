// The layout worker's entry (bundled alone as dist/layout-worker.js by esbuild.mjs): one refined
// layout per request, answered with the request's key. A failure is answered too, never thrown.
import { refine, type LayoutAnswer, type LayoutRequest } from "./refine";

interface WorkerScope {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutAnswer): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  const r = event.data;
  try {
    scope.postMessage({ key: r.key, positions: refine(r) });
  } catch (e) {
    scope.postMessage({ key: r.key, error: e instanceof Error ? e.message : String(e) });
  }
};
