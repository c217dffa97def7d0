// Starts a runner's commands through a small long-lived helper process, the spawner, instead of
// from the runner itself. Node 20's libuv starts a child with a full fork() and blocks the calling
// thread until the child has exec'd, so spawn() costs time in proportion to the parent's page tables:
// ~10 ms in a ~200 MB runner worker, during which no activation or completion of the worker runs,
// against ~2 ms from a ~40 MB process that does nothing else (bench/spawn-cost.bench.ts,
// docs/PERFORMANCE.md "Job workflow: per-action overhead").
//
// The spawner is a plain Node script (no SDK, no TypeScript: `node -e`, so it is the same under tsx
// and from dist/), one per runner process, started on first use. It spawns each command in its own
// process group (detached, as the runner did), writes the output to the command's log itself, keeps
// stdout up to the limit and the stderr tail, and answers with the pid at once and the exit code
// once the command's pipes are closed. The runner keeps everything else: the group kills on cancel,
// time limit and after exit, the leftover scan, heartbeats and errors (supervise.ts).
//
// Lifetimes: the spawner exits when its IPC channel closes — the runner exited or was killed, even
// with SIGKILL — after SIGKILL to every group it started that is still running (bwrap's
// --die-with-parent ties the sandbox to the spawner). A spawner that dies fails the runner's
// running commands (their groups killed; one whose pid had not arrived yet is found by its marker,
// supervise.ts) and the next command starts a new one. It is in its own
// process group, so a Ctrl-C to the worker's terminal reaches the worker (which cancels its steps
// cleanly) and not the spawner. It keeps no reference on the runner's event loop while idle.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Prestart } from './sandbox.js';

/** What the spawner starts: the program and arguments after any sandbox wrapping, and the full environment. */
export interface SpawnRequest {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Appended to by the spawner as the output arrives. */
  logFile?: string;
  maxStdoutBytes: number;
  stderrTailBytes: number;
  /** Run it in a waiting sandbox of this kind if there is one, and have one wait for the next command. */
  prestart?: Prestart;
}

export interface SpawnOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutTruncated: boolean;
  stderrTail: string;
  /** Why a write to the log failed, if one did (the output is then incomplete in the log). */
  logError?: string;
  /** It ran in a sandbox prestarted for it. */
  prestarted?: boolean;
}

/** A spawn error as spawn() reports it (code ENOENT etc.), for the caller's "cannot run" message. */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

