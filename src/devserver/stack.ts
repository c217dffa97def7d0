// The embedded stack behind `npm start`: a Temporal dev server with a SQLite file under .taskotron/,
// its Web UI, and a runner worker as a child process (the same `taskotron worker` production runs).
// The supervisor owns shutdown order: worker first (so running steps can finish), server last.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { projectRoot } from './project.js';
import { ensureTemporalCli } from './cli-binary.js';
import { startDevServer, type DevServer } from './server.js';

export interface StackOptions {
  stateDir?: string;
  port?: number;
  uiPort?: number;
  arch: string;
  /** argv to run the `taskotron` CLI in a child process (node + flags + script). */
  cliCommand: string[];
  log?: (line: string) => void;
}

export interface Stack {
  server: DevServer;
  children: Map<string, ChildProcess>;
  stop(): Promise<void>;
  /** Resolves with the name of the first child that exits on its own. */
  firstExit: Promise<string>;
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
  const server = await startDevServer({
    binary,
    port: options.port ?? 7233,
    uiPort: options.uiPort ?? 8233,
    dbFile: join(stateDir, 'temporal.db'),
    logFile: join(stateDir, 'temporal-server.log'),
  });
  const children = new Map<string, ChildProcess>();
  const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
  const [command, ...args] = options.cliCommand;
  const worker = spawn(command!, [...args, 'worker', '--arch', options.arch, '--hostname', hostname()], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  children.set('worker', worker);
  const firstExit = new Promise<string>((resolve) => {
    for (const [name, child] of children) child.once('exit', () => resolve(name));
    server.process.once('exit', () => resolve('temporal server'));
  });
  let stopping: Promise<void> | undefined;
  return {
    server,
    children,
    firstExit,
    stop() {
      stopping ??= (async () => {
        await Promise.all([...children.values()].map((child) => stopChild(child, 45_000)));
        await server.stop();
      })();
      return stopping;
    },
  };
}
