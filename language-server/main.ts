// The language server's entry: creates the connection (stdio or IPC, from the command line) and
// hands it to startServer, so tests can drive the real server over any stream.
import { createConnection, ProposedFeatures } from "vscode-languageserver/node";
import { startServer } from "./server";

startServer(createConnection(ProposedFeatures.all));
