// A local stand-in for the OpenAI and Anthropic APIs, for tests that drive the real SDK clients:
// scripted replies and faults, a request log, nothing reachable beyond 127.0.0.1.
//
//   const server = await startProviderServer();
//   server.script([{ status: 429, retryAfter: 1 }, { reply: "hello" }]);
//   new OpenAI({ apiKey: "sk-test", baseURL: server.openaiBaseURL, maxRetries: 0 });
//   …
//   await server.close();
export { startProviderServer, type ProviderServer } from "./server";
export type {
  ApiKind,
  Behaviour,
  Completion,
  HangBehaviour,
  MalformedBehaviour,
  RecordedRequest,
  ReplyBehaviour,
  ScriptStep,
  StallBehaviour,
  StatusBehaviour,
  StreamErrorBehaviour,
  ToolCallReply,
  ToolCallsBehaviour,
  TruncatedBehaviour,
  TruncatedStreamBehaviour,
  Usage,
} from "./types";
