// `taskotron start` (what `npm start` runs): its options. The stack itself (start-run.ts: the dev
// server, the worker, the ingest, the probe job) is loaded once they have been parsed.
import type { Command } from 'commander';
import { fedoraArch } from '../common/arch.js';
import { positiveInt } from './option-defs.js';

export interface StartOptions {
  port: number;
  uiPort: number;
  arch: string;
  stateDir?: string;
  fedmsgPort: number;
  ingest: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .option('--port <port>', 'Temporal gRPC port on 127.0.0.1', positiveInt, 7233)
    .option('--ui-port <port>', 'Temporal Web UI port on 127.0.0.1', positiveInt, 8233)
    .option('--arch <arch>', 'architecture of the local runner', fedoraArch())
    .option('--state-dir <dir>', 'where the SQLite database and server log live (env TASKOTRON_HOME, default .taskotron/)')
    .option('--fedmsg-port <port>', 'loopback port the ingest binds for `taskotron publish`', positiveInt, 9941)
    .option('--no-ingest', 'run no ingest')
    .action(async (options: StartOptions) => (await import('./start-run.js')).runStart(options));
}
