// Which steps an untrusted workspace must not run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validate } from "@keel/core/check/validate";
import { effectfulSteps } from "@keel/core/service/trust";

const FLOW = `keel: 1
name: t
providers:
  fake: { type: scripted, default: "ok" }
  backup: { type: scripted, default: "ok", fallback: real }
  real: { type: openai, model: gpt-4o-mini, api_key: "\${{ secrets.KEY }}" }
steps:
  a: { type: transform, expr: 1 }
  b: { type: llm, provider: fake, prompt: hi }
  c: { type: llm, provider: real, prompt: hi }
  d: { type: llm, provider: backup, prompt: hi }
  e: { type: shell, run: [echo, hi] }
  f: { type: http, url: "http://127.0.0.1:1/" }
  g: { type: tool, uses: "./x.js#y" }
  h: { type: assert, that: "true" }
  i: { type: workflow, uses: ./child.keel.yaml }
`;

test("http, tool, shell, workflow and llm steps with a real provider anywhere in their chain have effects", () => {
  const { model } = validate(FLOW);
  // A child run may do anything its file does.
  assert.deepEqual(effectfulSteps(model), ["c", "d", "e", "f", "g", "i"]);
  assert.deepEqual(effectfulSteps(model, new Set(["a", "b", "e"])), ["e"]);
});
