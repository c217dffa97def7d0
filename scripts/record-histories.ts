// Re-records the golden histories under test/histories/ from real runs on a real Temporal server.
// Run after an intended change to workflow code: `npm run record-histories`. Each scenario writes
// <name>.json, and a tampered copy under tampered/ that replay must reject (see docs/testing.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import { startDevServer } from '../src/devserver/server.js';
import { createRunnerWorker } from '../src/worker/runner-worker.js';

interface Scenario {
  name: string;
  workflowType: string;
  args: unknown[];
  /** Which scheduled activity type the tampered copy renames (an index into the scheduled ones). */
  tamperActivity: number;
}

const ARCH = 'x86_64';
const QUEUE = 'record-histories';
const scenarios: Scenario[] = [
  { name: 'probe-runner-pool', workflowType: 'probeRunnerPool', args: [{ arch: ARCH }], tamperActivity: 0 },
];

const dir = join(projectRoot(), 'test', 'histories');
mkdirSync(join(dir, 'tampered'), { recursive: true });
const server = await startDevServer({ binary: ensureTemporalCli() });
const worker = await createRunnerWorker({
  temporal: { address: server.address, namespace: server.namespace },
  arch: ARCH,
  hostname: 'recorder',
  workflowQueue: QUEUE,
});
const running = worker.run();
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
try {
  for (const scenario of scenarios) {
    const handle = await client.workflow.start(scenario.workflowType, {
      taskQueue: QUEUE,
      workflowId: `recorded-${scenario.name}`,
      args: scenario.args,
    });
    await handle.result();
    const json = JSON.parse(historyToJSON(await handle.fetchHistory())) as {
      events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[];
    };
    writeFileSync(join(dir, `${scenario.name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    const scheduled = json.events.filter((event) => event.activityTaskScheduledEventAttributes);
    const victim = scheduled[scenario.tamperActivity]?.activityTaskScheduledEventAttributes;
    if (!victim) throw new Error(`${scenario.name}: no scheduled activity #${scenario.tamperActivity} to tamper with`);
    victim.activityType.name = `${victim.activityType.name}Renamed`;
    writeFileSync(join(dir, 'tampered', `${scenario.name}.activity-renamed.json`), `${JSON.stringify(json, null, 2)}\n`);
    console.log(`recorded ${scenario.name} (${json.events.length} events) on ${hostname()}`);
  }
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await server.stop();
}
