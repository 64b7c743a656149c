// `keel dap`: the replay debugger (docs/debugger.md) as a Debug Adapter Protocol server on
// stdin/stdout, for DAP clients other than VS Code (nvim-dap, Helix, Zed). The same session class
// VS Code runs inline; the client's launch configuration names the run (`runId`, `workflow`,
// `store`).
import { ReplayDebugSession } from "@keel/core/debug/session";
import { nodeReplayHost } from "@keel/core/debug/node-host";
import { flag, parseArgs } from "../args";
import { UsageError } from "../output";

export const usage = "keel dap [--store path]";

export async function runDap(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--store": true }, usage);
  if (args.positionals.length > 0) throw new UsageError(`dap takes no files\nusage: ${usage}`);
  const defaultStore = flag(args, "--store");
  const host = nodeReplayHost();
  const session = new ReplayDebugSession({
    openStore: (launch) => host.openStore({ ...launch, store: launch.store ?? defaultStore }),
    readText: (path) => host.readText(path),
  });
  session.start(process.stdin, process.stdout);
  // The session exits the process after `disconnect`; a client that just closes stdin ends it too.
  await new Promise<void>((done) => process.stdin.on("close", done));
  return 0;
}