// The spawner itself. CommonJS for `node -e`; every message carries the command's id.
// in:  {t:'run', id, file, args, cwd, env, logFile?, maxStdoutBytes, stderrTailBytes, prestart?}
//      {t:'forget', path}: drop the waiting sandboxes that bind `path` (it is about to go)
//      {t:'prestart', prestart, cwd, path}: set one up now, for a kind no command has run yet
// out: {t:'ready'} once; {t:'started', id, pid}; {t:'error', id, code, message}; {t:'closed', id, ...SpawnOutcome}
//
// Prestarted sandboxes (sandbox.ts, Prestart): after a command that came with `prestart`, the
// spawner sets up the next sandbox with the same key at once, and the next such command runs in it
// (its line is written to the waiting sh) instead of setting up its own. A waiting sandbox is used
// once; it is dropped when it has waited `idleMs` (argv[1]), when a directory it binds was replaced,
// when it was told to forget it, and with the spawner. One that is not set up yet when its command
// comes is waited for; one that dies before it is set up leaves its command to the usual path.
const SPAWNER_SCRIPT = `'use strict';
const { spawn } = require('node:child_process');
const { openSync, writeSync, closeSync, statSync } = require('node:fs');
const idleMs = Number(process.argv[1]) > 0 ? Number(process.argv[1]) : 30000;
const fault = process.argv[2];
const live = new Map();
const waiting = new Map();
const send = (message) => { try { process.send(message); } catch { /* the runner is gone: disconnect handles it */ } };
const killGroup = (pid) => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } };
process.on('disconnect', () => {
  for (const pid of live.values()) killGroup(pid);
  for (const sandbox of waiting.values()) killGroup(sandbox.child.pid);
  process.exit(0);
});
// Inode numbers are reused (a directory made anew often gets the one just freed): the birth time tells them apart.
const identity = (path) => { try { const s = statSync(path, { bigint: true }); return s.dev + ':' + s.ino + ':' + s.birthtimeNs; } catch { return '-'; } };
const drop = (sandbox) => {
  if (waiting.get(sandbox.key) === sandbox) waiting.delete(sandbox.key);
  clearTimeout(sandbox.timer);
  killGroup(sandbox.child.pid);
};

function prestart(p, cwd, path) {
  const old = waiting.get(p.key);
  if (old) drop(old);
  let child;
  // Only PATH: the sandbox waits for its command, whose environment comes with its line.
  try { child = spawn(p.file, p.args, { cwd, env: path === undefined ? {} : { PATH: path }, stdio: ['pipe', 'pipe', 'pipe'], detached: true }); } catch { return; }
  const sandbox = { key: p.key, child, sources: p.sources, identities: p.sources.map(identity), ready: false, sink: undefined, claim: undefined, timer: undefined };
  // Anything but the one ready byte before its command runs means it is not a working sandbox.
  const broken = () => {
    const claim = sandbox.claim;
    sandbox.claim = undefined;
    drop(sandbox);
    if (claim) claim.fallBack();
  };
  child.on('error', broken);
  if (child.pid === undefined) return;
  child.stdin.on('error', () => { /* it died; its exit says so */ });
  child.stdout.on('data', (chunk) => {
    if (sandbox.sink) return sandbox.sink.stdout(chunk);
    if (sandbox.ready || chunk.length !== 1 || chunk[0] !== 0x52) return broken();
    sandbox.ready = true;
    if (sandbox.claim) sandbox.claim.go();
  });
  child.stderr.on('data', (chunk) => (sandbox.sink ? sandbox.sink.stderr(chunk) : broken()));
  child.once('exit', () => { if (!sandbox.sink) broken(); });
  sandbox.timer = setTimeout(() => { if (!sandbox.claim) drop(sandbox); }, idleMs);
  waiting.set(p.key, sandbox);
}

/** The waiting sandbox for this command, if there is a sound one; it is no longer waiting. */
function take(m) {
  const sandbox = m.prestart && waiting.get(m.prestart.key);
  if (!sandbox) return undefined;
  waiting.delete(sandbox.key);
  clearTimeout(sandbox.timer);
  if (sandbox.sources.every((path, i) => identity(path) === sandbox.identities[i])) return sandbox;
  drop(sandbox);
  return undefined;
}

process.on('message', (m) => {
  if (m.t === 'prestart') {
    if (!waiting.has(m.prestart.key)) prestart(m.prestart, m.cwd, m.path);
    return;
  }
  if (m.t === 'forget') {
    for (const sandbox of [...waiting.values()]) {
      if (sandbox.sources.some((path) => path === m.path || path.startsWith(m.path + '/'))) drop(sandbox);
    }
    return;
  }
  if (m.t !== 'run') return;
  const sandbox = take(m);
  if (!sandbox) return start(m);
  live.set(m.id, sandbox.child.pid);
  sandbox.claim = {
    go: () => { sandbox.claim = undefined; start(m, sandbox); },
    fallBack: () => { live.delete(m.id); start(m); },
  };
  if (sandbox.ready) sandbox.claim.go();
});

function start(m, sandbox) {
  let fd;
  let logError;
  if (m.logFile) { try { fd = openSync(m.logFile, 'a'); } catch (error) { logError = error.message; } }
  const write = (chunk) => {
    if (fd === undefined || logError !== undefined) return;
    try { for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done); } catch (error) { logError = error.message; }
  };
  let finished = false;
  const finish = (message) => {
    if (finished) return;
    finished = true;
    live.delete(m.id);
    if (fd !== undefined) { try { closeSync(fd); } catch { /* nothing to keep */ } }
    send(message);
    // The next command of this sandbox's kind finds one waiting.
    if (m.prestart) prestart(m.prestart, m.cwd, m.env.PATH);
  };
  let child;
  if (sandbox) child = sandbox.child;
  else {
    try {
      child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      finish({ t: 'error', id: m.id, code: error.code, message: error.message });
      return;
    }
    child.on('error', (error) => finish({ t: 'error', id: m.id, code: error.code, message: error.message }));
    if (child.pid === undefined) return;
    if (fault === 'die-before-pid') process.kill(process.pid, 'SIGKILL');
  }
  live.set(m.id, child.pid);
  send({ t: 'started', id: m.id, pid: child.pid });
  const stdout = [];
  let stdoutBytes = 0;
  let stdoutTruncated = false;
  const onStdout = (chunk) => {
    write(chunk);
    if (stdoutBytes + chunk.length <= m.maxStdoutBytes) { stdout.push(chunk); stdoutBytes += chunk.length; } else stdoutTruncated = true;
  };
  let tail = Buffer.alloc(0);
  const onStderr = (chunk) => {
    write(chunk);
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > m.stderrTailBytes) tail = tail.subarray(tail.length - m.stderrTailBytes);
  };
  child.once('close', (code, signal) => finish({ t: 'closed', id: m.id, code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stdoutTruncated, stderrTail: tail.toString('utf8'), ...(logError === undefined ? {} : { logError }), ...(sandbox ? { prestarted: true } : {}) }));
  if (sandbox) {
    sandbox.sink = { stdout: onStdout, stderr: onStderr };
    child.stdin.end(m.prestart.line + '\\n');
  } else {
    child.stdout.on('data', onStdout);
    child.stderr.on('data', onStderr);
  }
}
send({ t: 'ready' });
`;

