// How each behaviour is written to the socket, for either API: normal replies (JSON or SSE) and
// the faults a runner must survive (error statuses, bodies that are not JSON, bodies and streams
// cut short, stalls, in-stream errors). The API format supplies the bytes; this decides how much
// of them goes out and what happens to the socket afterwards.
import type {
  Behaviour,
  Completion,
  Exchange,
  MalformedBehaviour,
  StatusBehaviour,
  StreamErrorBehaviour,
  ToolCallReply,
} from "./types";

// The text of a reply that a fault cuts short: long enough that half a stream still holds deltas.
const CUT_TEXT = "This reply is cut short by the provider test server before it ends.";

const DEFAULT_MESSAGES: Record<number, string> = {
  429: "Rate limit reached for requests. Please try again later.",
  500: "The server had an error while processing your request.",
  502: "Bad gateway.",
  503: "The service is temporarily unavailable.",
  529: "Overloaded",
};

// After the bytes have been flushed, either drop the connection (the client sees it end early)
// or leave it open and silent (the client waits until it gives up or the server closes).
type Afterwards = "destroy" | "keep";

function finish(ex: Exchange, bytes: string | Buffer, afterwards: Afterwards): void {
  ex.res.write(bytes, () => {
    if (afterwards === "destroy") ex.res.destroy();
  });
}

function jsonHeaders(ex: Exchange, length: number): Record<string, string | number> {
  return {
    "content-type": "application/json",
    "content-length": length,
    [ex.format.requestIdHeader]: ex.requestId,
  };
}

function streamHeaders(ex: Exchange): Record<string, string> {
  return {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    [ex.format.requestIdHeader]: ex.requestId,
  };
}

function sendJson(ex: Exchange, status: number, body: string, extra: Record<string, string> = {}) {
  const bytes = Buffer.from(body);
  ex.res.writeHead(status, { ...jsonHeaders(ex, bytes.length), ...extra });
  ex.res.end(bytes);
}

function events(ex: Exchange, reply: Completion, cut?: "arguments"): string[] {
  return ex.format.streamEvents(ex.request, reply, reply.id ?? ex.nextResponseId(), cut);
}

// About half of a stream's events: always past the opening events, never the terminal ones.
const firstHalf = (all: string[]): string[] => all.slice(0, Math.max(3, Math.ceil(all.length / 2)));

async function sendReply(ex: Exchange, reply: Completion): Promise<void> {
  if (reply.delayMs) await ex.sleep(reply.delayMs);
  // A client that gave up (abort, timeout) has closed the socket: nothing more goes to it.
  if (ex.res.destroyed) return;
  if (!ex.request.stream) {
    const id = reply.id ?? ex.nextResponseId();
    sendJson(ex, 200, JSON.stringify(ex.format.completion(ex.request, reply, id)));
    return;
  }
  ex.res.writeHead(200, streamHeaders(ex));
  for (const frame of events(ex, reply)) {
    if (ex.res.destroyed) return;
    ex.res.write(frame);
    if (reply.chunkDelayMs) await ex.sleep(reply.chunkDelayMs);
  }
  ex.res.end();
}

function sendStatus(ex: Exchange, b: StatusBehaviour, type?: string): void {
  const message = b.message ?? DEFAULT_MESSAGES[b.status] ?? `HTTP ${b.status}`;
  const headers: Record<string, string> = {};
  if (b.retryAfter !== undefined) headers["retry-after"] = String(b.retryAfter);
  if (b.retryAfterMs !== undefined) headers["retry-after-ms"] = String(b.retryAfterMs);
  sendJson(ex, b.status, JSON.stringify(ex.format.errorBody(b.status, message, type)), headers);
}

function sendMalformed(ex: Exchange, b: MalformedBehaviour): void {
  if (!ex.request.stream) {
    sendJson(ex, 200, b.body ?? '{"id": "chatcmpl-broken", this is not JSON');
    return;
  }
  // Valid SSE framing around a data line that is not JSON, after one good opening event.
  const [opening = ""] = events(ex, { reply: CUT_TEXT });
  ex.res.writeHead(200, streamHeaders(ex));
  ex.res.end(opening + ex.format.malformedEvent());
}

// Half of a valid JSON reply under a Content-Length that promises all of it.
function cutBody(
  ex: Exchange,
  afterwards: Afterwards,
  text = CUT_TEXT,
  toolCalls?: ToolCallReply[],
): void {
  const reply = { reply: text, toolCalls };
  const body = JSON.stringify(ex.format.completion(ex.request, reply, ex.nextResponseId()));
  const bytes = Buffer.from(body);
  ex.res.writeHead(200, jsonHeaders(ex, bytes.length));
  finish(ex, bytes.subarray(0, Math.floor(bytes.length / 2)), afterwards);
}

function cutStream(ex: Exchange, afterwards: Afterwards, text = CUT_TEXT): void {
  ex.res.writeHead(200, streamHeaders(ex));
  finish(ex, firstHalf(events(ex, { reply: text })).join(""), afterwards);
}

// A stream of text and tool calls cut inside the last call's arguments.
function cutArguments(ex: Exchange, text: string, toolCalls: ToolCallReply[]): void {
  ex.res.writeHead(200, streamHeaders(ex));
  finish(ex, events(ex, { reply: text, toolCalls }, "arguments").join(""), "destroy");
}

function sendStreamError(ex: Exchange, b: StreamErrorBehaviour): void {
  const message = b.streamError.message ?? DEFAULT_MESSAGES[529] ?? "Overloaded";
  if (!ex.request.stream) {
    const status = b.streamError.type === "overloaded_error" ? 529 : 500;
    sendStatus(ex, { status, message }, b.streamError.type);
    return;
  }
  const frames = firstHalf(events(ex, { reply: CUT_TEXT }));
  frames.push(...ex.format.streamErrorEvents(b.streamError.type, message));
  ex.res.writeHead(200, streamHeaders(ex));
  ex.res.end(frames.join(""));
}

/** Answers one request with one behaviour; resolves once everything it will send is written. */
export async function respond(ex: Exchange, b: Behaviour): Promise<void> {
  const stream = ex.request.stream;
  // A hang sends nothing at all, not even headers: only the client's timeout or abort ends it,
  // or the server's close(), which destroys the socket.
  if ("hang" in b) return;
  if ("status" in b) {
    if (b.delayMs) await ex.sleep(b.delayMs);
    if (ex.res.destroyed) return;
    return sendStatus(ex, b);
  }
  if ("malformed" in b) return sendMalformed(ex, b);
  if ("truncated" in b) return stream ? cutStream(ex, "destroy") : cutBody(ex, "destroy");
  if ("truncatedStream" in b) {
    if (b.toolCalls?.length) {
      return stream
        ? cutArguments(ex, b.text ?? "", b.toolCalls)
        : cutBody(ex, "destroy", b.text ?? "", b.toolCalls);
    }
    return stream ? cutStream(ex, "destroy", b.text) : cutBody(ex, "destroy", b.text);
  }
  if ("stall" in b) return stream ? cutStream(ex, "keep") : cutBody(ex, "keep");
  if ("streamError" in b) return sendStreamError(ex, b);
  return sendReply(ex, b);
}
