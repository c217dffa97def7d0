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
// time limit and after exit, the leftover scan, heartbeats and errors (supervise.ts). A task command
// may instead run in its job's sandbox, started there by the sandbox's agent (job_sandbox_agent.py);
// its output still comes here and is logged here, and the runner's kills go through the agent.
//
// Lifetimes: the spawner exits when its IPC channel closes — the runner exited or was killed, even
// with SIGKILL — after SIGKILL to every group it started that is still running (bwrap's
// --die-with-parent ties the sandbox to the spawner). A spawner that dies fails the runner's
// running commands (their groups killed; one whose pid had not arrived yet is found by its marker,
// supervise.ts) and the next command starts a new one. It is in its own
// process group, so a Ctrl-C to the worker's terminal reaches the worker (which cancels its steps
// cleanly) and not the spawner. It keeps no reference on the runner's event loop while idle.
import { spawn, type ChildProcess } from 'node:child_process';
import type { JobSandbox, Prestart } from './sandbox.js';

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
  /** Run it in the job's sandbox of this kind if one is ready (and set one up for the next command if there is none). */
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
  /** It ran in its job's sandbox (set up before it came: sandbox.ts JobSandbox). */
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
//      {t:'kill', id, signal}: signal a command that runs in a job's sandbox (its pid is the sandbox's)
//      {t:'forget', path}: drop the job sandboxes that bind `path` (it is about to go)
//      {t:'prestart', prestart, path}: set one up now, for a kind no command has run yet
// out: {t:'ready'} once; {t:'started', id, pid, inner?}; {t:'error', id, code, message};
//      {t:'closed', id, ...SpawnOutcome}; {t:'lost', id, message}: the job's sandbox died under it
//
// Job sandboxes (sandbox.ts, Prestart): a command that comes with `prestart` runs in the job's
// sandbox of that kind: a bwrap set up once, with an agent waiting inside (job_sandbox_agent.py),
// which starts the command itself and sends its output here, where it is logged as any command's.
// One still being set up is waited for. Without one (the job's first command of a kind that
// loadFormula did not foresee from the formula), or with one busy or broken, the command sets up a bwrap of its
// own as before, and the spawner sets up the job's sandbox for the next command. A job sandbox runs
// one command at a time; it is dropped when it has been idle `idleMs` (argv[1]), when a directory it
// binds was replaced, when it was told to forget it, and with the spawner.
export const SPAWNER_SCRIPT = `'use strict';
const { spawn } = require('node:child_process');
const { openSync, writeSync, closeSync, statSync, readdirSync, readFileSync } = require('node:fs');
// A command inherits no file of the runner's but its stdin, stdout and stderr, as from Python's
// subprocess (close_fds) and the job sandbox's agent. Node's spawn leaves open whatever is not
// close-on-exec, and bwrap closes nothing, so the spawner closes every descriptor it inherited
// beyond its stdio and its channel (3): one the runner's own parent left open.
let inherited = [];
try { inherited = readdirSync('/proc/self/fd').map(Number).filter((fd) => fd > 3); } catch { /* no /proc: nothing to go by */ }
for (const fd of inherited) {
  try {
    const flags = /flags:\\s+(\\d+)/.exec(readFileSync('/proc/self/fdinfo/' + fd, 'utf8'));
    if (flags && (parseInt(flags[1], 8) & 0o2000000) === 0) closeSync(fd);
  } catch { /* the listing's own, already closed */ }
}
const send = (message) => { try { process.send(message); } catch { /* the other side is gone: disconnect handles it */ } };
const killGroup = (pid, signal) => { try { process.kill(-pid, signal || 'SIGKILL'); } catch { /* gone */ } };
// A command's output, as it comes: appended to its log, stdout kept up to its limit, the tail of
// stderr; end() closes the log and gives the outcome.
function output(m) {
  let fd;
  let logError;
  if (m.logFile) { try { fd = openSync(m.logFile, 'a'); } catch (error) { logError = error.message; } }
  const write = (chunk) => {
    if (fd === undefined || logError !== undefined) return;
    try { for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done); } catch (error) { logError = error.message; }
  };
  const stdout = [];
  let stdoutBytes = 0;
  let stdoutTruncated = false;
  let tail = Buffer.alloc(0);
  return {
    stdout(chunk) {
      write(chunk);
      if (stdoutBytes + chunk.length <= m.maxStdoutBytes) { stdout.push(chunk); stdoutBytes += chunk.length; } else stdoutTruncated = true;
    },
    stderr(chunk) {
      write(chunk);
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > m.stderrTailBytes) tail = tail.subarray(tail.length - m.stderrTailBytes);
    },
    end(code, signal) {
      if (fd !== undefined) { try { closeSync(fd); } catch { /* nothing to keep */ } }
      fd = undefined;
      return { code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stdoutTruncated, stderrTail: tail.toString('utf8'), ...(logError === undefined ? {} : { logError }) };
    },
  };
}

const idleMs = Number(process.argv[1]) > 0 ? Number(process.argv[1]) : 300000;
const fault = process.argv[2];
const live = new Map();
// Job sandboxes by kind (Prestart.key), and the commands running in one.
const sandboxes = new Map();
const routes = new Map();
process.on('disconnect', () => {
  for (const pid of live.values()) killGroup(pid);
  for (const sandbox of sandboxes.values()) killGroup(sandbox.child.pid);
  process.exit(0);
});
// Inode numbers are reused (a directory made anew often gets the one just freed): the birth time tells them apart.
const identity = (path) => { try { const s = statSync(path, { bigint: true }); return s.dev + ':' + s.ino + ':' + s.birthtimeNs; } catch { return '-'; } };

// Its bwrap goes, and with it (--die-with-parent) its PID namespace and everything in it.
function drop(sandbox, why) {
  if (sandboxes.get(sandbox.key) === sandbox) sandboxes.delete(sandbox.key);
  clearTimeout(sandbox.timer);
  killGroup(sandbox.child.pid);
  // A command waiting for it to be set up sets up a bwrap of its own.
  const queued = sandbox.queued;
  sandbox.queued = undefined;
  if (queued) start(queued);
  const route = sandbox.busy === undefined ? undefined : routes.get(sandbox.busy);
  sandbox.busy = undefined;
  if (!route) return;
  routes.delete(route.m.id);
  // A command being killed anyway (cancel, time limit) was killed with its sandbox; any other is lost.
  const outcome = route.out.end(137, null);
  if (route.killing) send({ t: 'closed', id: route.m.id, ...outcome, prestarted: true });
  else send({ t: 'lost', id: route.m.id, message: 'the job sandbox (bwrap ' + sandbox.child.pid + ') ' + why });
}

const idle = (sandbox) => {
  clearTimeout(sandbox.timer);
  sandbox.timer = setTimeout(() => { if (sandbox.busy === undefined) drop(sandbox, 'was idle'); }, idleMs);
};

function setUp(p, path) {
  let child;
  // Only PATH: each command brings its environment.
  try { child = spawn(p.file, p.args, { cwd: '/', env: path === undefined ? {} : { PATH: path }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true }); } catch { return; }
  const sandbox = { key: p.key, child, sources: p.sources, identities: p.sources.map(identity), ready: false, busy: undefined, queued: undefined, timer: undefined };
  child.on('error', () => drop(sandbox, 'could not be started'));
  if (child.pid === undefined) return;
  child.on('message', (r) => {
    if (r.t === 'ready') {
      if (fault === 'sandbox-never-ready') return;
      sandbox.ready = true;
      const queued = sandbox.queued;
      sandbox.queued = undefined;
      if (queued) runIn(sandbox, queued);
      return;
    }
    const route = routes.get(r.id);
    if (!route || sandbox.busy !== r.id) return;
    if (r.t === 'started') return send({ t: 'started', id: r.id, pid: r.pid, inner: true });
    if (r.t === 'data') return r.fd === 1 ? route.out.stdout(Buffer.from(r.chunk, 'base64')) : route.out.stderr(Buffer.from(r.chunk, 'base64'));
    sandbox.busy = undefined;
    routes.delete(r.id);
    idle(sandbox);
    const outcome = route.out.end(r.code ?? null, r.signal ?? null);
    // It could not start the program (nothing ran): a bwrap of its own says why, in bwrap's words.
    if (r.t === 'refused') return start(route.m);
    send({ t: 'closed', id: r.id, ...outcome, prestarted: true });
  });
  // bwrap ends with its agent, and says 128+N when a signal killed it.
  child.once('exit', (code, signal) => drop(sandbox, signal ? 'was killed by ' + signal : code > 128 ? 'ended: its agent was killed by signal ' + (code - 128) : 'exited with code ' + code));
  idle(sandbox);
  sandboxes.set(p.key, sandbox);
}

/** The job's sandbox for this command if there is a sound, idle one; one is set up if there is none. */
function sandboxFor(m) {
  let sandbox = sandboxes.get(m.prestart.key);
  if (sandbox && !sandbox.sources.every((path, i) => identity(path) === sandbox.identities[i])) {
    drop(sandbox, 'binds a directory that was made anew');
    sandbox = undefined;
  }
  if (!sandbox) { setUp(m.prestart, m.env.PATH); return undefined; }
  return sandbox.busy === undefined && sandbox.queued === undefined && sandbox.child.connected ? sandbox : undefined;
}

// What the agent reads (job_sandbox_agent.py): base64 of NUL-separated fields, so that it need not
// import a JSON parser. No field can hold a NUL (execve takes none), nor a variable's name a '='.
const forAgent = (fields) => Buffer.from(fields.join('\\0')).toString('base64');
const agentRun = (m) => {
  const p = m.prestart;
  const env = Object.entries(p.env).map(([name, value]) => name + '=' + value);
  return forAgent(['run', m.id, p.argv[0], p.cwd, p.argv.length - 1, ...p.argv.slice(1), ...env]);
};
// A command the agent could not be told of runs in a bwrap of its own, whose error says what is wrong.
const agentCanRun = (m) => {
  const p = m.prestart;
  return ![...p.argv, p.cwd, ...Object.values(p.env).map(String)].some((field) => field.includes('\\0')) && Object.keys(p.env).every((name) => name !== '' && !name.includes('=') && !name.includes('\\0'));
};

function runIn(sandbox, m) {
  sandbox.busy = m.id;
  clearTimeout(sandbox.timer);
  // The output comes over the channel and is written here, outside the sandbox, as for any command.
  routes.set(m.id, { m, sandbox, killing: false, out: output(m) });
  sandbox.child.send(agentRun(m));
}

process.on('message', (m) => {
  if (m.t === 'prestart') {
    if (!sandboxes.has(m.prestart.key)) setUp(m.prestart, m.path);
    return;
  }
  if (m.t === 'forget') {
    for (const sandbox of [...sandboxes.values()]) {
      if (sandbox.sources.some((path) => path === m.path || path.startsWith(m.path + '/'))) drop(sandbox, 'was dropped: its job directory ' + m.path + ' is being removed');
    }
    return;
  }
  if (m.t === 'kill') {
    const route = routes.get(m.id);
    if (!route) return;
    if (m.signal === 'SIGKILL') {
      route.killing = true;
      // An agent that does not get it done (stopped, say) goes with its whole sandbox.
      setTimeout(() => { if (routes.get(m.id) === route) drop(route.sandbox, 'did not end the command'); }, 2000);
    }
    try { route.sandbox.child.send(forAgent(['kill', m.id, m.signal])); } catch { /* it is going: its exit says so */ }
    return;
  }
  if (m.t !== 'run') return;
  const sandbox = m.prestart && agentCanRun(m) ? sandboxFor(m) : undefined;
  if (!sandbox) return start(m);
  if (sandbox.ready) return runIn(sandbox, m);
  // Being set up: the command waits for it (a kill before then is for a command not yet started),
  // but not for one that never gets ready.
  sandbox.queued = m;
  clearTimeout(sandbox.timer);
  sandbox.timer = setTimeout(() => { if (!sandbox.ready) drop(sandbox, 'was not ready after 10 s'); }, 10000);
});

function start(m) {
  let finished = false;
  const finish = (message) => {
    if (finished) return;
    finished = true;
    live.delete(m.id);
    send(message);
  };
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (error) {
    finish({ t: 'error', id: m.id, code: error.code, message: error.message });
    return;
  }
  child.on('error', (error) => finish({ t: 'error', id: m.id, code: error.code, message: error.message }));
  if (child.pid === undefined) return;
  if (fault === 'die-before-pid') process.kill(process.pid, 'SIGKILL');
  live.set(m.id, child.pid);
  send({ t: 'started', id: m.id, pid: child.pid });
  const out = output(m);
  child.stdout.on('data', out.stdout);
  child.stderr.on('data', out.stderr);
  child.once('close', (code, signal) => finish({ t: 'closed', id: m.id, ...out.end(code, signal) }));
}
send({ t: 'ready' });
`;