type Message =
  | { t: 'ready' }
  | { t: 'started'; id: number; pid: number }
  | { t: 'error'; id: number; code?: string; message: string }
  | ({ t: 'closed'; id: number } & SpawnOutcome);

interface Pending {
  file: string;
  pid?: number;
  onStarted: (pid: number) => void;
  resolve: (outcome: SpawnOutcome) => void;
  reject: (error: Error) => void;
}

/** A command the spawner runs: the pid arrives by onStarted, the end by `ended`. */
export interface SpawnedCommand {
  ended: Promise<SpawnOutcome>;
}

class Spawner {
  private readonly pending = new Map<number, Pending>();
  private sequence = 0;
  private gone?: string;
  readonly ready: Promise<boolean>;

  constructor(private readonly child: ChildProcess) {
    let markReady!: (ready: boolean) => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    child.on('message', (message: Message) => {
      if (message.t === 'ready') return markReady(true);
      const pending = this.pending.get(message.id);
      if (!pending) return;
      if (message.t === 'started') {
        pending.pid = message.pid;
        pending.onStarted(message.pid);
        return;
      }
      this.settled(message.id);
      if (message.t === 'error') pending.reject(new SpawnError(message.message, message.code));
      else {
        const { t: _t, id: _id, ...outcome } = message;
        pending.resolve(outcome);
      }
    });
    const lost = (why: string) => {
      if (this.gone) return;
      this.gone = why;
      markReady(false);
      if (spawner === this) spawner = undefined;
      for (const [id, pending] of this.pending) {
        this.settled(id);
        // Its commands may outlive it (only bwrap dies with it): they must not outlive their step.
        if (pending.pid !== undefined) killGroup(pending.pid);
        const group = pending.pid === undefined ? '' : `; its process group ${pending.pid} was killed`;
        pending.reject(new Error(`the runner's spawner process ${child.pid} ${why} while running ${pending.file}${group}`));
      }
    };
    child.once('exit', (code, signal) => lost(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    // The channel closes just before the exit is seen; the exit says why. A channel closed on a live
    // spawner (it should never happen) must not leave it running commands nobody waits for.
    child.once('disconnect', () => {
      if (spawner === this) spawner = undefined;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.once('error', (error) => lost(`failed (${error.message})`));
    // Neither the process nor its channel keeps the runner alive; the channel does while commands run.
    child.unref();
    child.channel?.ref();
  }

  run(request: SpawnRequest, onStarted: (pid: number) => void): SpawnedCommand {
    const id = ++this.sequence;
    const ended = new Promise<SpawnOutcome>((resolve, reject) => {
      this.pending.set(id, { file: request.file, onStarted, resolve, reject });
    });
    if (this.gone || !this.child.connected) {
      this.settled(id);
      return { ended: Promise.reject(new Error(`the runner's spawner process ${this.child.pid} ${this.gone ?? 'closed its channel'}`)) };
    }
    this.child.channel?.ref();
    this.child.send({ t: 'run', id, ...request });
    return { ended };
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.child.channel?.unref();
  }

  /** Sets up a waiting sandbox of this kind now, unless one waits already. */
  prestart(sandbox: Omit<Prestart, 'line'>, cwd: string, path: string | undefined): void {
    if (this.child.connected) this.child.send({ t: 'prestart', prestart: sandbox, cwd, path });
  }

  /** Drops the waiting sandboxes that bind `path` or something under it. */
  forget(path: string): void {
    if (this.child.connected) this.child.send({ t: 'forget', path });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone already */
  }
}

let spawner: Spawner | undefined;
let unavailable = false;

/**
 * TASKOTRON_SANDBOX_PRESTART=off makes every command set up its own sandbox when it starts (benches,
 * comparisons); prestarting needs the spawner.
 */
export function prestartWanted(): boolean {
  return process.env.TASKOTRON_SANDBOX_PRESTART !== 'off';
}

/** How long a prestarted sandbox waits for its command: TASKOTRON_SANDBOX_PRESTART_IDLE_MS, 30 s by default. */
function prestartIdleMs(): number {
  const ms = Number(process.env.TASKOTRON_SANDBOX_PRESTART_IDLE_MS);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : 30_000;
}

/**
 * Drops the prestarted sandboxes that bind `path` (a job's workdir about to be removed or made
 * anew), so none outlives its job. One that is missed is stale and never used (see Prestart.sources),
 * and goes when its wait is over.
 */
export function forgetSandboxes(path: string): void {
  spawner?.forget(path);
}

/**
 * Has the spawner (started if need be) set up a sandbox for a job's first command of a kind, while
 * the job loads its formula. Nothing waits for it, and nothing fails with it: the command sets up
 * its own sandbox if none is ready.
 */
export function prestartSandbox(sandbox: Omit<Prestart, 'line'>, cwd: string, path: string | undefined): void {
  if (!spawnerWanted() || !prestartWanted()) return;
  currentSpawner().then(
    (running) => running?.prestart(sandbox, cwd, path),
    () => undefined,
  );
}

/**
 * TASKOTRON_SPAWNER_FAULT=die-before-pid makes the spawner kill itself (SIGKILL) right after it has
 * started a command and before it tells the runner the pid: the narrow window the tests cannot hit
 * by timing (test/job/spawner.test.ts). Nothing else reads it.
 */
function spawnerFault(): string[] {
  return process.env.TASKOTRON_SPAWNER_FAULT === 'die-before-pid' ? ['die-before-pid'] : [];
}

/** TASKOTRON_SPAWNER=direct makes the runner spawn its commands itself (benches, comparisons). */
export function spawnerWanted(): boolean {
  return !unavailable && process.env.TASKOTRON_SPAWNER !== 'direct';
}

/**
 * The runner's spawner, started if there is none; undefined when it cannot be started (then the
 * runner spawns directly, said once on stderr). The first command waits for its start (~50 ms).
 */
export async function currentSpawner(node = process.execPath): Promise<Spawner | undefined> {
  if (!spawner) {
    let child: ChildProcess;
    try {
      // No execArgv (tsx's loader) and an empty environment: every command brings its own.
      child = spawn(node, ['-e', SPAWNER_SCRIPT, String(prestartIdleMs()), ...spawnerFault()], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true, env: {} });
    } catch (error) {
      return giveUp((error as Error).message);
    }
    if (child.pid === undefined) {
      // The reason (ENOENT, EAGAIN) comes as an 'error' event a tick later.
      const why = await new Promise<string>((resolve) => child.once('error', (error) => resolve(error.message)));
      return giveUp(why);
    }
    spawner = new Spawner(child);
  }
  const starting = spawner;
  if (!(await starting.ready)) return giveUp(`it ended before it was ready (pid ${starting.pid})`);
  return starting;
}

function giveUp(why: string): undefined {
  if (!unavailable) process.stderr.write(`taskotron: cannot start the command spawner (${why}); the runner spawns its commands itself\n`);
  unavailable = true;
  return undefined;
}

/** Stops the spawner (it kills the groups of whatever it still runs); the next command starts a new one. */
export function stopSpawner(): void {
  // Forgotten at once, not when its channel reports closing a tick later: a command that comes in
  // between starts a new spawner instead of failing on the closing one.
  const stopping = spawner;
  spawner = undefined;
  stopping?.stop();
}

/** The spawner's pid, if one runs (tests). */
export function spawnerPid(): number | undefined {
  return spawner?.pid;
}
