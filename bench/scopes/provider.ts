// The local OpenAI-compatible server of the maps benchmark, in a process of its own so that its
// work does not share the measured run's event loop (a real provider is another machine): every
// request is answered "ok" after `delayMs`. Prints `URL <base url>` once listening; when its
// standard input closes, prints `REQUESTS <n> <most>` (the requests answered, and the most that
// arrived within `delayMs` of each other) and exits. One server process per configuration.
import { startProviderServer } from "../../test/helpers/provider-server";

async function main(): Promise<void> {
  const delayMs = Number(process.argv[2] ?? 50);
  const server = await startProviderServer();
  server.setDefault({ reply: "ok", delayMs, usage: { input: 12, output: 1 } });
  process.stdout.write(`URL ${server.openaiBaseURL}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    // The most requests that arrived within one delay of each other: the calls in flight at once.
    const at = server.requests.map((r) => r.at).sort((x, y) => x - y);
    let most = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i]! - at[j]! >= delayMs) j++;
      most = Math.max(most, i - j + 1);
    }
    process.stdout.write(`REQUESTS ${server.count("openai")} ${most}\n`);
    void server.close();
  });
}

void main();
