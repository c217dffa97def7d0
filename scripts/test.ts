// `npm test`: one real Temporal dev server for the whole run (or the one in $TEMPORAL_ADDRESS), then
// Node's test runner over every test/**/*.test.ts with TEMPORAL_ADDRESS pointing at it, then stop it.
// Arguments narrow the run: `npm test -- test/formula` runs the files under that path only.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { ensureTemporalCli, findTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import { startRabbitMq, type RabbitMq } from '../src/devserver/rabbitmq.js';
import { startDevServer, waitForFrontend, type DevServer } from '../src/devserver/server.js';
import { bundleIsFresh, prebuiltBundlePath, writeBundle, writeBundleOf, type BundleKind } from '../src/worker/bundle.js';
import { descendants, signalEach, stillRunning, type RunProcess } from './test/interrupt.js';
import { groupCpuMs, longestFirst, printSummary, readUsage, recordTimings, treeCpuMs } from './test/timings.js';
import { buildDir, compiledPath, transpileForTests } from './test/transpile.js';
import { distStaleReason, staleBundles } from './dist-freshness.mjs';
import { FEDMSG_REQUIREMENTS } from '../test/ingest/python-fedmsg.js';
import { FEDORA_MESSAGING_REQUIREMENTS } from '../test/ingest/python-fedora-messaging.js';
import { buildVenv } from '../test/support/python-venv.js';
import { waitFor } from '../test/support/until.js';

function testFiles(root: string, suffix: string): string[] {
  const found: string[] = [];
  // A file named on the command line runs whatever its suffix (scenario files are not in the default run).
  if (statSync(root).isFile()) return [root];
  const walk = (path: string) => {
    if (statSync(path).isFile()) {
      if (path.endsWith(suffix)) found.push(path);
      return;
    }
    for (const entry of readdirSync(path)) if (entry !== 'node_modules') walk(join(path, entry));
  };
  walk(root);
  return found.sort();
}

const root = projectRoot();

// TEST_BUSY_LOOPS=N: N processes that keep a core busy beside the run, as other jobs do on a shared CI
// machine. A test that depends on the machine's speed (a fixed interval it relies on, a probe with a
// short timeout) fails this way on a developer's machine instead of one run in ten on CI's. Each loop
// yields every 50 ms, ends with this harness (its IPC channel closes) and after an hour at most.
const busyLoops = Number(process.env.TEST_BUSY_LOOPS ?? '0');
const BUSY_LOOP = `process.on('disconnect', () => process.exit(0));
const end = Date.now() + 3600e3;
(function spin() { const t = Date.now() + 50; while (Date.now() < t); if (Date.now() < end) setImmediate(spin); else process.exit(0); })();`;
const busy: ReturnType<typeof spawn>[] = [];
const stopBusyLoops = () => {
  for (const loop of busy.splice(0)) loop.kill('SIGKILL');
};

