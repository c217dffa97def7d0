// The one way a runner host runs a process — task commands, git, rpm/dnf, createrepo, download
// helpers: in its own process group, output streamed to a log file, heartbeating while it runs, and
// killed with its whole group when the step is cancelled, times out or the worker shuts down (a
// grandchild holding the pipe open would otherwise keep the step alive: reference/temporal.md §4).
// Task commands also pass a sandbox: then they run inside it, with only the sandbox's environment.
// The process itself is started by the runner's spawner (spawner.ts), a small helper process, because
// a spawn() from the runner's own big process blocks its event loop for the fork (~10 ms per command);
// TASKOTRON_SPAWNER=direct, or a spawner that cannot start, spawns from the runner as before.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { FailureType, stepFailure } from '../common/failures.js';
import type { SandboxBackend, SandboxSpec } from './sandbox.js';
import { currentSpawner, prestartWanted, SpawnError, spawnerWanted, type SpawnedCommand, type SpawnOutcome, type SpawnRequest } from './spawner.js';

export interface SupervisedCommand {
  /** argv[0] and its arguments; a shell script is `['/bin/sh', '-c', script]`. */
  argv: string[];
  cwd: string;
  /**
   * Added to the runner's environment for the runner's own tools; for a sandboxed command it is the
   * whole environment (see sandboxEnvironment), plus the backend's HOME and TMPDIR.
   */
  env?: Record<string, string>;
  /** Appended to, so the commands of one action share one log; without one, output is only kept in memory. */
  logFile?: string;
  /** Task commands run in the job's sandbox; the runner's own tools (git, dnf, rpm) run without. */
  sandbox?: { backend: SandboxBackend; spec: SandboxSpec };
  /** Kill the command's group after this long; the result says timedOut. */
  timeoutMs?: number;
  /** Keep at most this much of stdout in memory (it may become an exported variable). */
  maxStdoutBytes?: number;
  /** Between SIGTERM and SIGKILL when cancelled. */
  killGraceMs?: number;
  /** Text to put in heartbeat details (shown in the UI's pending activity). */
  progress?: Record<string, unknown>;
}

export interface SupervisedResult {
  exitCode: number;
  /** The signal that ended the process, if one did. */
  signal?: string;
  stdout: string;
  stdoutTruncated: boolean;
  /** The last few KiB of stderr, for error messages of the runner's own tools. */
  stderrTail: string;
  /** The command ran past timeoutMs and was killed. */
  timedOut?: boolean;
  /** It ran in its job's sandbox (set up before it came: sandbox.ts JobSandbox). */
  prestarted?: boolean;
  durationMs: number;
}

export const HEARTBEAT_INTERVAL_MS = 1_000;
const DEFAULT_MAX_STDOUT = 1024 * 1024;
const STDERR_TAIL_BYTES = 8 * 1024;

/** Marks the processes of one command run by a backend that does not contain them itself. */
const LEFTOVER_MARKER = 'TASKOTRON_COMMAND_ID';

/** Where to look for a command's leftovers: processes created after its first one (see pidWindow). */
export interface LeftoverWindow {
  /** The command's own pid: every process it started was created after it. */
  afterPid: number;
  /** Processes and threads the kernel had created since boot just before the command started. */
  forksBefore: number;
}

