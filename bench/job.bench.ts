// Per-action overhead of the job workflow: a 50-action job of `true` commands on the dev server vs
// the same 50 commands spawned one after another in one process, measured in the same run. A third
// figure, a 50-action job of `dummy` actions (an activity that starts no process), shows how much of
// the overhead is Temporal's own round trip per activity on this server.
// `npx tsx bench/job.bench.ts [rounds]` — bounded: rounds (default 5) × (50 spawns + one 50-action job).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Client, Connection } from '@temporalio/client';
import { JOB_WORKFLOW, type JobInput, type JobResult } from '../src/common/job.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { startDevServer } from '../src/devserver/server.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker } from '../src/worker/runner-worker.js';

const ACTIONS = 50;
const rounds = Number(process.argv[2] ?? 5);
const scratch = mkdtempSync(join(tmpdir(), 'taskotron-bench-'));
function task(name: string, directive: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const actions = Array.from({ length: ACTIONS }, (_, i) => `  - name: step ${i + 1}\n    ${directive}\n`).join('');
  writeFileSync(join(dir, 'runtask.yml'), `name: ${name}\ndesc: ${ACTIONS} actions\nmaintainer: bench\ninput:\n  args: [koji_build]\nactions:\n${actions}`);
  return dir;
}
const taskdir = task('fifty-trues', 'shell:\n      - [true]');
const dummydir = task('fifty-dummies', 'dummy:\n      result: PASS');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

installRuntimeLogger('ERROR');
const server = await startDevServer({ binary: ensureTemporalCli(), ...(process.env.BENCH_MEMORY ? {} : { dbFile: join(scratch, 'temporal.db') }) });
const worker = await createRunnerWorker({
  temporal: { address: server.address, namespace: server.namespace },
  arch: 'bench',
  hostname: 'bench-host',
  workflowQueue: 'bench',
  runner: { root: join(scratch, 'runner') },
});
const running = worker.run();
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });

async function baseline(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ACTIONS; i++) await execa('true', [], { cwd: taskdir, stdin: 'ignore' });
  return performance.now() - started;
}

async function job(round: number, dir = taskdir): Promise<number> {
  const id = `bench-${round}-${dir === taskdir ? 'shell' : 'dummy'}`;
  const input: JobInput = { task: 'bench', source: { kind: 'local', path: dir }, item: 'bench-1.0-1.fc40', itemType: 'koji_build', arch: 'bench', uuid: id };
  const started = performance.now();
  const result = (await client.workflow.execute(JOB_WORKFLOW, { taskQueue: 'bench', workflowId: id, args: [input] })) as JobResult;
  const elapsed = performance.now() - started;
  if (result.outcome !== 'PASSED') throw new Error(`bench job ended ${result.outcome}: ${result.reason}`);
  return elapsed;
}

try {
  await job(-1); // warm-up: workflow bundle in cache, first SQLite writes
  await baseline();
  const baselines: number[] = [];
  const jobs: number[] = [];
  const dummies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    baselines.push(await baseline());
    jobs.push(await job(round));
    dummies.push(await job(round, dummydir));
  }
  const d = median(dummies);
  const b = median(baselines);
  const j = median(jobs);
  const overheads = jobs.map((t, i) => (t - baselines[i]!) / ACTIONS);
  console.log(`machine: ${cpus().length} cpus, ${cpus()[0]?.model}, Node ${process.version}; dev server with SQLite file + WAL`);
  console.log(`${ACTIONS} × true, one process:    median ${b.toFixed(0)} ms (${(b / ACTIONS).toFixed(2)} ms per command)  [${baselines.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`${ACTIONS}-action job (workflow):   median ${j.toFixed(0)} ms (${(j / ACTIONS).toFixed(2)} ms per action)  [${jobs.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`${ACTIONS}-action job of dummy:   median ${d.toFixed(0)} ms (${(d / ACTIONS).toFixed(2)} ms per action: Temporal's round trip + our bookkeeping, no process)  [${dummies.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`per-action overhead: median ${median(overheads).toFixed(2)} ms (goal < 20 ms); ratio job/baseline ${(j / b).toFixed(2)}×`);
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await server.stop();
}