// The servers the run starts (assigned once each is up; stop() stops them).
let server: DevServer | undefined;
let rabbit: RabbitMq | undefined;
const stop = async () => {
  await Promise.all([server?.stop(), rabbit?.stop()]);
};
// Interrupted (Ctrl-C, a SIGTERM from CI or `timeout`, a SIGHUP when its terminal goes): everything
// the run started ends with it, the runner, the files and whatever they started, detached or not
// (scripts/test/interrupt.ts); the servers are stopped as at the end of a run. What has not ended
// 5 s after the servers (TASKOTRON_TEST_INTERRUPT_GRACE_S) is killed. The run then exits 130 without
// a summary, wherever its main course was. Registered before the set-up, so a server still starting
// is found among the processes too; a set-up step that fails because of it leaves the ending to
// this handler (`if (interruption) await interruption`).
// A second interrupt kills them all at once, servers included, and exits: whoever presses Ctrl-C
// again does not want to wait for the grace. One Ctrl-C under `npm test` reaches the harness up to
// three times (from the terminal, and relayed by npm and by tsx, within milliseconds), so only one
// that comes a second or more after the first counts as a second.
const INTERRUPT_GRACE_MS = Number(process.env.TASKOTRON_TEST_INTERRUPT_GRACE_S ?? '5') * 1000;
const REPEATED_INTERRUPT_MS = 1000;
let interruption: Promise<never> | undefined;
let interrupted: { at: number; processes: RunProcess[]; servers: number[] } | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopBusyLoops();
    if (interrupted) {
      if (performance.now() - interrupted.at < REPEATED_INTERRUPT_MS) return;
      console.error(`# ${signal} again: killing the run's processes and servers now`);
      signalEach(interrupted.processes, 'SIGKILL');
      for (const group of interrupted.servers) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // Already ended.
        }
      }
      process.exit(130);
    }
    const servers = [server?.pid, rabbit?.pid].filter((pid): pid is number => pid !== undefined);
    interrupted = { at: performance.now(), servers, processes: descendants(process.pid, { groups: servers, children: /\/esbuild\0--service=/ }) };
    const { processes } = interrupted;
    console.error(`# ${signal}: ending the run's ${processes.length} processes and its servers (${INTERRUPT_GRACE_MS / 1000} s grace; interrupt again to kill them now)`);
    interruption = (async () => {
      signalEach(processes, signal);
      await stop();
      await waitFor('the interrupted run\'s processes to end', () => stillRunning(processes).length === 0, INTERRUPT_GRACE_MS).catch(() => undefined);
      signalEach(processes, 'SIGKILL');
      process.exit(130);
    })();
  });
}

// When each part of the set-up was done (seconds since the harness started), for the summary line.
const setupDone: Record<string, number> = {};
function timed<T>(name: string, work: Promise<T>): Promise<T> {
  return work.then((value) => {
    setupDone[name] = process.uptime();
    return value;
  });
}

// The Debian packages the tests use (bubblewrap, rpm, createrepo-c, rabbitmq-server, chromium): the same
// idempotent script .ci/run calls, so `npm ci && npm test` on a fresh machine needs nothing by hand.
if (process.platform === 'linux') {
  const deps = spawnSync('bash', [join(root, 'scripts', 'system-deps.sh')], { stdio: 'inherit' });
  if (deps.status !== 0) process.exit(deps.status ?? 1);
}
// The tests read Fedora's real messages, formulas and payloads from ../shared/corpus, beside the
// checkout (CI puts shared/ there, read-only). Said once up front: without it the files that need it
// fail one by one with ENOENT, which does not say what is missing.
const sharedCorpus = join(root, '..', 'shared', 'corpus');
if (!existsSync(sharedCorpus)) {
  console.log(`# ${sharedCorpus} is missing: the tests that read the shared corpus will fail (clone the project beside shared/, as CI does)`);
}
// `--scenarios` (npm run test:scenarios): the long *.scenario.ts files instead of the *.test.ts ones.
const scenarios = process.argv.includes('--scenarios');
const paths = process.argv.slice(2).filter((a) => a !== '--scenarios');
const targets = paths.length > 0 ? paths.map((p) => resolve(p)) : [join(root, 'test')];
// Longest files first (by the last recorded wall times): the run then ends with a few short files
// instead of one long file alone on the cores.
const files = longestFirst(root, targets.flatMap((t) => testFiles(t, scenarios ? '.scenario.ts' : '.test.ts')).map((file) => relative(root, file)));
if (files.length === 0) {
  console.error(`no test files under ${targets.join(', ')}`);
  process.exit(1);
}

// Which servers, bundles and venvs the run needs is read from the selected files' text, once.
const texts = files.map((file) => readFileSync(join(root, file), 'utf8'));
const anyFile = (pattern: RegExp) => texts.some((text) => pattern.test(text));

