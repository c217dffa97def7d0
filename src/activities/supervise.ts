// The one way a runner host runs a task's command: in its own process group, output streamed to a
// log file in the artifacts dir, heartbeating while it runs, and killed with its whole group when the
// job is cancelled or the worker shuts down (a grandchild holding the pipe open would otherwise keep
// the step alive: reference/temporal.md §4).
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { execa } from 'execa';
import { FailureType, stepFailure } from '../common/failures.js';

export interface SupervisedCommand {
  /** argv[0] and its arguments; a shell script is `['/bin/sh', '-c', script]`. */
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
  /** Appended to, so the commands of one action share one log. */
  logFile: string;
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
  durationMs: number;
}

export const HEARTBEAT_INTERVAL_MS = 1_000;
const DEFAULT_MAX_STDOUT = 1024 * 1024;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone already */
  }
}

/**
 * Runs one command under supervision. Resolves with its exit code whatever it is; rejects with
 * CancelledFailure when the activity was cancelled (after the group is dead), or with the spawn error.
 */
export async function runSupervised(command: SupervisedCommand): Promise<SupervisedResult> {
  const context = Context.current();
  const started = Date.now();
  mkdirSync(dirname(command.logFile), { recursive: true });
  const log = createWriteStream(command.logFile, { flags: 'a' });
  log.write(`$ ${command.argv.map((word) => JSON.stringify(word)).join(' ')}\n`);
  const [file, ...args] = command.argv;
  const child = execa(file!, args, {
    cwd: command.cwd,
    env: command.env ?? {},
    extendEnv: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    detached: true,
    // We do our own group kill; execa's would only signal the direct child.
    cleanup: false,
  });
  const limit = command.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stdoutTruncated = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    if (stdoutBytes + chunk.length <= limit) {
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    } else stdoutTruncated = true;
  });
  child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));

  const beat = () => context.heartbeat({ ...command.progress, pid: child.pid, elapsedMs: Date.now() - started });
  beat();
  const heartbeats = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  let cancelled = false;
  let forceKill: NodeJS.Timeout | undefined;
  const onCancel = () => {
    cancelled = true;
    if (child.pid === undefined) return;
    log.write(`\n[taskotron] cancelled (${String(context.cancellationSignal.reason ?? 'cancel requested')}): SIGTERM to process group ${child.pid}\n`);
    killGroup(child.pid, 'SIGTERM');
    forceKill = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), command.killGraceMs ?? 3_000);
  };
  context.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  try {
    const result = await child;
    if (result.failed && result.exitCode === undefined && !result.signal) {
      throw new Error(`cannot run ${file}: ${result.shortMessage}`);
    }
    // The command may have left children behind in its group; they must not outlive the step.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    if (cancelled) {
      // A worker going down is not the job being cancelled: say so, so the job moves to another host.
      const reason = context.cancellationSignal.reason as { message?: string } | undefined;
      if (reason?.message === 'WORKER_SHUTDOWN') {
        throw stepFailure(FailureType.HostShuttingDown, `runner host shut down while running ${file}; the step was killed`, { log: command.logFile });
      }
      throw new CancelledFailure(`cancelled while running ${file}`);
    }
    const exitCode = result.exitCode ?? 128;
    log.write(`[taskotron] exit code ${exitCode}${result.signal ? ` (signal ${result.signal})` : ''} after ${Date.now() - started} ms\n`);
    return {
      exitCode,
      ...(result.signal ? { signal: result.signal } : {}),
      stdout: Buffer.concat(stdout).toString('utf8'),
      stdoutTruncated,
      durationMs: Date.now() - started,
    };
  } finally {
    clearInterval(heartbeats);
    if (forceKill) clearTimeout(forceKill);
    context.cancellationSignal.removeEventListener('abort', onCancel);
    await new Promise<void>((resolve) => log.end(resolve));
  }
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
