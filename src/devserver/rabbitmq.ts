// A private RabbitMQ node on loopback for tests and benchmarks, started the way the Temporal dev
// server is: Debian's rabbitmq-server (installed by scripts/system-deps.sh), its own data directory,
// free ports for AMQP, Erlang distribution and its own epmd, so it never meets a system broker or
// another run's. Ready when an AMQP handshake succeeds; stopped with its epmd.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAmqp } from '../bus/amqp.js';
import { freePort } from './server.js';

export interface RabbitMq {
  /** `amqp://guest:guest@127.0.0.1:<port>/%2F` */
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  process: ChildProcess;
  /** Stops the node and its epmd; resolves when the node is gone. */
  stop(): Promise<void>;
}

/** Debian installs the real script under /usr/lib/rabbitmq/lib/rabbitmq_server-<version>/sbin. */
export function rabbitMqServerBinary(): string {
  const explicit = process.env.TASKOTRON_RABBITMQ_SERVER;
  if (explicit) return explicit;
  const root = '/usr/lib/rabbitmq/lib';
  const dirs = existsSync(root) ? readdirSync(root).filter((d) => d.startsWith('rabbitmq_server-')).sort() : [];
  const found = dirs.map((d) => join(root, d, 'sbin', 'rabbitmq-server')).reverse().find((f) => existsSync(f));
  if (!found) throw new Error('rabbitmq-server is not installed: run scripts/system-deps.sh (Debian package rabbitmq-server)');
  return found;
}

export async function startRabbitMq(options: { dataDir?: string; timeoutMs?: number } = {}): Promise<RabbitMq> {
  const binary = rabbitMqServerBinary();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'taskotron-rabbitmq-'));
  mkdirSync(dataDir, { recursive: true });
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dataDir, 'rabbitmq.conf'), [`listeners.tcp.default = 127.0.0.1:${port}`, 'loopback_users = none', 'log.console = false', ''].join('\n'));
  // No plugins: the management UI would open more ports and cost seconds of start-up.
  writeFileSync(join(dataDir, 'enabled_plugins'), '[].\n');
  const node = `taskotron${port}@localhost`;
  const env = {
    ...process.env,
    // The Erlang cookie lives in $HOME: a private one per node.
    HOME: dataDir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_LOGS: join(dataDir, 'rabbit.log'),
    RABBITMQ_CONFIG_FILE: join(dataDir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dataDir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dataDir, 'rabbitmq.pid'),
  };
  const child = spawn(binary, [], { cwd: dataDir, env, stdio: 'ignore', detached: true });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const killEpmd = () => spawnSync('epmd', ['-port', String(epmdPort), '-kill'], { stdio: 'ignore', env });
  const stop = async () => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 15_000);
      await gone;
      clearTimeout(timer);
    }
    killEpmd();
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}/%2F`;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exited) {
      killEpmd();
      throw new Error(`rabbitmq-server exited during start-up; see ${join(dataDir, 'rabbit.log')}`);
    }
    try {
      const model = await openAmqp({ url });
      await model.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`rabbitmq-server did not accept AMQP on 127.0.0.1:${port} within ${options.timeoutMs ?? 120_000} ms; see ${join(dataDir, 'rabbit.log')}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { url, port, dataDir, pid: child.pid!, process: child, stop };
}