const scratch = mkdtempSync(join(tmpdir(), 'taskotron-test-'));
// The job workflows bundled once for every test file that runs a runner worker (each file is its own
// process and would run webpack for seconds), while the server starts. A file the pattern misses
// still works: it bundles for itself.
const runsJobs = anyFile(/createRunnerWorker|workflowBundle|support\/job\.js|runtask|'start'|'worker'/);
// A fresh clone's `npm ci` (its `prepare`, `npm run build`) has just made both bundles in dist/src
// from these same sources: when no source is newer than its compiled output and no compiled module
// newer than the bundles (the rule `npm start` applies), the run uses them instead of running webpack
// again (~3 s of CPU while the servers start). After an edit it bundles from src/ as before.
const distBundle = (kind: BundleKind) => join(root, 'dist', 'src', basename(prebuiltBundlePath(kind)));
const distCurrent = distStaleReason(root) === undefined;
const distBundlesCurrent = distCurrent && staleBundles(root).length === 0;
if (distBundlesCurrent) console.log('# workflow bundles: dist/src\'s, current with these sources');
const bundleFile = distBundlesCurrent ? distBundle('workflows') : join(scratch, 'workflow-bundle.js');
const bundling = !runsJobs ? undefined : distBundlesCurrent ? Promise.resolve(bundleFile) : timed('job bundle', writeBundle('workflows', bundleFile));
// Likewise the trigger workflows an ingest hosts (src/workflows/trigger.ts, or the tests' stand-ins
// in test/ingest/workflows.ts): tests start ingest services and `taskotron ingest` processes dozens
// of times, each otherwise running webpack. The service looks its path up in TASKOTRON_TRIGGER_BUNDLES.
const runsIngest = anyFile(/startTestIngest|IngestService|'ingest'/);
const triggerBundles: Record<string, string> = {};
const bundlingTriggers = runsIngest
  ? timed('trigger bundles', Promise.all(
      [join(root, 'src', 'workflows', 'trigger.ts'), join(root, 'test', 'ingest', 'workflows.ts')].map(async (workflowsPath, i) => {
        let file = join(scratch, `trigger-bundle-${i}.js`);
        if (i === 0 && distBundlesCurrent) file = distBundle('triggers');
        else await writeBundleOf(workflowsPath, file);
        triggerBundles[workflowsPath] = file;
        // The compiled CLI's ingest looks its trigger workflows up by their dist/ path.
        if (workflowsPath.startsWith(join(root, 'src'))) triggerBundles[join(root, 'dist', relative(root, workflowsPath)).replace(/\.ts$/, '.js')] = file;
      }),
    ))
  : undefined;

