// The result cache (SPEC §5): a step whose resolved input, provider, model and parameters (and,
// for a tool, its module's text) are the same as an earlier successful run's reuses that result.
// Which steps use it (DECISIONS §2 and docs/runner.md): `llm` and `http` GET by default;
// `shell`, `tool` and `transform` only when the step itself says `cache: true` or `{ ttl }`;
// `defaults.cache` applies to the types that cache by default. `cache: false` turns it off.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Step, Workflow } from "../model/schema";
import { durationMs } from "./policy";
import { sha256 } from "./recorder";

export interface CachePolicy {
  readonly enabled: boolean;
  /** Milliseconds a result stays valid; undefined: for ever. */
  readonly ttlMs?: number;
}

type CacheSetting = boolean | { ttl: string } | undefined;

export function cachePolicy(step: Step, workflow: Workflow): CachePolicy {
  const own = step.cache as CacheSetting;
  const byDefault =
    step.type === "llm" || (step.type === "http" && (step.method ?? "GET") === "GET");
  const setting = own ?? (byDefault ? ((workflow.defaults?.cache as CacheSetting) ?? true) : false);
  if (setting === false) return { enabled: false };
  if (setting === true) return { enabled: true };
  return { enabled: true, ttlMs: durationMs(setting.ttl) };
}

/**
 * The cache key of a prepared step: everything that can change its output. `provider` is the one
 * the attempt calls; `dir` is the workflow's folder, where a tool's module resolves.
 */
export function cacheKey(
  step: Step,
  inputHash: string,
  workflow: Workflow,
  provider: string | undefined,
  dir: string,
): string {
  const parts: Record<string, unknown> = { type: step.type, input: inputHash };
  if (provider !== undefined) {
    const config = workflow.providers?.[provider];
    parts.provider = config
      ? {
          type: config.type,
          base_url: "base_url" in config ? (config.base_url ?? null) : null,
          model: config.model ?? null,
        }
      : null;
  }
  if (step.type === "tool") {
    let text: string;
    try {
      text = readFileSync(resolve(dir, step.uses.split("#")[0]!), "utf8");
    } catch {
      text = "(missing)";
    }
    parts.module = sha256(text);
  }
  return sha256(JSON.stringify(parts));
}
