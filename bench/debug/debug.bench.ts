// `npm run bench:debug` (optionally a step count, default 5,000): see worker.ts for what is
// measured. The worker is bundled with esbuild and run with plain `node`, as the extension and the
// CLI run the session (see bench/replay/replay.bench.ts for why not under tsx).
import { runBundledWorker } from "../bundle";

void runBundledWorker("bench/debug/worker.ts");