/** Every process and thread the kernel has created since boot (all PID namespaces). */
export function forksSinceBoot(): number {
  try {
    const match = /^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Which pids can belong to a process created after `afterPid`. Linux hands out pids in order,
 * wrapping from pid_max back to the bottom, so those are the pids from afterPid up to the last one
 * handed out — unless the allocator went round the whole range meanwhile. It moves one step per new
 * task plus one per pid it skips because it is in use, so with fewer than half the range created
 * and alive it cannot have come round; otherwise undefined: every pid is a candidate.
 */
export function pidWindow(afterPid: number, lastPid: number, forksSince: number, tasksAlive: number, pidMax: number): ((pid: number) => boolean) | undefined {
  // 300: the pids below it are reserved for the kernel when the allocator wraps (RESERVED_PIDS).
  const known = [afterPid, lastPid, forksSince, tasksAlive, pidMax].every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!known || (forksSince + tasksAlive) * 2 >= pidMax - 300) return undefined;
  return afterPid <= lastPid ? (pid) => pid > afterPid && pid <= lastPid : (pid) => pid > afterPid || pid <= lastPid;
}

/** The pids that may be new since `window` began, read after the /proc listing they filter. */
function newPids(window: LeftoverWindow | undefined): ((pid: number) => boolean) | undefined {
  if (!window) return undefined;
  try {
    // "0.18 2.03 3.20 1/234 56789": tasks alive (threads included) and the last pid of our PID namespace.
    const [, tasks, last] = /\d+\/(\d+) (\d+)\s*$/.exec(readFileSync('/proc/loadavg', 'latin1')) ?? [];
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
    return pidWindow(window.afterPid, Number(last), forksSinceBoot() - window.forksBefore, Number(tasks), pidMax);
  } catch {
    return undefined;
  }
}

/**
 * Kills every process still carrying this command's marker in its environment: what a command
 * left behind outside its process group (a `setsid` daemon) when no PID namespace takes it down.
 * Reading every process's environment costs milliseconds on a busy host after every command; with
 * a window only the processes created since the command started are read (usually none or a few).
 */
export function killLeftovers(marker: string, window?: LeftoverWindow, killedGroup?: number): number {
  const killedPids = new Set<number>();
  // A straggler may fork while we look: repeat until a pass finds nobody (a killed parent forks no more).
  for (let pass = 0; pass < 20; pass += 1) {
    let killed = 0;
    const entries = readdirSync('/proc');
    // After the listing, so every process in it that is new lies inside the window.
    const candidate = newPids(window);
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || (candidate && !candidate(Number(entry)))) continue;
      try {
        if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) continue;
        // "pid (comm) state ppid pgrp …": a zombie is dead already, and a member of the group killed a
        // moment ago may not have died yet; neither is a leftover.
        const [, state, group] = /^\d+ \(.*\) (\S) \d+ (\d+) /.exec(readFileSync(`/proc/${entry}/stat`, 'latin1')) ?? [];
        if (state === 'Z' || (killedGroup !== undefined && Number(group) === killedGroup)) continue;
        process.kill(Number(entry), 'SIGKILL');
        killed += 1;
        killedPids.add(Number(entry));
      } catch {
        /* gone, or not ours to read */
      }
    }
    if (killed === 0) break;
  }
  return killedPids.size;
}

interface Log {
  write(data: string | Buffer): void;
  /** Throws if a write failed: a step whose log is incomplete must not pass as if it were whole. */
  check(): void;
  close(): void;
}

/**
 * A log that is a file when there is one, and nothing otherwise. Written synchronously: an action's
 * log is a few appends, and a write stream's machinery cost more runner CPU than the writes
 * themselves (bench/shell-activity.bench.ts); the page cache takes a chunk of output in microseconds.
 */
function openLog(path: string | undefined): Log {
  if (!path) return { write: () => undefined, check: () => undefined, close: () => undefined };
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  let failure: Error | undefined;
  return {
    write(data) {
      if (failure) return;
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      try {
        for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
      } catch (error) {
        failure = error as Error;
      }
    },
    check() {
      if (failure) throw new Error(`cannot write the log ${path}: ${failure.message}`);
    },
    close: () => closeSync(fd),
  };
}

/**
 * Heartbeats while `work` runs: waiting on something that is not a process (a lock another step
 * holds) must not look like a dead host. Cancellation rejects at once; the work itself is left to finish.
 */
export async function heartbeatWhile<T>(work: Promise<T>, details: Record<string, unknown>): Promise<T> {
  const context = Context.current();
  const started = Date.now();
  const beat = () => context.heartbeat({ ...details, elapsedMs: Date.now() - started });
  beat();
  const heartbeats = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  try {
    return await Promise.race([work, context.cancelled]);
  } finally {
    clearInterval(heartbeats);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone already */
  }
}

/**
 * Spawns in this process, as the runner did before the spawner (and does when it cannot start one
 * or TASKOTRON_SPAWNER=direct): the same outcome as the spawner's, the output into `log`.
 */
function spawnDirect(request: SpawnRequest, log: Log, onStarted: (pid: number) => void): Promise<SpawnOutcome> {
  // child_process itself rather than execa: we use none of what execa adds (buffering, rejecting,
  // cleanup on exit are all ours here), and its per-call work cost ~1.5 ms of runner CPU per command
  // (bench/shell-activity.bench.ts).
  const child = spawn(request.file, request.args, { cwd: request.cwd, env: request.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid !== undefined) onStarted(child.pid);
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stdoutTruncated = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    if (stdoutBytes + chunk.length <= request.maxStdoutBytes) {
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    } else stdoutTruncated = true;
  });
  let stderrTail = Buffer.alloc(0);
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderrTail = Buffer.concat([stderrTail, chunk]);
    if (stderrTail.length > request.stderrTailBytes) stderrTail = stderrTail.subarray(stderrTail.length - request.stderrTailBytes);
  });
  return new Promise((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => reject(new SpawnError(error.message, error.code)));
    child.once('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stdoutTruncated, stderrTail: stderrTail.toString('utf8') }),
    );
  });
}

