// The embedded stack behind `npm start`: a Temporal dev server with a SQLite file under .taskotron/,
// its Web UI, a runner worker and the ingest as child processes (the same `taskotron worker` and
// `taskotron ingest` production runs; ingest binds a loopback fedmsg endpoint with the example rules).
// The supervisor owns shutdown order: ingest first (nothing new starts; unstarted messages go to its
// spool), then the worker (so running steps can finish), server last.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { DEFAULT_ARTIFACTS_LISTEN } from '../artifacts/url.js';
import { projectRoot } from './project.js';
import { ensureTemporalCli } from './cli-binary.js';
import { startDevServer, type DevServer } from './server.js';
import { enabled, parseListen } from '../metrics/endpoint.js';

export interface StackOptions {
  stateDir?: string;
  port?: number;
  uiPort?: number;
  arch: string;
  /** argv to run the `taskotron` CLI in a child process (node + flags + script). */
  cliCommand: string[];
  /** Loopback port the ingest binds for `taskotron publish` (default 9941); false runs no ingest. */
  fedmsgPort?: number | false;
  /** Rules for the ingest; default examples/trigger_rules.yml. */
  rulesFile?: string;
  /** Prometheus endpoints (metrics.ingest_listen / metrics.runner_listen); 'off' turns one off. */
  metricsListen?: { ingest?: string; runner?: string };
  /** The artifacts web server (artifacts.listen, default 127.0.0.1:9470); 'off' runs none. */
  artifactsListen?: string;
  log?: (line: string) => void;
  /**
   * Aborting while the stack comes up stops what was started and rejects with the abort reason;
   * once startStack resolves, stop() is the way down.
   */
  signal?: AbortSignal;
}

export interface Stack {
  server: DevServer;
  /** Where `taskotron publish` reaches the ingest, when it runs. */
  fedmsgEndpoint?: string;
  rulesFile?: string;
  /** Where each process serves its Prometheus metrics. */
  metrics: { ingest?: string; runner?: string };
  /** Where the jobs' artifacts are served (and what their logs link to). */
  artifactsUrl?: string;
  children: Map<string, ChildProcess>;
  stop(): Promise<void>;
  /** Resolves with the name of the first child that exits on its own. */
  firstExit: Promise<string>;
}

/** `npm start`'s Prometheus endpoints (the design's 127.0.0.1:9464 for ingest, :9465 for the runner). */
export const DEFAULT_INGEST_METRICS = '127.0.0.1:9464';
export const DEFAULT_RUNNER_METRICS = '127.0.0.1:9465';

/** The URL a local client uses for a listen address, e.g. `127.0.0.1:9464` + `/metrics`. */
function localUrl(listen: string, path: string): string {
  const { host, port } = parseListen(listen);
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

export function defaultStateDir(): string {
  return process.env.TASKOTRON_HOME || join(projectRoot(), '.taskotron');
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? ((line: string) => console.error(line));
  const stateDir = options.stateDir ?? defaultStateDir();
  const binary = ensureTemporalCli({ log });
  const port = options.port ?? 7233;
  const children = new Map<string, ChildProcess>();
  const ingestMetrics = enabled(options.metricsListen?.ingest ?? process.env.TASKOTRON_METRICS_INGEST_LISTEN ?? DEFAULT_INGEST_METRICS);
  const runnerMetrics = enabled(options.metricsListen?.runner ?? process.env.TASKOTRON_METRICS_RUNNER_LISTEN ?? DEFAULT_RUNNER_METRICS);
  const artifactsListen = enabled(options.artifactsListen ?? process.env.TASKOTRON_ARTIFACTS_LISTEN ?? DEFAULT_ARTIFACTS_LISTEN);
  // Jobs' logs link to the local artifacts server unless the operator points them elsewhere.
  const artifactsUrl = process.env.TASKOTRON_ARTIFACTS_BASEURL || (artifactsListen ? localUrl(artifactsListen, '/') : undefined);
  // The children start beside the server, not after it: each spends seconds loading Node modules,
  // the worker then waits for the server to answer and the ingest connects lazily.
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_NAMESPACE: 'default',
    TASKOTRON_METRICS_INGEST_LISTEN: ingestMetrics ?? 'off',
    TASKOTRON_METRICS_RUNNER_LISTEN: runnerMetrics ?? 'off',
    ...(artifactsUrl ? { TASKOTRON_ARTIFACTS_BASEURL: artifactsUrl } : {}),
  };
  const [command, ...args] = options.cliCommand;
  if (artifactsListen) {
    const artifacts = spawn(command!, [...args, 'artifacts', 'serve', '--listen', artifactsListen], { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    children.set('artifacts', artifacts);
  }
  const worker = spawn(command!, [...args, 'worker', '--arch', options.arch, '--hostname', hostname(), '--wait-for-temporal', '120'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  children.set('worker', worker);
  let fedmsgEndpoint: string | undefined;
  const rulesFile = options.rulesFile ?? join(projectRoot(), 'examples', 'trigger_rules.yml');
  if (options.fedmsgPort !== false) {
    fedmsgEndpoint = `tcp://127.0.0.1:${options.fedmsgPort ?? 9941}`;
    const ingest = spawn(
      command!,
      [
        ...args,
        'ingest',
        '--rules', rulesFile,
        '--bind', fedmsgEndpoint,
        '--arches', options.arch,
        // The example tasks run from this checkout on the local runner.
        '--task-repo', `local:${join(projectRoot(), 'examples', 'tasks')}/\${task}`,
        '--state-dir', join(stateDir, 'ingest'),
      ],
      { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true },
    );
    children.set('ingest', ingest);
  }
  let server: DevServer;
  try {
    server = await startDevServer({
      binary,
      port,
      uiPort: options.uiPort ?? 8233,
      dbFile: join(stateDir, 'temporal.db'),
      logFile: join(stateDir, 'temporal-server.log'),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // The children exist only if the server does.
    await Promise.all([...children.values()].map((child) => stopChild(child, 5_000)));
    throw error;
  }
  // Nothing below awaits until the stack is returned: the caller's stop() reaches every process.
  if (options.signal?.aborted) {
    await Promise.all([...children.values()].map((child) => stopChild(child, 5_000)));
    await server.stop();
    throw options.signal.reason;
  }
  const firstExit = new Promise<string>((resolve) => {
    for (const [name, child] of children) child.once('exit', () => resolve(name));
    server.process.once('exit', () => resolve('temporal server'));
  });
  let stopping: Promise<void> | undefined;
  return {
    server,
    ...(fedmsgEndpoint ? { fedmsgEndpoint, rulesFile } : {}),
    ...(artifactsUrl ? { artifactsUrl } : {}),
    metrics: {
      ...(fedmsgEndpoint && ingestMetrics ? { ingest: localUrl(ingestMetrics, '/metrics') } : {}),
      ...(runnerMetrics ? { runner: localUrl(runnerMetrics, '/metrics') } : {}),
    },
    children,
    firstExit,
    stop() {
      stopping ??= (async () => {
        const ingest = children.get('ingest');
        if (ingest) await stopChild(ingest, 15_000);
        await Promise.all([...children].filter(([name]) => name !== 'ingest').map(([, child]) => stopChild(child, 45_000)));
        await server.stop();
      })();
      return stopping;
    },
  };
}
