// Process groups a run's commands started, told apart from unrelated processes that were given the
// same pid later (docs/runner.md, "Crashes and resume"). A command runs as the leader of its own
// group; the run records the leader's pid with its start time as the system tells it, and a resume
// ends a recorded group only while it is still that one.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { ProcessRecord } from "../record/records";

/**
 * When process `pid` started, as a text that differs for a later process given the same pid:
 * on Linux the boot's id and the start in clock ticks since boot (/proc/<pid>/stat), elsewhere
 * what `ps -o lstart=` says (to the second). Undefined when the process does not exist (or is a
 * zombie) or the system cannot say (Windows, where commands have no process groups).
 */
export function processStart(pid: number): string | undefined {
  if (process.platform === "linux") {
    const stat = procStat(pid);
    return stat && stat.state !== "Z" ? `${bootId()}:${stat.start}` : undefined;
  }
  if (process.platform === "win32") return undefined;
  try {
    const text = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return text === "" ? undefined : `lstart:${text}`;
  } catch {
    return undefined;
  }
}

/** A group a resume ended: the recorded process and how many of its processes were still there. */
export interface EndedGroup {
  readonly record: ProcessRecord;
  readonly processes: number;
}

/**
 * Kills (SIGKILL) every recorded process group that is still the one recorded: its leader alive
 * with the recorded start time, or (on Linux) the leader gone and members of its group left that
 * started after it in the same boot. Waits up to `waitMs` for them to go. A pid given to an
 * unrelated process since is left alone.
 */
export async function endProcessGroups(
  records: readonly ProcessRecord[],
  waitMs = 2000,
): Promise<EndedGroup[]> {
  const ended: EndedGroup[] = [];
  for (const record of records) {
    const members = survivors(record);
    if (members.length === 0) continue;
    try {
      process.kill(-record.pid, "SIGKILL");
    } catch {
      continue; // gone meanwhile
    }
    ended.push({ record, processes: members.length });
  }
  const deadline = Date.now() + waitMs;
  while (ended.some((g) => survivors(g.record).length > 0) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  return ended;
}

/** The live processes of a recorded group that are provably still it. */
function survivors(record: ProcessRecord): number[] {
  const leader = processStart(record.pid);
  if (process.platform !== "linux") return leader === record.start ? [record.pid] : [];
  const [boot, ticks] = splitStart(record.start);
  if (boot !== bootId() || ticks === undefined) return [];
  // The leader's pid cannot be reused while its group has members, so members found with that
  // group id belong to it once they started no earlier than the leader did.
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat && stat.pgrp === record.pid && stat.state !== "Z" && stat.start >= ticks)
      members.push(Number(name));
  }
  if (leader !== undefined && leader !== record.start) return [];
  return members;
}

function splitStart(start: string): [string, number | undefined] {
  const at = start.lastIndexOf(":");
  const ticks = Number(start.slice(at + 1));
  return [start.slice(0, at), at > 0 && Number.isFinite(ticks) ? ticks : undefined];
}

/** State, process group and start (clock ticks since boot) of a process, from /proc/<pid>/stat. */
function procStat(pid: number): { state: string; pgrp: number; start: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Fields from 3 on: state is field 3, pgrp field 5, starttime field 22.
  return { state: fields[0]!, pgrp: Number(fields[2]), start: Number(fields[19]) };
}

let boot: string | undefined;

function bootId(): string {
  if (boot === undefined) {
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      boot = "boot";
    }
  }
  return boot;
}
