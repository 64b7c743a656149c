// The webview's side of the panel protocol: messages from the host are checked on arrival and
// handed on; a bad one is logged and dropped.
import { HostMessage, PanelMessage } from "@keel/core/protocol/webview";

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState?(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;
/** Set by the panel's page: what VS Code keeps to restore the panel after a reload. */
declare const vscodeState: unknown;

const api: VsCodeApi | undefined =
  typeof acquireVsCodeApi === "function" ? acquireVsCodeApi() : undefined;
/** What VS Code keeps for the panel: the host's part (the page's `vscodeState`) and the view's. */
let state: Record<string, unknown> = {
  ...(api?.getState?.() as Record<string, unknown> | undefined),
  ...(typeof vscodeState === "object" && vscodeState !== null ? vscodeState : {}),
};
if (typeof vscodeState !== "undefined") api?.setState?.(state);

/** A part of the view's state kept by VS Code (across hiding the panel and reloading it). */
export function savedState(name: string): unknown {
  return state[name];
}

export function saveState(name: string, value: unknown): void {
  state = { ...state, [name]: value };
  api?.setState?.(state);
}

export function post(message: PanelMessage): void {
  api?.postMessage(PanelMessage.parse(message));
}

export function listen(handle: (message: HostMessage) => void): () => void {
  const onMessage = (event: MessageEvent) => {
    const parsed = HostMessage.safeParse(event.data);
    if (!parsed.success) {
      console.warn("keel: dropped a message the panel does not understand", parsed.error.issues);
      return;
    }
    handle(parsed.data);
  };
  window.addEventListener("message", onMessage);
  return () => window.removeEventListener("message", onMessage);
}