type Message =
  | { t: 'ready' }
  | { t: 'started'; id: number; pid: number; inner?: true }
  | { t: 'error'; id: number; code?: string; message: string }
  | { t: 'lost'; id: number; message: string }
  | ({ t: 'closed'; id: number } & SpawnOutcome);

interface Pending {
  file: string;
  pid?: number;
  /** The pid is the job sandbox's (its PID namespace's), not the host's: kills go through the agent. */
  inner?: boolean;
  onStarted: (pid: number) => void;
  resolve: (outcome: SpawnOutcome) => void;
  reject: (error: Error) => void;
}

/** A command the spawner runs: the pid arrives by onStarted, the end by `ended`. */
export interface SpawnedCommand {
  ended: Promise<SpawnOutcome>;
  /** Signals the command's process group, wherever it runs (on the host or in a job sandbox). */
  kill(signal: NodeJS.Signals): void;
  /** Whether the command runs in a job sandbox, whose agent kills what it leaves behind. */
  readonly inSandbox: boolean;
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
        pending.inner = message.inner === true;
        pending.onStarted(message.pid);
        return;
      }
      this.settled(message.id);
      if (message.t === 'error') pending.reject(new SpawnError(message.message, message.code));
      else if (message.t === 'lost') pending.reject(new Error(`${message.message} while running ${pending.file}`));
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
        // One in a job sandbox died with it, and its pid is no host pid.
        const onHost = pending.pid !== undefined && !pending.inner;
        if (onHost) killGroup(pending.pid!);
        const group = onHost ? `; its process group ${pending.pid} was killed` : '';
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
    // Named by the program the task asked for where it is known (a job sandbox runs it without bwrap).
    const pending: Pending = { file: request.prestart?.argv[0] ?? request.file, onStarted, resolve: () => undefined, reject: () => undefined };
    const ended = new Promise<SpawnOutcome>((resolve, reject) => {
      Object.assign(pending, { resolve, reject });
      this.pending.set(id, pending);
    });
    const kill = (signal: NodeJS.Signals) => {
      if (pending.pid === undefined) return;
      if (!pending.inner) killGroup(pending.pid, signal);
      else if (this.pending.has(id) && this.child.connected) this.child.send({ t: 'kill', id, signal });
    };
    const command = {
      ended,
      kill,
      get inSandbox() {
        return pending.inner === true;
      },
    };
    if (this.gone || !this.child.connected) {
      this.settled(id);
      return { ...command, ended: Promise.reject(new Error(`the runner's spawner process ${this.child.pid} ${this.gone ?? 'closed its channel'}`)) };
    }
    this.child.channel?.ref();
    this.child.send({ t: 'run', id, ...request });
    return command;
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.child.channel?.unref();
  }

  /** Sets up the job sandbox of this kind now, unless there is one. */
  prestart(sandbox: JobSandbox, path: string | undefined): void {
    if (this.child.connected) this.child.send({ t: 'prestart', prestart: sandbox, path });
  }

  /** Drops the job sandboxes that bind `path` or something under it. */
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

