// Ending an interrupted test run with everything it started. A SIGTERM (CI cancelling a job,
// `timeout npm test`) reaches the harness alone; a terminal's Ctrl-C reaches its foreground process
// group, which the test runner and its files are kept out of (scripts/test.ts: they died of it before
// the harness could look); and what tests start detached (runner workers, `taskotron start`, servers)
// is in no group of ours at all. Without this, an interrupted run's test files went on one after another
// against a stopped server, for minutes, with their processes. Processes are found from /proc, by
// parent, before any of them ends (an orphan's parent becomes init, and it could no longer be found).
import { readdirSync } from 'node:fs';
import { commandLine, liveProcStat, type ProcStat } from '../../test/support/processes.js';

/** A process, with its start time so that a pid reused meanwhile is never signalled. */
export interface RunProcess {
  pid: number;
  startTime: string;
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
  const children = new Map<number, { pid: number; stat: ProcStat }[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const found = liveProcStat(name);
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

/** Those of `processes` still running (the same process: its start time unchanged). */
export function stillRunning(processes: RunProcess[]): RunProcess[] {
  return processes.filter((p) => liveProcStat(p.pid)?.startTime === p.startTime);
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
