// Finding a job's processes from the host. Inside the job's sandbox (a PID namespace) a task only
// knows its own namespace's pids, so tests recognise the job's processes by the TASKOTRON_UUID every
// task command carries in its environment (readable in /proc as root, which the tests run as).
import { readFileSync, readdirSync } from 'node:fs';
import { waitFor } from './until.js';

export interface HostProcess {
  pid: number;
  cmdline: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of a process's /proc/<pid>/stat line (stat(5)) that the suite and its harness read. */
export interface ProcStat {
  /** R, S, D, ...; Z for a zombie: it ended and waits for its parent to reap it. */
  state: string;
  ppid: number;
  pgrp: number;
  /** User and system CPU so far. */
  cpuMs: number;
  /** When it started (clock ticks since boot): with the pid, it names one process, a reused pid another. */
  startTime: string;
}

/** The process's stat line, read; undefined once it is gone. */
export function procStat(pid: number | string): ProcStat | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // After the command's ")": state, ppid, pgrp, ..., utime and stime (clock ticks, USER_HZ 100), ...,
  // starttime (fields 3, 4, 5, 14, 15 and 22 of the line).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0]!,
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
    startTime: fields[19] ?? '',
  };
}

/** The process's command line, its arguments joined by NUL; '' once it is gone. */
export function commandLine(pid: number | string): string {
  return read(`/proc/${pid}/cmdline`) ?? '';
}

/** The stat line of a process that runs: undefined once it is gone or a zombie (killed but not yet reaped). */
export function liveProcStat(pid: number | string): ProcStat | undefined {
  const stat = procStat(pid);
  return stat?.state === 'Z' ? undefined : stat;
}

const live = (pid: number | string) => liveProcStat(pid) !== undefined;

/** Whether the process runs: it exists and is not a zombie (killed but not yet reaped counts as gone). */
export function processAlive(pid: number): boolean {
  return live(pid);
}

/** Running (not zombie) processes on this host whose environment says they belong to the job `uuid`. */
export function jobProcesses(uuid: string): HostProcess[] {
  const marker = `TASKOTRON_UUID=${uuid}`;
  const found: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (!live(entry)) continue;
    if (!read(`/proc/${entry}/environ`)?.split('\0').includes(marker)) continue;
    found.push({ pid: Number(entry), cmdline: commandLine(entry).split('\0').join(' ').trim() });
  }
  return found;
}

/**
 * Waits (bounded) until the job has `count` processes whose command lines match `pattern`: a script
 * that starts several forks them one after the other, and on a loaded machine the first can be seen
 * well before the next.
 */
export async function waitForJobProcess(uuid: string, pattern: RegExp, { count = 1, timeoutMs = 30_000 } = {}): Promise<HostProcess[]> {
  let processes: HostProcess[] = [];
  return waitFor(() => `${count} process(es) of job ${uuid} matching ${pattern}; there were: ${JSON.stringify(processes)}`, () => {
    processes = jobProcesses(uuid);
    return processes.filter((p) => pattern.test(p.cmdline)).length >= count && processes;
  }, { timeoutMs, intervalMs: 50 });
}

/** Waits (bounded) until none of the job's processes is left; returns those still alive at the end. */
export async function waitForNoJobProcesses(uuid: string, timeoutMs = 5_000): Promise<HostProcess[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = jobProcesses(uuid);
    if (left.length === 0 || performance.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Pids of live (not zombie) processes on this host whose command line contains `text`. */
export function pidsMatching(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (!live(entry)) continue;
    if (commandLine(entry).split('\0').join(' ').includes(text)) pids.push(Number(entry));
  }
  return pids;
}
