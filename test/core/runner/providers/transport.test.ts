// The provider clients' transport (core/runner/providers/transport.ts) against real local HTTP
// servers: what Node's fetch does for a provider call it must do too (compressed replies, a
// reply cut off, a cancel in the middle of a body, bodies-less statuses), and what it leaves to
// fetch it must hand over (a redirect, a proxy, a body it does not send itself).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync, brotliCompressSync, deflateSync } from "node:zlib";
import { providerFetch } from "@keel/core/runner/providers/transport";
import { callOpenAi } from "@keel/core/runner/providers/openai";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(t: TestContext, handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A fetch that must not be reached: the transport answers itself. */
const noFallback = (): Promise<Response> => Promise.reject(new Error("fetch was used"));

const REPLY = JSON.stringify({ answer: "é".repeat(2000) });

for (const [encoding, encode] of [
  ["gzip", gzipSync],
  ["deflate", deflateSync],
  ["br", brotliCompressSync],
] as const) {
  test(`a ${encoding} reply is decoded, as fetch decodes it`, async (t) => {
    let asked = "";
    const url = await serve(t, (req, res) => {
      asked = String(req.headers["accept-encoding"]);
      const bytes = encode(Buffer.from(REPLY));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding });
      res.end(bytes);
    });
    const r = await providerFetch(noFallback, {})(`${url}/v1/x`, { method: "POST", body: "{}" });
    assert.match(asked, new RegExp(encoding));
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), JSON.parse(REPLY));
  });
}

test("the request carries its method, headers and body; the reply its status and headers", async (t) => {
  let seen: { method?: string; auth?: string; body?: string } = {};
  const url = await serve(t, (req, res, body) => {
    seen = { method: req.method, auth: req.headers.authorization, body };
    res.writeHead(418, { "x-request-id": "req-1", "content-type": "text/plain" });
    res.end("teapot");
  });
  const headers = new Headers({ authorization: "Bearer k" });
  const r = await providerFetch(noFallback, {})(`${url}/p?q=1`, {
    method: "PUT",
    headers,
    body: new TextEncoder().encode("payload"),
  });
  assert.deepEqual(seen, { method: "PUT", auth: "Bearer k", body: "payload" });
  assert.equal(r.status, 418);
  assert.equal(r.headers.get("x-request-id"), "req-1");
  assert.equal(await r.text(), "teapot");
});

test("a status without a body gives a response without one", async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  const r = await providerFetch(noFallback, {})(url, { method: "DELETE" });
  assert.equal(r.status, 204);
  assert.equal(r.body, null);
});

test("a reply cut off before its Content-Length fails the call; it is never a shorter reply", async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": 1000 });
    res.write('{"partial": tr', () => res.destroy());
  });
  await assert.rejects(
    providerFetch(noFallback, {})(url, { method: "POST", body: "{}" }),
    /terminated|aborted|socket hang up|ECONNRESET/,
  );
});

test("a compressed reply cut off fails the call too", async (t) => {
  const url = await serve(t, (_req, res) => {
    const bytes = gzipSync(Buffer.from(REPLY));
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
    res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
  });
  await assert.rejects(providerFetch(noFallback, {})(url, { method: "POST", body: "{}" }));
});

test("a cancel in the middle of a body ends the call with the signal's reason", async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": 1000 });
    res.write('{"slow": "'); // and nothing more
  });
  const controller = new AbortController();
  const reason = new Error("cancelled by the run");
  const call = providerFetch(noFallback, {})(url, {
    method: "POST",
    body: "{}",
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(reason), 100);
  await assert.rejects(call, (e) => e === reason);
});

test("a signal aborted before the call starts no request", async (t) => {
  let requests = 0;
  const url = await serve(t, (_req, res) => {
    requests++;
    res.end("{}");
  });
  const controller = new AbortController();
  controller.abort(new Error("already"));
  await assert.rejects(
    providerFetch(noFallback, {})(url, { signal: controller.signal }),
    /already/,
  );
  assert.equal(requests, 0);
});

test("a server-sent event stream is read as it arrives", async (t) => {
  let release: () => void = () => {};
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: one\n\n");
    release = () => res.end("data: two\n\n");
  });
  const r = await providerFetch(noFallback, {})(url, { method: "POST", body: "{}" });
  const reader = r.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.equal(first, "data: one\n\n"); // before the server sent the rest
  release();
  let rest = "";
  for (let c = await reader.read(); !c.done; c = await reader.read())
    rest += new TextDecoder().decode(c.value);
  assert.equal(rest, "data: two\n\n");
});

test("a redirect, a proxy in the environment and a streamed request body go to fetch", async (t) => {
  const url = await serve(t, (req, res) => {
    if (req.url === "/old") {
      res.writeHead(307, { location: "/new" });
      res.end();
    } else res.end("moved here");
  });
  const used: string[] = [];
  const fallback = (input: string | URL | Request, init?: RequestInit) => {
    used.push(String(input));
    return fetch(input, init);
  };
  const redirected = await providerFetch(fallback, {})(`${url}/old`, { method: "POST", body: "x" });
  assert.equal(await redirected.text(), "moved here");
  assert.deepEqual(used, [`${url}/old`]);
  for (const name of ["HTTPS_PROXY", "http_proxy", "NODE_USE_ENV_PROXY"]) {
    used.length = 0;
    await providerFetch(fallback, { [name]: "http://proxy.invalid:3128" })(`${url}/new`);
    assert.deepEqual(used, [`${url}/new`], name);
  }
  used.length = 0;
  const body = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode("x"));
      c.close();
    },
  });
  await providerFetch(fallback, {})(`${url}/new`, {
    method: "POST",
    body,
    duplex: "half",
  } as RequestInit);
  assert.deepEqual(used, [`${url}/new`]);
});

test("the openai client's calls go through the transport and keep one connection alive", async (t) => {
  const sockets = new Set<unknown>();
  const fetchMarks: unknown[] = [];
  const url = await serve(t, (req, res) => {
    sockets.add(req.socket);
    // Node's fetch adds `sec-fetch-mode` to every request; this transport does not.
    fetchMarks.push(req.headers["sec-fetch-mode"]);
    const body = JSON.stringify({
      id: "chatcmpl-1",
      model: "m",
      object: "chat.completion",
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    });
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
    res.end(gzipSync(body));
  });
  // A gzip reply the server sends unasked: only a transport that decodes it reads "ok".
  const request = {
    provider: "p",
    model: "m",
    system: null,
    messages: [{ role: "user" as const, content: "hi" }],
    params: {},
    json: false,
  };
  const c = { baseUrl: `${url}/v1`, apiKey: "k", headers: {} };
  for (let i = 0; i < 3; i++) {
    const r = await callOpenAi(request as never, c, new AbortController().signal);
    assert.equal(r.text, "ok");
  }
  assert.equal(sockets.size, 1);
  assert.deepEqual(fetchMarks, [undefined, undefined, undefined]);
});
