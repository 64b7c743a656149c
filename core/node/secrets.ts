// Secrets from the environment (docs/runner.md, "Which step sees which secret"): every
// `KEEL_SECRET_<NAME>` of the process is a secret Keel knows, and is masked in everything a run
// writes, whether the workflow reads it or not. No step inherits one: a command's process and a
// tool's worker get the environment without them, and a step sees a secret only through the
// `${{ secrets.NAME }}` it writes.
import { MIN_SECRET_LENGTH, SECRET_PREFIX } from "../check/secrets";

/** A secret that is missing or cannot be masked; its message names the variable and the fix. */
export class SecretError extends Error {}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Every secret of the environment by NAME, checking that each of `needed` is set and that none
 * is too short to be masked; throws a SecretError saying which and what to do.
 */
export function environmentSecrets(
  needed: readonly string[],
  env: Environment = process.env,
): Record<string, string> {
  const secrets: Record<string, string> = {};
  const short: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(SECRET_PREFIX) || value === undefined) continue;
    secrets[key.slice(SECRET_PREFIX.length)] = value;
    if (value.length > 0 && value.length < MIN_SECRET_LENGTH) short.push(key);
  }
  const missing = needed.filter((name) => secrets[name] === undefined);
  if (missing.length > 0) {
    throw new SecretError(
      `the workflow reads secrets that are not set: ${missing.map((n) => SECRET_PREFIX + n).join(", ")}`,
    );
  }
  if (short.length > 0) {
    throw new SecretError(
      `${short.join(", ")} ${short.length === 1 ? "is" : "are"} shorter than ${MIN_SECRET_LENGTH} characters: Keel masks a secret by its text, and one that short would mask ordinary text too; give it a longer value, or pass a value that is not secret as an input`,
    );
  }
  return secrets;
}

/** The environment a command or a tool runs with: the process's, without any KEEL_SECRET_*. */
export function withoutSecrets(env: Environment = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith(SECRET_PREFIX)) out[key] = value;
  }
  return out;
}
