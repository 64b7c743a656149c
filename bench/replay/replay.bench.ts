// `npm run bench:replay` (`-- --no-peer` skips LangGraph): see worker.ts for what is measured. The worker is bundled with esbuild
// (as the CLI and the extension are) and run with plain `node`, like the runner bench's: under
// `--import tsx` every closure the replay makes per step is wrapped by tsx's keep-names helper
// (a defineProperty each), which `keel replay` never pays.
import { runBundledWorker } from "../bundle";

void runBundledWorker("bench/replay/worker.ts");
