// Counting stand-ins for the outside world in replay tests: an HTTP server on 127.0.0.1 that
// counts its requests, a tool module and a shell command that each append to a file per call.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingHttpServer {
  readonly url: string;
  readonly count: () => number;
  close(): Promise<void>;
}

/** `GET /ok?x=…` answers `{"got": x}`; `/fail` answers 500. Every request is counted. */
export async function startHttpServer(): Promise<CountingHttpServer> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/fail") {
      res.writeHead(500, { "content-type": "text/plain" }).end("down");
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ got: url.searchParams.get("x"), n: 1 }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A tool module whose `count` export appends to `args.file` and echoes `args.v`. */
export const TOOL_MODULE = `"use strict";
const fs = require("node:fs");
function count(args) {
  fs.appendFileSync(args.file, "x");
  return { echo: args.v, size: String(args.v).length };
}
module.exports = { count };
`;
