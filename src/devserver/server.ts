// Runs `temporal server start-dev` as a child process and waits until its frontend answers.
// We start it ourselves instead of through @temporalio/testing because the SDK gives a spawned server
// only 5 s to come up, too little for a first SQLite schema on a loaded 2-core machine (temporal.md §2).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes.js';

export interface DevServerOptions {
  binary: string;
  ip?: string;
  port?: number;
  /** Web UI port; `false` runs headless. */
  uiPort?: number | false;
  /** SQLite file; omitted means in-memory (lost on exit). */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes; defaults to a file beside dbFile, else discarded. */
  logFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startupTimeoutMs?: number;
  /** Dynamic-config values; default DEV_SERVER_DYNAMIC_CONFIG. `{}` runs the server's stock settings. */
  dynamicConfig?: Readonly<Record<string, unknown>>;
  /** More `temporal server start-dev` flags. */
  extraArgs?: string[];
  /** Aborting while the server comes up stops it and rejects: a Ctrl-C during start-up leaves nothing behind. */
  signal?: AbortSignal;
}

/**
 * Dynamic config every server the project starts runs with (docs/PERFORMANCE.md, "Server settings").
 * The history service reads its task queues (transfer: activity and workflow tasks to matching;
 * timer: timeouts, retries, sleeps; visibility: search attributes) at most 20 times a second per
 * shard by default, and the dev server has one shard: a lone job's every hand-off waited ~40 ms for
 * its turn once a burst of 20 reads was spent. 1000 removes that floor; ≥ 200 measured the same.
 * New tasks go to one partition of each task queue (stock: four): a runner host's queue has one or
 * two pollers, and a task written to a partition none of them waited on sat in its backlog for
 * 50–90 ms, one activity in ten. Reads stay at four partitions, so tasks an older server wrote to
 * the others are still delivered (Temporal's order for fewer partitions: writes first, then reads).
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  'matching.numTaskqueueWritePartitions': 1,
};

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  process: ChildProcess;
  /** TERM, then KILL after the grace period; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A port nothing listens on now, for a server about to be started. Picked below the kernel's
 * ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999 by default) when there is room:
 * a port from inside it — what listening on port 0 returns — is also what every outgoing connection
 * takes as its local end, so on a busy host (a test run's gRPC and HTTP clients) one can take it in
 * the moment between this check and the server binding it. Seen once as "metrics: 127.0.0.1:43955 is
 * already in use" in test/integration/start-stack.test.ts.
 */
export async function freePort(ip = '127.0.0.1'): Promise<number> {
  const range = belowEphemeralRange();
  if (range) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = range.low + Math.floor(Math.random() * (range.high - range.low));
      if (await canListen(port, ip)) return port;
    }
  }
  return listenOnce(0, ip);
}

/** [low, high) under the ephemeral range, or undefined when the range starts too low to leave one. */
function belowEphemeralRange(): { low: number; high: number } | undefined {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/)[0]);
  } catch {
    /* not Linux: assume the default */
  }
  if (!Number.isSafeInteger(ephemeralLow) || ephemeralLow < 12_000) return undefined;
  return { low: Math.max(10_000, ephemeralLow - 12_000), high: ephemeralLow };
}

async function canListen(port: number, ip: string): Promise<boolean> {
  return listenOnce(port, ip).then(
    () => true,
    () => false,
  );
}

/** Listens on `port` (0: any) and closes again; the port it got. */
function listenOnce(port: number, ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, ip, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function devServerArgs(options: Required<Pick<DevServerOptions, 'ip' | 'port' | 'namespace' | 'logLevel'>> & DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', options.ip, '--port', String(options.port), '--namespace', options.namespace,
    '--log-level', options.logLevel, '--log-format', 'json'];
  if (options.uiPort === false || options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-ip', options.ip, '--ui-port', String(options.uiPort));
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    // WAL + NORMAL sync: an order of magnitude more workflows/s on SQLite (temporal.md §1, §6).
    for (const pragma of ['journal_mode=WAL', 'synchronous=NORMAL', 'busy_timeout=5000']) args.push('--sqlite-pragma', pragma);
  }
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  // The CLI parses each value as JSON.
  for (const [key, value] of Object.entries(options.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  if (options.extraArgs) args.push(...options.extraArgs);
  return args;
}

/**
 * Waits until the Temporal frontend at `target` (an address, or the connection options with TLS and
 * API key of a configured cluster) answers. Each attempt may take what is left of the wait (at least
 * 1 s, at most 10 s): a server that is slow to answer, as on a loaded machine, is waited for rather
 * than given up on after a fixed second.
 */
export async function waitForFrontend(
  target: string | ConnectionOptions,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
  signal?: AbortSignal,
): Promise<void> {
  const options = typeof target === 'string' ? { address: target } : target;
  const address = options.address ?? 'localhost:7233';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (!isAlive()) throw new Error(`Temporal server exited before it answered on ${address}`);
    try {
      // Closed after a failed attempt too: an attempt's channel would otherwise stay open, redialling.
      const connection = Connection.lazy({ ...options, connectTimeout: Math.min(10_000, Math.max(1000, deadline - Date.now())) });
      try {
        // GetSystemInfo, within the attempt's time.
        await connection.ensureConnected();
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`Temporal server on ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  options.signal?.throwIfAborted();
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const namespace = options.namespace ?? 'default';
  const logLevel = options.logLevel ?? 'warn';
  const args = devServerArgs({ ...options, ip, port, namespace, logLevel });
  if (options.dbFile) mkdirSync(dirname(options.dbFile), { recursive: true });
  const logFile = options.logFile ?? (options.dbFile ? `${options.dbFile}.log` : undefined);
  let output: 'ignore' | number = 'ignore';
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    output = openSync(logFile, 'a');
  }
  // Own process group: Ctrl-C in a terminal reaches only our supervisor, which stops the server last.
  const child = spawn(options.binary, args, { stdio: ['ignore', output, output], detached: true });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  child.once('error', () => (exited = true));
  const address = `${ip}:${port}`;
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (exited) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    await exitPromise;
    clearTimeout(timer);
  };
  try {
    options.signal?.throwIfAborted();
    await waitForFrontend(address, options.startupTimeoutMs ?? 60_000, () => !exited, options.signal);
    options.signal?.throwIfAborted();
  } catch (error) {
    await stop(2000);
    if (options.signal?.aborted) throw options.signal.reason;
    throw new Error(`${(error as Error).message}${logFile ? ` (server log: ${logFile})` : ''}`);
  }
  return {
    address,
    namespace,
    ...(typeof options.uiPort === 'number' ? { uiUrl: `http://${ip}:${options.uiPort}` } : {}),
    pid: child.pid!,
    process: child,
    stop,
  };
}
