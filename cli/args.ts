// A small argv parser shared by the commands: flags with values, repeatable flags, positionals.
import { UsageError } from "./output";

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string[]>;
}

/** `spec` maps each flag to whether it takes a value. */
export function parseArgs(
  args: readonly string[],
  spec: Record<string, boolean>,
  usage: string,
): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    if (!(name in spec)) throw new UsageError(`unknown option '${name}'\nusage: ${usage}`);
    let value = "";
    if (spec[name]) {
      value = inline ?? args[++i] ?? "";
      if (inline === undefined && i >= args.length)
        throw new UsageError(`${name} needs a value\nusage: ${usage}`);
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { positionals, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.at(-1);
}
