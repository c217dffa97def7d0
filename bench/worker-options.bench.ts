// Worker options of the runner worker, compared in one run: one dev server, one runner worker per
// tuning (each its own arch and queues, all in this process), 50-action jobs of `dummy` (no process:
// only the hand-offs and the worker's own work), rounds interleaved A, B, C, … so the machine's load
// falls on every tuning alike. Prints each tuning's median job time per action and the median
// workflow task started → completed of its last job.
// `npx tsx bench/worker-options.bench.ts [rounds]`; BENCH_TUNINGS=base,threads2,… picks tunings.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { JOB_WORKFLOW, type JobInput, type JobResult } from '../src/common/job.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { startDevServer } from '../src/devserver/server.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker, type RunnerWorker } from '../src/worker/runner-worker.js';
import { median } from './figures.js';

const ACTIONS = 50;
const rounds = Number(process.argv[2] ?? 4);
const TUNINGS: Record<string, { workflow?: Partial<WorkerOptions>; host?: Partial<WorkerOptions> }> = {
  base: {},
  threads2: { workflow: { workflowThreadPoolSize: 2 } },
  nocontext: { workflow: { reuseV8Context: false } },
  polls2: { workflow: { maxConcurrentWorkflowTaskPolls: 2 }, host: { maxConcurrentActivityTaskPolls: 2 } },
  ratio1: { workflow: { nonStickyToStickyPollRatio: 1 } },
  cache10: { workflow: { maxCachedWorkflows: 10 } },
};
const chosen = (process.env.BENCH_TUNINGS ?? 'base,threads2,polls2').split(',').map((v) => v.trim());
for (const name of chosen) if (!TUNINGS[name]) throw new Error(`BENCH_TUNINGS: unknown tuning '${name}' (known: ${Object.keys(TUNINGS).join(', ')})`);

const scratch = mkdtempSync(join(tmpdir(), 'taskotron-bench-'));
const dummydir = join(scratch, 'fifty-dummies');
mkdirSync(dummydir);
const actions = Array.from({ length: ACTIONS }, (_, i) => `  - name: step ${i + 1}\n    dummy:\n      result: PASS\n`).join('');
writeFileSync(join(dummydir, 'runtask.yml'), `name: dummies\ndesc: ${ACTIONS} actions\nmaintainer: bench\ninput:\n  args: [koji_build]\nactions:\n${actions}`);

installRuntimeLogger('ERROR');
const server = await startDevServer({ binary: ensureTemporalCli(), dbFile: join(scratch, 'bench.db') });
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
const workers: Array<{ name: string; worker: RunnerWorker; running: Promise<void>; jobs: number[]; wft: number[] }> = [];
for (const name of chosen) {
  const worker = await createRunnerWorker({
    temporal: { address: server.address, namespace: server.namespace },
    arch: `bench-${name}`,
    hostname: 'bench-host',
    workflowQueue: `bench-${name}`,
    runner: { root: join(scratch, `runner-${name}`) },
    tuning: TUNINGS[name],
  });
  workers.push({ name, worker, running: worker.run(), jobs: [], wft: [] });
}

async function job(name: string, id: string): Promise<number> {
  const arch = `bench-${name}`;
  const input: JobInput = { task: 'bench', source: { kind: 'local', path: dummydir }, item: 'bench-1.0-1.fc40', itemType: 'koji_build', arch, uuid: id };
  const started = performance.now();
  const result = (await client.workflow.execute(JOB_WORKFLOW, { taskQueue: arch, workflowId: id, args: [input] })) as JobResult;
  if (result.outcome !== 'PASSED') throw new Error(`bench job ended ${result.outcome}: ${result.reason}`);
  return performance.now() - started;
}

/** Median workflow task started → completed over the job's history. */
async function wftMedian(id: string): Promise<number> {
  const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const ms = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const spans: number[] = [];
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.workflowTaskCompletedEventAttributes && events[i - 1]!.workflowTaskStartedEventAttributes) spans.push(ms(events[i]!) - ms(events[i - 1]!));
  }
  return median(spans);
}

try {
  const loads = [loadavg()[0]!];
  for (const w of workers) await job(w.name, `warm-${w.name}`);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no tuning always runs first.
    for (let k = 0; k < workers.length; k++) {
      const w = workers[(k + round) % workers.length]!;
      const id = `r${round}-${w.name}`;
      w.jobs.push((await job(w.name, id)) / ACTIONS);
      w.wft.push(await wftMedian(id));
    }
    loads.push(loadavg()[0]!);
  }
  console.log(`load average (1 min) during the run: ${loads.map((x) => x.toFixed(1)).join(' ')}`);
  const base = median(workers[0]!.jobs);
  for (const w of workers) {
    console.log(`${w.name.padEnd(10)} per action ${median(w.jobs).toFixed(2)} ms (${(median(w.jobs) / base).toFixed(3)}× ${workers[0]!.name})  workflow task started→completed ${median(w.wft).toFixed(2)} ms  [${w.jobs.map((x) => x.toFixed(1)).join(', ')}]`);
  }
} finally {
  for (const w of workers) w.worker.shutdown();
  await Promise.allSettled(workers.map((w) => w.running));
  await connection.close();
  await server.stop();
}
