// The `taskotron` command's table of contents: each subcommand lives in its own module and
// registers itself here. Kept apart from main.ts so tests can inspect the commands without running one.
import { Command } from 'commander';
import { registerStart } from './start.js';
import { registerWorker } from './worker.js';
import { registerDevServer } from './dev-server.js';
import { registerRuntask } from './runtask-command.js';
import { registerValidate } from './validate.js';
import { registerRules } from './rules.js';
import { registerIngest } from './ingest.js';
import { registerPublish } from './publish.js';
import { registerReplay } from './replay.js';
import { registerResult } from './result.js';
import { registerConfig } from './config.js';
import { registerSetup } from './setup.js';
import { registerArtifacts } from './artifacts.js';
import { registerJobs } from './jobs.js';

export function buildProgram(): Command {
  const program = new Command('taskotron')
    .description("Fedora's event-driven package CI on Temporal")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerStart(program);
  registerWorker(program);
  registerDevServer(program);
  registerRuntask(program);
  registerValidate(program);
  registerRules(program);
  registerIngest(program);
  registerPublish(program);
  registerReplay(program);
  registerResult(program);
  registerConfig(program);
  registerSetup(program);
  registerArtifacts(program);
  registerJobs(program);
  return program;
}