function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone already */
  }
}

let spawner: Spawner | undefined;
let unavailable = false;

/**
 * TASKOTRON_SANDBOX_PRESTART=off makes every command set up a sandbox of its own when it starts
 * (benches, comparisons); job sandboxes need the spawner.
 */
export function prestartWanted(): boolean {
  return process.env.TASKOTRON_SANDBOX_PRESTART !== 'off';
}

/**
 * How long a job sandbox waits for its next command: TASKOTRON_SANDBOX_PRESTART_IDLE_MS, 5 minutes by
 * default. A job's end drops it anyway (forgetSandboxes); this is for the gaps between its commands
 * (a long download between two shell actions) and for a job that ended without removing its workdir.
 */
function prestartIdleMs(): number {
  const ms = Number(process.env.TASKOTRON_SANDBOX_PRESTART_IDLE_MS);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : 300_000;
}

/**
 * Drops the job sandboxes that bind `path` (a job's workdir about to be removed or made anew), so
 * none outlives its job. One that is missed is stale and never used (see Prestart.sources), and goes
 * when its wait is over.
 */
export function forgetSandboxes(path: string): void {
  spawner?.forget(path);
}

/**
 * Has the spawner (started if need be) set up the job's sandbox for its first command of a kind,
 * while the job loads its formula. Nothing waits for it, and nothing fails with it: the command sets
 * up a sandbox of its own if the job's is not ready.
 */
export function prestartSandbox(sandbox: JobSandbox, path: string | undefined): void {
  if (!spawnerWanted() || !prestartWanted()) return;
  currentSpawner().then(
    (running) => running?.prestart(sandbox, path),
    () => undefined,
  );
}

/**
 * Faults the tests inject where timing cannot reach, through TASKOTRON_SPAWNER_FAULT; nothing else
 * reads it. die-before-pid makes the spawner kill itself (SIGKILL) right after it has started a
 * command and before it tells the runner the pid (test/job/spawner.test.ts). sandbox-never-ready
 * makes it ignore its job sandboxes' "ready", as if their set-up hung (test/job/prestart.test.ts).
 */
function spawnerFault(): string[] {
  const fault = process.env.TASKOTRON_SPAWNER_FAULT;
  return fault === 'die-before-pid' || fault === 'sandbox-never-ready' ? [fault] : [];
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
