// Ending an interrupted test run with everything it started. Ctrl-C in a terminal reaches the whole
// foreground process group, but a SIGTERM (CI cancelling a job, `timeout npm test`) reaches the
// harness alone, and what tests start detached (runner workers, `taskotron start`, servers) is in no
// group of ours at all. Without this, an interrupted run's test files went on one after another
// against a stopped server, for minutes, with their processes. Processes are found from /proc, by
// parent, before any of them ends (an orphan's parent becomes init, and it could no longer be found).
import { readFileSync, readdirSync } from 'node:fs';

/** A process, with its start time so that a pid reused meanwhile is never signalled. */
export interface RunProcess {
  pid: number;
  startTime: string;
}

interface Stat {
  ppid: number;
  pgrp: number;
  startTime: string;
}

/** A live (not zombie) process's parent, group and start time; undefined once it has ended. */
function stat(pid: number | string): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // stat(5) after the command's ")": state, ppid, pgrp, ... starttime (the 22nd field of the line).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined;
  return { ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: fields[19] ?? '' };
}

/** What an interruption leaves to its own ending. */
export interface Spared {
  /** Process groups, with everything below them: the servers the harness stops itself. */
  groups?: number[];
  /**
   * Command lines (arguments joined by NUL) of `root`'s own children: the harness's esbuild service,
   * which it may still be using (signalled mid-transpile, it threw in the harness) and which ends
   * when the harness does.
   */
  children?: RegExp;
}

/** Every live process below `root` (its children, theirs, and so on, detached or not), but those `spared`. */
export function descendants(root: number, spared: Spared = {}): RunProcess[] {
  const children = new Map<number, { pid: number; stat: Stat }[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const found = stat(name);
    if (!found) continue;
    const siblings = children.get(found.ppid) ?? [];
    siblings.push({ pid: Number(name), stat: found });
    children.set(found.ppid, siblings);
  }
  const result: RunProcess[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const child of children.get(parent) ?? []) {
      if (spared.groups?.includes(child.stat.pgrp)) continue;
      if (parent === root && spared.children?.test(commandLine(child.pid))) continue;
      result.push({ pid: child.pid, startTime: child.stat.startTime });
      queue.push(child.pid);
    }
  }
  return result;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Those of `processes` still running (the same process: its start time unchanged). */
export function stillRunning(processes: RunProcess[]): RunProcess[] {
  return processes.filter((p) => stat(p.pid)?.startTime === p.startTime);
}

/** Sends `signal` to each of `processes` still running. */
export function signalEach(processes: RunProcess[], signal: NodeJS.Signals): void {
  for (const p of stillRunning(processes)) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // Ended since it was looked at.
    }
  }
}
