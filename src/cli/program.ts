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
  setup: async () => (await import('./setup-command.js')).registerSetup,
  artifacts: async () => (await import('./artifacts.js')).registerArtifacts,
  jobs: async () => (await import('./jobs.js')).registerJobs,
};

/**
 * What `taskotron --help`, a bare `taskotron` and a mistyped subcommand list, so that listing them loads
 * none of the modules (all fourteen and their dependencies: about 1.1 s of CPU, for a help text). The
 * description is the one place each subcommand's is written (buildProgram gives it to the loaded
 * command too); the term is what the module's arguments and options render, which
 * test/operations/program.test.ts checks against every module's registration.
 */
export const SUBCOMMAND_LISTING: Record<string, { term: string; description: string }> = {
  start: { term: 'start [options]', description: 'run the embedded stack: Temporal dev server + Web UI + a runner worker (what `npm start` runs)' },
  worker: { term: 'worker [options]', description: "run a runner host: poll the arch's pool queue and this host's own queue" },
  'dev-server': { term: 'dev-server', description: 'the embedded Temporal development server' },
  runtask: { term: 'runtask [options] <formula>', description: 'run a task formula locally, through the same job workflow production runs' },
  validate: { term: 'validate [options] <files...>', description: 'check task formulas (runtask.yml), trigger rules and configuration (taskotron.yaml, trigger.cfg); exit 0 when all are valid, 1 when not' },
  rules: { term: 'rules', description: 'inspect trigger_rules.yml' },
  ingest: { term: 'ingest [options]', description: 'subscribe to fedmsg, match trigger_rules.yml and start one trigger workflow per matched message' },
  publish: { term: 'publish [options] <messages...>', description: 'publish fedmsg messages (JSON: an envelope, a datagrepper record or page) to an ingest for local testing' },
  replay: { term: 'replay [options] [file]', description: 'start the trigger workflows recorded messages match: `replay FILE.jsonl` or `replay --datagrepper URL --start T --end T`' },
  result: { term: 'result [options]', description: 'append a result to a ResultYAML file (for task code; the original taskotron_result)' },
  config: { term: 'config', description: 'the configuration every process reads (taskotron.yaml + TASKOTRON_… variables)' },
  setup: { term: 'setup [options]', description: 'make a Temporal cluster ready: register the namespace if missing (with retention) and add the search attributes; safe to run again' },
  artifacts: { term: 'artifacts', description: "jobs' artifacts: serve them over HTTP, remove old ones" },
  jobs: { term: 'jobs', description: 'list, show, re-run, force and cancel jobs (job workflows on Temporal)' },
};

/**
 * The program. Without a command line: every subcommand, loaded (for tests and inspection). With one:
 * only the subcommand it names (or, after `help`, the one help is asked about) is loaded; the others
 * are listed from SUBCOMMAND_LISTING, which renders the same help and the same "unknown command …
 * (Did you mean …?)" error as the loaded subcommands would.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('taskotron')
    .description("Fedora's event-driven package CI on Temporal")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  const known = (name: string | undefined): name is string => name !== undefined && Object.hasOwn(SUBCOMMANDS, name);
  // The subcommand is the first argument that is not an option (the program has none of its own but
  // --help, and `--` may come first); after `help`, the next one.
  const operands = (argv ?? []).slice(2).filter((arg) => !arg.startsWith('-'));
  const named = operands[0] === 'help' ? operands[1] : operands[0];
  const load = argv === undefined ? Object.keys(SUBCOMMANDS) : known(named) ? [named] : [];
  const registers = await Promise.all(load.map((name) => SUBCOMMANDS[name]!()));
  for (const register of registers) register(program);
  for (const [name, { term, description }] of Object.entries(SUBCOMMAND_LISTING)) {
    // The description is this table's in both cases: the modules register none of their own.
    const loaded = program.commands.find((command) => command.name() === name);
    if (loaded) {
      loaded.description(description);
      continue;
    }
    // Not loaded: the term's `[options]` and arguments are declared as arguments only so that commander
    // renders the very line the loaded subcommand would; running it is refused below.
    program.command(term).description(description).action(() => {
      throw new Error(`taskotron: the '${name}' subcommand was listed but not loaded (src/cli/program.ts)`);
    });
  }
  return program;
}
