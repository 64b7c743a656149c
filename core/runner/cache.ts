// The result cache (docs/runner.md, "Cache"): a step whose resolved input, provider, model and
// parameters (and, for a tool, its module's text; for a scripted provider, its replies) are the
// same as an earlier successful run's reuses that result, and so do the secrets it uses.
// Which steps use it: `llm` and `embed` by default; `http`, `shell`, `tool` and `transform` only when the step
// itself says `cache: true` or `{ ttl }` (or its type's `defaults.<type>.cache` does);
// `defaults.cache` applies to `llm`. `cache: false` turns it off.
import { scryptSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Step, Workflow } from "../model/schema";
import { durationMs, typeDefaults } from "./policy";
import { sha256 } from "./recorder";
import { isPythonTool, pythonEnvironment } from "./python/interpreter";

export interface CachePolicy {
  readonly enabled: boolean;
  /** Milliseconds a result stays valid; undefined: for ever. */
  readonly ttlMs?: number;
}

type CacheSetting = boolean | { ttl: string } | undefined;

export function cachePolicy(step: Step, workflow: Workflow): CachePolicy {
  const own = (step.cache ?? typeDefaults(step, workflow)?.cache) as CacheSetting;
  // An http GET reaches a server whose answer may change at any time: cached only when asked.
  const byDefault = step.type === "llm" || step.type === "embed";
  const setting = own ?? (byDefault ? ((workflow.defaults?.cache as CacheSetting) ?? true) : false);
  if (setting === false) return { enabled: false };
  if (setting === true) return { enabled: true };
  return { enabled: true, ttlMs: durationMs(setting.ttl) };
}

/**
 * The cache key of a prepared step: everything that can change its output. `provider` is the one
 * the attempt calls; `dir` is the workflow's folder, where a tool's module resolves; `secrets` are
 * the run's secrets, of which the key holds a fingerprint of each the step or its provider reads
 * (the input has them redacted, so two runs with different credentials must not share a result).
 */
export function cacheKey(
  step: Step,
  inputHash: string,
  workflow: Workflow,
  provider: string | undefined,
  dir: string,
  secrets: Readonly<Record<string, string>>,
): string {
  const parts: Record<string, unknown> = { type: step.type, input: inputHash };
  const config = provider !== undefined ? workflow.providers?.[provider] : undefined;
  if (provider !== undefined) {
    parts.provider = config
      ? {
          type: config.type,
          base_url: "base_url" in config ? (config.base_url ?? null) : null,
          // Azure's endpoint, deployment and api-version are in the input (the request).
          model: "model" in config ? (config.model ?? null) : null,
          // A scripted provider's replies are its output: an edited reply is a new entry.
          ...(config.type === "scripted" ? scriptedReplies(config, dir) : {}),
        }
      : null;
  }
  if (step.type === "tool") parts.module = toolModuleHash(step.uses, dir);
  // A Python tool's result depends on its interpreter's version and its packages too.
  if (step.type === "tool" && isPythonTool(step.uses))
    parts.python = pythonEnvironment(workflow.defaults?.python, dir);
  const used = secretsRead([step, config], secrets);
  if (used.length > 0)
    parts.secrets = used.map((name) => [name, secretFingerprint(name, secrets[name]!)]);
  return sha256(JSON.stringify(parts));
}

/**
 * The sha256 of a tool's module file (`uses` before `#`, relative to the workflow's folder `dir`),
 * not of what it imports; of "(missing)" when it cannot be read. The cache key holds it, and so
 * does every attempt's recorded input, where replay compares it (docs/replay.md).
 */
export function toolModuleHash(uses: string, dir: string): string {
  return sha256(fileText(resolve(dir, uses.split("#")[0]!)));
}

function fileText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "(missing)";
  }
}

function scriptedReplies(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  return {
    responses: config.responses ?? null,
    default: config.default ?? null,
    file: typeof config.file === "string" ? sha256(fileText(resolve(dir, config.file))) : null,
  };
}

/** `secrets.NAME` or `secrets["NAME"]`, and `secrets` read whole (then every secret counts). */
const SECRET_REF =
  /\bsecrets\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\s*\[\s*["']([^"']+)["']\s*\])?/g;

/** The names of the run's secrets that the templates of `parts` read, sorted. */
function secretsRead(
  parts: readonly unknown[],
  secrets: Readonly<Record<string, string>>,
): string[] {
  const names = new Set<string>();
  const strings: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === "string") strings.push(v);
    else if (v !== null && typeof v === "object")
      for (const item of Object.values(v)) collect(item);
  };
  collect(parts);
  for (const text of strings) {
    for (const m of text.matchAll(SECRET_REF)) {
      const name = m[1] ?? m[2];
      if (name === undefined) return Object.keys(secrets).sort();
      if (secrets[name] !== undefined) names.add(name);
    }
  }
  return [...names].sort();
}

const fingerprints = new Map<string, string>();

/**
 * A slow keyed hash of a secret's value (scrypt, salted with its name): the key tells credentials
 * apart, and nothing stored lets one read a credential back, nor test a guess cheaply. No key is
 * kept anywhere, so every machine of a team computes the same fingerprint for the same value and
 * shares entries (docs/runner.md, "Cache").
 */
function secretFingerprint(name: string, value: string): string {
  const memo = `${name}\u0000${value}`;
  let print = fingerprints.get(memo);
  if (print === undefined) {
    print = scryptSync(value, `keel cache key\u0000${name}`, 32, {
      N: 1 << 14,
      r: 8,
      p: 1,
    }).toString("hex");
    fingerprints.set(memo, print);
  }
  return print;
}
