// The webview's side of the panel protocol: messages from the host are checked on arrival and
// handed on; a bad one is logged and dropped.
import { HostMessage, PanelMessage } from "@keel/core/protocol/webview";

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;
/** Set by the panel's page: what VS Code keeps to restore the panel after a reload. */
declare const vscodeState: unknown;

const api: VsCodeApi | undefined =
  typeof acquireVsCodeApi === "function" ? acquireVsCodeApi() : undefined;
if (typeof vscodeState !== "undefined") api?.setState?.(vscodeState);

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