// Test files start the CLI through test/support/cli.ts: compiled from dist/ when it is fresh, which
// halves each CLI process's CPU against tsx (dozens of processes per run). dist/ is compiled here
// first when a file under src/ is newer than its output (a full compile, ~11 s of CPU, only after an
// edit; `npm ci` builds it), beside the server's start. Should the compile fail, the CLI runs under
// tsx as before, as it does with TASKOTRON_TEST_CLI=tsx (to compare the two). test/bus/crash.ts and
// test/ingest/flood.ts start the CLI for the files that import them.
const runsCli = process.env.TASKOTRON_TEST_CLI !== 'tsx' && anyFile(/cliArgs\(|\/(crash|flood)\.js'/);
// dist/ was found current above (the same rule): then no compiler process is started to ask again.
const compiling = !runsCli
  ? Promise.resolve(false)
  : distCurrent
  ? Promise.resolve(true)
  : timed('dist/', new Promise<boolean>((done) => {
      const build = spawn(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs'), '--compile-only'], { cwd: root, stdio: 'inherit' });
      build.once('error', () => done(false));
      build.once('exit', (status) => done(status === 0));
    }));

// The test files run as JavaScript stripped of types by esbuild (scripts/test/transpile.ts), half a
// second of CPU less per file than under tsx; TASKOTRON_TEST_TS=tsx runs them under tsx as before.
const compiledTests = process.env.TASKOTRON_TEST_TS !== 'tsx';
// Every Node process of the run (the test files, and the CLI processes they start through
// test/support/cli.ts) runs with V8's optimizing compiler off. They live seconds, mostly loading
// modules: TurboFan's background compiles of that code cost more CPU than they save before the
// process exits. Measured on a `runtask` job of the example task, 2.8 → 2.25 s of CPU per process;
// on the whole run 480 and 449 s of CPU against 526 s, interleaved (docs/PERFORMANCE.md). The run is
// CPU-bound, so that is wall time. TASKOTRON_TEST_TURBOFAN=1 keeps V8's default (to compare).
const testNodeFlags = process.env.TASKOTRON_TEST_TURBOFAN ? [] : ['--no-opt'];
const build = buildDir(root);
const transpiling = compiledTests ? timed('transpile', transpileForTests(root, build)) : undefined;
// Awaited once the servers are up; until then a failure must not count as unhandled.
transpiling?.catch(() => undefined);
// Removed however the run ends (process.exit included).
if (compiledTests) process.once('exit', () => rmSync(build, { recursive: true, force: true }));

// The Python venvs of the files that run the real fedmsg and fedora-messaging libraries, built here
// once (on a fresh clone ~10 s of CPU each) rather than by two of those files at the same time. The
// run does not wait for them: a file that needs one waits for this build (test/support/python-venv.ts).
// They are started once the Temporal server is up, before the first file: started with the rest of
// the set-up, their ~20 s of CPU competed with the Temporal CLI's install and the server's start,
// which every file waits for.
const say = (line: string) => console.log(`# ${line}`);
const startVenvBuilds = () =>
  timed('venvs', Promise.all([
    anyFile(/ensurePythonFedmsg\(/) ? buildVenv('python-fedmsg', FEDMSG_REQUIREMENTS, say) : undefined,
    anyFile(/ensurePythonFedoraMessaging\(/) ? buildVenv('python-fedora-messaging', FEDORA_MESSAGING_REQUIREMENTS, say) : undefined,
  ])).catch((error: unknown) => {
    // The files that need the venv try again themselves and fail with pip's own message.
    console.log(`# building a Python venv failed: ${(error as Error).message}`);
  });

// A RabbitMQ node only when a selected test uses one (it costs ~20 s of start-up on a busy machine),
// started beside the Temporal server rather than after it.
let amqpUrl = process.env.TASKOTRON_TEST_AMQP_URL;
const needsAmqp = !amqpUrl && anyFile(/TASKOTRON_TEST_AMQP_URL|testAmqpUrl/);
// Its data directory is in the run's scratch: removed with it when the run passes, kept (with the
// node's log) when it fails.
const rabbitStarting = needsAmqp ? timed('rabbitmq', startRabbitMq({ dataDir: join(scratch, 'rabbitmq') })) : undefined;

// The Temporal CLI, installed on a fresh clone by a child process: ensureTemporalCli blocks while pip
// runs, and the bundles above are built on this process's thread meanwhile.
async function temporalCli(): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;
  await timed(
    'temporal CLI',
    new Promise<void>((done, fail) => {
      // The compiled CLI when dist/ is current (a fresh clone after `npm ci`): tsx would first
      // transform its modules, over a second of CPU while the bundles and RabbitMQ start.
      const cli = distCurrent ? [join(root, 'dist', 'src', 'cli', 'main.js')] : ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts')];
      const install = spawn(process.execPath, [...cli, 'dev-server', 'install'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      install.once('error', fail);
      install.once('exit', (status) => (status === 0 ? done() : fail(new Error(`installing the Temporal CLI failed (taskotron dev-server install exited ${status})`))));
    }),
  );
  return ensureTemporalCli();
}

let address = process.env.TEMPORAL_ADDRESS;
try {
  if (address) {
    await waitForFrontend(address, 10_000);
    console.log(`# using the Temporal server at ${address} (TEMPORAL_ADDRESS)`);
  } else {
    const binary = await temporalCli();
    const started = Date.now();
    // In-memory SQLite: fastest, and nothing to clean up.
    server = await startDevServer({ binary, logFile: join(scratch, 'temporal-server.log') });
    address = server.address;
    setupDone['temporal server'] = process.uptime();
    console.log(`# started a Temporal dev server at ${address} in ${Date.now() - started} ms (${binary}; log ${join(scratch, 'temporal-server.log')})`);
  }
} catch (error) {
  if (interruption) await interruption;
  // A RabbitMQ node started beside it must not outlive the run.
  await rabbitStarting?.then((r) => r.stop()).catch(() => undefined);
  throw error;
}
const venvs = startVenvBuilds();

if (rabbitStarting) {
  const started = Date.now();
  try {
    rabbit = await rabbitStarting;
  } catch (error) {
    if (interruption) await interruption;
    await server?.stop();
    throw error;
  }
  amqpUrl = rabbit.url;
  console.log(`# started RabbitMQ at ${rabbit.url} (+${Date.now() - started} ms after Temporal; data ${rabbit.dataDir})`);
}

// Five files at a time on a 2-core machine (Node 20's default there is one). At three, both cores
// were 8% idle on average (up to 29% over ten seconds) while every running file waited on a timer, a
// child process or the server; three runs at four took 186–196 s of tests against 198–207 s for three
// runs at three, alternating, the same CPU (docs/PERFORMANCE.md, "The test suite"; the runs are in its
// journal of 2026-12-03, `git show e73159d:docs/PERFORMANCE.md`). Five against four, four runs each,
// alternated on 2026-12-05 once the files' workflows ran on their main threads: 144.2–150.7 s of
// tests (mean 146.5) against 145.7–160.9 s (mean 153.5), the same CPU. TEST_CONCURRENCY overrides.
// Scenarios run one at a time: each loads the machine on purpose (10,000 starts, floods, kill -9),
// and one would skew another's timing and memory figures.
const concurrency = process.env.TEST_CONCURRENCY ?? (scenarios ? '1' : '5');
await Promise.all([bundling, bundlingTriggers]);
try {
  await transpiling;
} catch (error) {
  if (interruption) await interruption;
  await stop();
  throw error;
}
const compiledCli = await compiling;
if (runsCli && !compiledCli) console.log('# compiling dist/ failed: test files run the CLI under tsx');
// The compile above writes no workflow bundle (`--compile-only`: this run has its own). After an edit,
// dist/'s bundles are then older than its modules, and every `runtask`, worker or ingest running
// trigger workflows started from dist/ afterwards would run webpack for seconds until `npm start` or
// `npm run build`. This run's bundles are made from the same sources and are the ones every test
// below runs with, so they take that place.
const ownBundles: Array<[BundleKind, string | undefined]> = [['workflows', bundling ? bundleFile : undefined], ['triggers', triggerBundles[join(root, 'src', 'workflows', 'trigger.ts')]]];
for (const [kind, own] of ownBundles) {
  const target = distBundle(kind);
  if (!compiledCli || !own || bundleIsFresh(target)) continue;
  copyFileSync(own, `${target}.partial-${process.pid}`);
  renameSync(`${target}.partial-${process.pid}`, target);
  console.log(`# dist/src/${basename(target)} was older than dist/: replaced with this run's bundle`);
}
if (!(Number.isInteger(busyLoops) && busyLoops >= 0)) {
  await stop();
  throw new Error(`TEST_BUSY_LOOPS must be a whole number, got '${process.env.TEST_BUSY_LOOPS}'`);
}
for (let i = 0; i < busyLoops; i++) busy.push(spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }));
if (busyLoops > 0) console.log(`# ${busyLoops} busy loop(s) beside the run (TEST_BUSY_LOOPS)`);
const loadBefore = loadavg();
const startedAt = Date.now();
// What the run paid before its first file: system packages check, servers, bundles, transpiling (the
// venvs are built while the first files run).
const parts = Object.entries(setupDone).map(([name, at]) => `${name} ${at.toFixed(1)}`);
console.log(
  `# set-up took ${process.uptime().toFixed(1)} s (done at, s: ${parts.join(', ')})` +
    `${compiledTests ? '; test files run transpiled (TASKOTRON_TEST_TS=tsx runs them under tsx)' : ''}`,
);
const usageDir = join(scratch, 'usage');
mkdirSync(usageDir);
const resultsFile = join(scratch, 'results.json');
// scripts/test/run.ts rather than `node --test`, which sorts the files by name; usage.mjs records each
// file's CPU time from inside its process.
const runner = compiledTests
  ? [...testNodeFlags, '--import', './scripts/test/source-maps.mjs', '--import', './scripts/test/usage.mjs', compiledPath(root, build, join(root, 'scripts', 'test', 'run.ts')), ...files.map((file) => compiledPath(root, build, join(root, file)))]
  : [...testNodeFlags, '--import', 'tsx', '--import', './scripts/test/usage.mjs', 'scripts/test/run.ts', ...files];
// The files' temporary directories (artifacts, runner roots, ingest state, fixtures: over a hundred a
// run) go under the run's scratch directory, which a passing run removes; /tmp used to keep them all.
const testTmp = join(scratch, 'tmp');
mkdirSync(testTmp);
// No runner for a run interrupted during the set-up: it would start after the processes were ended.
if (interruption) await interruption;
const child = spawn(process.execPath, runner, {
  cwd: root,
  stdio: 'inherit',
  // A process group of its own, so a Ctrl-C in the terminal reaches the harness and not the runner
  // and its files: the harness finds the run's processes first and ends them itself. Reached by the
  // terminal's SIGINT, the files died at once and left what they had started detached to init,
  // where the harness could no longer find it.
  detached: true,
  env: {
    ...process.env,
    TMPDIR: testTmp,
    TEST_CONCURRENCY: concurrency,
    TEMPORAL_ADDRESS: address,
    TASKOTRON_TEST_HARNESS: '1',
    TASKOTRON_TEST_NODE_FLAGS: testNodeFlags.join(' '),
    ...(compiledCli ? { TASKOTRON_TEST_CLI: 'dist' } : {}),
    TASKOTRON_TEST_USAGE_DIR: usageDir,
    TASKOTRON_TEST_RESULTS: resultsFile,
    ...(bundling ? { TASKOTRON_WORKFLOW_BUNDLE: bundleFile } : {}),
    ...(bundlingTriggers ? { TASKOTRON_TRIGGER_BUNDLES: JSON.stringify(triggerBundles) } : {}),
    ...(amqpUrl ? { TASKOTRON_TEST_AMQP_URL: amqpUrl } : {}),
  },
});
const code = await new Promise<number>((done) => child.once('exit', (status, signal) => done(status ?? (signal ? 1 : 0))));
// The runner ended because the run was interrupted: the signal handler ends the run.
if (interruption) await interruption;
await venvs;
if (setupDone.venvs !== undefined) console.log(`# the Python venvs were ready ${setupDone.venvs.toFixed(1)} s after the harness started`);
const wallMs = Date.now() - startedAt;
const serversCpuMs = { temporal: server ? groupCpuMs(server.pid) : undefined, rabbitmq: rabbit ? groupCpuMs(rabbit.pid) : undefined };
await stop();
const usage = readUsage(root, usageDir, resultsFile);
recordTimings(root, usage);
// The summary's CPU is the run's own: the busy loops are killed (and reaped) only after it.
printSummary(usage, { wallMs, concurrency, loadBefore, loadAfter: loadavg(), totalCpuMs: treeCpuMs(), serversCpuMs });
stopBusyLoops();
// A failed run keeps its scratch (the server's log, the files' temporary directories) to look into.
if (code === 0) rmSync(scratch, { recursive: true, force: true });
else console.log(`# kept for a look: ${scratch} (the Temporal server's log, RabbitMQ's data and log under rabbitmq/, the test files' temporary directories under tmp/)`);
process.exit(code);
