// The `taskotron` command's table of contents: each subcommand lives in its own module and
// registers itself here. Kept apart from main.ts so tests can inspect the commands without running one.
import { Command } from 'commander';

type Register = (program: Command) => void;

// Loaded on demand: `taskotron jobs list` need not load the worker, webpack, ZeroMQ and the ingest
// (1,100 modules, ~2.5 s of CPU at every start of the CLI, which tests start dozens of times).
const SUBCOMMANDS: Record<string, () => Promise<Register>> = {
  start: async () => (await import('./start.js')).registerStart,
  worker: async () => (await import('./worker.js')).registerWorker,
  'dev-server': async () => (await import('./dev-server.js')).registerDevServer,
  runtask: async () => (await import('./runtask-command.js')).registerRuntask,
  validate: async () => (await import('./validate.js')).registerValidate,
  rules: async () => (await import('./rules.js')).registerRules,
  ingest: async () => (await import('./ingest.js')).registerIngest,
  publish: async () => (await import('./publish.js')).registerPublish,
  replay: async () => (await import('./replay.js')).registerReplay,
  result: async () => (await import('./result.js')).registerResult,
  config: async () => (await import('./config.js')).registerConfig,
  setup: async () => (await import('./setup.js')).registerSetup,
  artifacts: async () => (await import('./artifacts.js')).registerArtifacts,
  jobs: async () => (await import('./jobs.js')).registerJobs,
};

/**
 * The program with every subcommand, or, given the command line, with only the subcommand it names
 * (its help and errors are the same either way; `taskotron --help` and unknown commands get them all).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('taskotron')
    .description("Fedora's event-driven package CI on Temporal")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  const named = argv?.[2];
  const wanted = named !== undefined && Object.hasOwn(SUBCOMMANDS, named) ? [named] : Object.keys(SUBCOMMANDS);
  const registers = await Promise.all(wanted.map((name) => SUBCOMMANDS[name]!()));
  for (const register of registers) register(program);
  return program;
}