/**
 * Runs one command under supervision. Resolves with its exit code whatever it is; rejects with
 * CancelledFailure when the activity was cancelled (after the group is dead), or with the spawn error.
 * The command is started by the runner's spawner process (spawner.ts), which writes its output to
 * the log; everything else — kills, time limit, leftovers, heartbeats — is done here.
 */
export async function runSupervised(command: SupervisedCommand): Promise<SupervisedResult> {
  const context = Context.current();
  const started = Date.now();
  const log = openLog(command.logFile);
  const sandbox = command.sandbox;
  log.write(`$ ${command.argv.map((word) => JSON.stringify(word)).join(' ')}${sandbox ? `   [sandbox: ${sandbox.backend.name}]` : ''}\n`);
  const file = command.argv[0]!;
  const [program, ...args] = sandbox ? sandbox.backend.wrap(command.argv, command.cwd, sandbox.spec) : command.argv;
  // A command whose processes no PID namespace contains carries a marker in its environment, by
  // which they can be found: a sandbox-`none` command's stragglers after every command, and any such
  // command whose spawner died before it said the pid (then nothing else names its processes).
  const contained = sandbox?.backend.containsProcesses === true;
  const commandId = contained ? undefined : randomUUID();
  const marker = commandId === undefined ? undefined : `${LEFTOVER_MARKER}=${commandId}`;
  const scanAfterEach = sandbox !== undefined && !contained;
  const request: SpawnRequest = {
    file: program!,
    args,
    // bwrap changes directory inside the sandbox itself; the workdir is where it starts from.
    cwd: command.cwd,
    // A task sees only its sandbox's allow-listed environment, never the runner's.
    env: {
      ...(sandbox ? { ...command.env, ...sandbox.backend.environment(sandbox.spec) } : { ...process.env, ...command.env }),
      ...(commandId === undefined ? {} : { [LEFTOVER_MARKER]: commandId }),
    },
    ...(command.logFile ? { logFile: command.logFile } : {}),
    maxStdoutBytes: command.maxStdoutBytes ?? DEFAULT_MAX_STDOUT,
    stderrTailBytes: STDERR_TAIL_BYTES,
  };

  // The command's pid is its process group's id, which we kill as a whole. Through the spawner it
  // arrives a moment after the request: a cancel or time limit before then acts once it is known.
  // A command in a job sandbox has a pid of the sandbox's PID namespace: its agent does the kill.
  let pid: number | undefined;
  let spawned: SpawnedCommand | undefined;
  const signal = (groupPid: number, sig: NodeJS.Signals) => (spawned ? spawned.kill(sig) : killGroup(groupPid, sig));
  let pendingKill: (() => void) | undefined;
  const onStarted = (startedPid: number) => {
    pid = startedPid;
    pendingKill?.();
  };
  const beat = () => context.heartbeat({ ...command.progress, pid, elapsedMs: Date.now() - started });
  // No beat at the start: most commands end within the first interval, and each beat is an RPC and
  // a write on the server. The heartbeat timeout counts from the step's start, so a dead host is
  // noticed just as soon; cancellation reaches a command after at most one interval more.
  const heartbeats = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  let cancelled = false;
  let timedOut = false;
  let forceKill: NodeJS.Timeout | undefined;
  const stop = (why: string) => {
    const kill = (groupPid: number) => {
      log.write(`\n[taskotron] ${why}: SIGTERM to process group ${groupPid}${spawned?.inSandbox ? " (of the job's sandbox)" : ''}\n`);
      signal(groupPid, 'SIGTERM');
      forceKill = setTimeout(() => signal(groupPid, 'SIGKILL'), command.killGraceMs ?? 3_000);
    };
    if (pid !== undefined) kill(pid);
    else pendingKill = () => kill(pid!);
  };
  const onCancel = () => {
    if (cancelled) return;
    cancelled = true;
    if (timedOut) return;
    stop(`cancelled (${String(context.cancellationSignal.reason ?? 'cancel requested')})`);
  };
  context.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  const timeout =
    command.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          if (cancelled) return;
          timedOut = true;
          stop(`time limit of ${command.timeoutMs} ms reached`);
        }, command.timeoutMs);
  try {
    const forksBefore = scanAfterEach ? forksSinceBoot() : Number.NaN;
    const spawner = spawnerWanted() ? await currentSpawner() : undefined;
    if (context.cancellationSignal.aborted && !cancelled) onCancel();
    // It runs in the job's sandbox of its kind when that one is ready (sandbox.ts, Prestart).
    const prestart = spawner && sandbox && prestartWanted() ? sandbox.backend.prestart?.(command.argv, command.cwd, sandbox.spec, request.env as Record<string, string>) : undefined;
    if (prestart) request.prestart = prestart;
    // Settles when the process has exited and its output pipes are closed (a background process that
    // keeps them open is waited for, so the log misses nothing), or when it could not be started.
    spawned = spawner?.run(request, onStarted);
    const ended = spawned ? spawned.ended : spawnDirect(request, log, onStarted);
    const result = await ended.catch((error: Error) => {
      if (!(error instanceof SpawnError)) throw spawnerLost(error, marker, pid);
      // spawn says ENOENT for a missing working directory as for a missing program: tell them apart.
      const where = error.code === 'ENOENT' && !existsSync(command.cwd) ? ` (its working directory ${command.cwd} does not exist)` : '';
      throw new Error(`cannot run ${file}: ${error.message}${where}`);
    });
    // The command may have left children behind in its group; they must not outlive the step. (In a
    // job sandbox its agent has killed everything the command left before it reported the end.)
    if (pid !== undefined && !spawned?.inSandbox) killGroup(pid, 'SIGKILL');
    if (scanAfterEach && marker) {
      const killed = killLeftovers(marker, pid === undefined ? undefined : { afterPid: pid, forksBefore }, pid);
      if (killed > 0) log.write(`[taskotron] killed ${killed} process(es) the command left behind outside its process group\n`);
    }
    if (cancelled) {
      // A worker going down is not the job being cancelled: say so, so the job moves to another host.
      const reason = context.cancellationSignal.reason as { message?: string } | undefined;
      if (reason?.message === 'WORKER_SHUTDOWN') {
        throw stepFailure(FailureType.HostShuttingDown, `runner host shut down while running ${file}; the step was killed`, { log: command.logFile });
      }
      throw new CancelledFailure(`cancelled while running ${file}`);
    }
    if (result.logError !== undefined) throw new Error(`cannot write the log ${command.logFile}: ${result.logError}`);
    const exitCode = result.code ?? 128;
    log.write(`[taskotron] exit code ${exitCode}${result.signal ? ` (signal ${result.signal})` : ''}${timedOut ? ' (time limit)' : ''} after ${Date.now() - started} ms${result.prestarted ? " in the job's sandbox" : ''}\n`);
    log.check();
    return {
      exitCode,
      ...(result.signal ? { signal: result.signal } : {}),
      stdout: result.stdout,
      stdoutTruncated: result.stdoutTruncated,
      stderrTail: result.stderrTail,
      ...(timedOut ? { timedOut } : {}),
      ...(result.prestarted ? { prestarted: true } : {}),
      durationMs: Date.now() - started,
    };
  } finally {
    clearInterval(heartbeats);
    if (timeout) clearTimeout(timeout);
    if (forceKill) clearTimeout(forceKill);
    context.cancellationSignal.removeEventListener('abort', onCancel);
    log.close();
  }
}

/**
 * The error for a command whose spawner died under it (spawner.ts has killed its process group if
 * it knew the pid). What is left is found by the command's marker: a command started just before
 * the spawner died, whose pid never arrived, and a `setsid` straggler of an unsandboxed or sandbox
 * `none` command. Only bwrap's PID namespace dies with the spawner by itself. Every process is
 * read, as the pid is not known; this happens only when a spawner dies.
 */
function spawnerLost(error: Error, marker: string | undefined, killedGroup: number | undefined): Error {
  const killed = marker ? killLeftovers(marker, undefined, killedGroup) : 0;
  if (killed === 0) return error;
  return new Error(`${error.message}; ${killed} process(es) of the command, found by their ${LEFTOVER_MARKER}, were killed`);
}

/** The last `lines` lines of a log, for failure details the Temporal UI shows. */
export async function logTail(logFile: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}
