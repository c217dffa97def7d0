// Re-records the golden histories under test/histories/ from real runs on a real Temporal server.
// Run after an intended change to workflow code: `npm run record-histories`. Each scenario writes
// <name>.json, and a tampered copy under tampered/ that replay must reject (see docs/testing.md).
// Jobs are recorded in today's shape (slots, the workdir removed at the end, and the host ending the
// slot itself after that, `slotend-job-*`; a cancelled job removing its workdir too, `cancelwd-job-*`).
// The older shapes stay as they were recorded, so every path production may still be running replays:
// job-*.json (before patched('host-slots')), slots-job-*.json (slots, before patched('remove-workdir')),
// workdir-job-*.json (before patched('slot-ends-itself')), slotend-job-cancelled.json (before
// patched('cancelled-job-removes-workdir')) and lostslot-job-host-lost-before-patch.json (before
// patched('lost-host-not-asked')).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { DiscoverResult } from '../src/activities/discover.js';
import { JOB_PROGRESS_QUERY, JOB_WORKFLOW, type JobInput, type JobResult } from '../src/common/job.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import { startDevServer } from '../src/devserver/server.js';
import { TAG_DEBOUNCE_WORKFLOW, tagChangedSignal, tagDebounceWorkflowId, type TagDebounceCarry, type TriggerInput } from '../src/workflows/trigger.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker } from '../src/worker/runner-worker.js';
import { startSilentSlot } from '../test/support/silent-slot.js';

const ARCH = 'x86_64';
const QUEUE = 'record-histories';
const root = projectRoot();
const runnerRoot = mkdtempSync(join(tmpdir(), 'taskotron-record-'));

interface Context {
  client: Client;
  address: string;
}

interface HistoryEvent {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  startChildWorkflowExecutionInitiatedEventAttributes?: { workflowType: { name: string } };
  workflowExecutionSignaledEventAttributes?: { signalName: string };
}

interface Scenario {
  name: string;
  /**
   * Which scheduled activity the tampered copy renames (an index into the scheduled ones); a history
   * without activities names another command to change instead.
   */
  tamperActivity: number | { describe: string; apply(events: HistoryEvent[]): boolean };
  run(ctx: Context): Promise<WorkflowHandle>;
}

function job(task: string, dir: string, item: string, extra: Partial<JobInput> = {}): JobInput {
  return { task, source: { kind: 'local', path: join(root, dir) }, item, itemType: 'koji_build', arch: ARCH, uuid: `recorded-${task}-${item}`, ...extra };
}

async function startJob(ctx: Context, name: string, input: JobInput, queue = QUEUE): Promise<WorkflowHandle> {
  return ctx.client.workflow.start(JOB_WORKFLOW, { taskQueue: queue, workflowId: `recorded-${name}`, args: [input] });
}

async function settle(handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
}

async function waitForRunning(handle: WorkflowHandle, action: number, host?: string): Promise<void> {
  for (;;) {
    const snapshot = await handle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined);
    if (snapshot?.actions[action]?.status === 'running' && (!host || snapshot.host === host)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function workerProcess(address: string, arch: string, hostname: string, queue: string, stall = false): Promise<ChildProcess> {
  mkdirSync(join(runnerRoot, hostname), { recursive: true });
  // The slow fixture's middle step hangs on a host whose root holds `stall` (see its runtask.yml).
  if (stall) writeFileSync(join(runnerRoot, hostname, 'stall'), '');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--arch', arch, '--hostname', hostname, '--workflow-queue', queue, '--root', join(runnerRoot, hostname)], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: address },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  return new Promise((resolve) => child.stderr!.on('data', (chunk: Buffer) => chunk.toString().includes('polling') && resolve(child)));
}

/** A KojiTagChanged message as a trigger workflow forwards it to its tag's debounce workflow. */
function tagChange(tag: string, n: number): TriggerInput {
  const msgId = `2026-recorded-${tag}-${n}`;
  return {
    msgId,
    topic: 'org.fedoraproject.prod.buildsys.tag',
    timestamp: 1_764_316_800 + n,
    messageType: 'KojiTagChanged',
    item: tag,
    itemType: 'koji_tag',
    data: { message_type: 'KojiTagChanged', item: tag, item_type: 'koji_tag', tag },
    jobs: [{ task: 'rpmdeplint', arch: ARCH, source: { kind: 'local', path: join(root, 'examples/tasks/nvr-sanity') } }],
    discover: [],
    // Nobody polls it: the child job only has to be started, not run.
    jobQueue: `${QUEUE}-unpolled`,
    debounce: { tag, fuseDelaySeconds: 1 },
  };
}

/**
 * `changes` changes of one tag within its fuse delay, then quiet: one fire, from the newest message.
 * The handle is the first run's (with `carry.maxHistoryEvents` low, the one that hands over mid-window).
 */
async function tagBurst(ctx: Context, name: string, changes = 2, carry?: TagDebounceCarry): Promise<WorkflowHandle> {
  const tag = `f40-${name}`;
  const handle = await ctx.client.workflow.signalWithStart(TAG_DEBOUNCE_WORKFLOW, {
    taskQueue: QUEUE,
    workflowId: tagDebounceWorkflowId(tag),
    args: carry ? [tag, carry] : [tag],
    signal: tagChangedSignal,
    signalArgs: [tagChange(tag, 1)],
  });
  const firstRun = ctx.client.workflow.getHandle(handle.workflowId, handle.signaledRunId);
  const latestRun = ctx.client.workflow.getHandle(handle.workflowId);
  // One workflow task per change, so the window sees them one by one (cancelling and restarting its timer).
  const settled = async () => {
    for (let i = 0; i < 200 && (await latestRun.describe()).raw.pendingWorkflowTask; i += 1) await new Promise((r) => setTimeout(r, 25));
  };
  await settled();
  for (let n = 2; n <= changes && (await firstRun.describe()).status.name === 'RUNNING'; n += 1) {
    await latestRun.signal(tagChangedSignal, tagChange(tag, n));
    await settled();
  }
  return ctx.client.workflow.getHandle(handle.workflowId, handle.signaledRunId);
}

/**
 * A change arriving while the window fires: the run hands it to the next run (continue-as-new). The
 * fire's discoverTasks (the ingest's activity; here a stand-in on its own queue, see below) is held
 * until the second change is in the history. The handle is the first run's.
 */
async function tagChangeDuringFire(ctx: Context, name: string): Promise<WorkflowHandle> {
  const tag = `f40-${name}`;
  const change = (n: number): TriggerInput => ({
    ...tagChange(tag, n),
    discover: [{ repo: `rpms/${tag}`, recursive: false, arches: [ARCH] }],
    activityQueue: DISCOVER_QUEUE,
  });
  const handle = await ctx.client.workflow.signalWithStart(TAG_DEBOUNCE_WORKFLOW, {
    taskQueue: QUEUE,
    workflowId: tagDebounceWorkflowId(tag),
    args: [tag],
    signal: tagChangedSignal,
    signalArgs: [change(1)],
  });
  const release = await discoverGate.called;
  await handle.signal(tagChangedSignal, change(2));
  release();
  return ctx.client.workflow.getHandle(handle.workflowId, handle.signaledRunId);
}

/** The first discoverTasks call waits until the scenario lets it go; later ones answer at once. */
const DISCOVER_QUEUE = `${QUEUE}-ingest`;
const discoverGate = (() => {
  let onCall: (release: () => void) => void = () => undefined;
  const called = new Promise<() => void>((resolve) => (onCall = resolve));
  let first = true;
  return {
    called,
    discoverTasks(request: { repo: string }): Promise<DiscoverResult> {
      const answer = { repo: request.repo, formulas: [], note: 'recorded: the package has no tests' };
      if (!first) return Promise.resolve(answer);
      first = false;
      return new Promise((resolve) => onCall(() => resolve(answer)));
    },
  };
})();

/** The tampered copy of a debounce history: the fired job's workflow type renamed. */
const renameChildJob = {
  describe: 'child workflow type renamed',
  apply(events: HistoryEvent[]): boolean {
    const child = events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)?.startChildWorkflowExecutionInitiatedEventAttributes;
    if (!child) return false;
    child.workflowType.name = `${child.workflowType.name}Renamed`;
    return true;
  },
};

/**
 * The tampered copy of a debounce window that handed over before firing: its first change arrives
 * under another signal name, so the window never opens and the recorded timer has no command.
 * (Core does not compare timer IDs or durations, so changing those would replay.)
 */
const renameFirstSignal = {
  describe: 'signal renamed',
  apply(events: HistoryEvent[]): boolean {
    const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes)?.workflowExecutionSignaledEventAttributes;
    if (!signal) return false;
    signal.signalName = `${signal.signalName}Renamed`;
    return true;
  },
};

const scenarios: Scenario[] = [
  // tag-debounce-before-handover.json (one run firing again and again) was recorded before the hand-over
  // and is kept as it is, like job-*.json: the old path behind patched('tag-debounce-handover').
  { name: 'tag-debounce-fired', tamperActivity: renameChildJob, run: (ctx) => tagBurst(ctx, 'tag-debounce-fired') },
  // A change during the fire: the first run's history, ending in continue-as-new after its fire.
  { name: 'tag-debounce-fired-handover', tamperActivity: 0, run: (ctx) => tagChangeDuringFire(ctx, 'tag-debounce-fired-handover') },
  // A window busy enough to hand over before it fires: the first run's history, ending in continue-as-new.
  { name: 'tag-debounce-handover', tamperActivity: renameFirstSignal, run: (ctx) => tagBurst(ctx, 'tag-debounce-handover', 10, { coalesced: [], seen: [], maxHistoryEvents: 14 }) },
  { name: 'probe-runner-pool', tamperActivity: 0, run: (ctx) => ctx.client.workflow.start('probeRunnerPool', { taskQueue: QUEUE, workflowId: 'recorded-probe-runner-pool', args: [{ arch: ARCH }] }) },
  { name: 'slotend-job-passed', tamperActivity: 4, run: (ctx) => startJob(ctx, 'slotend-job-passed', job('nvr-sanity', 'examples/tasks/nvr-sanity', 'foo-1.0-1.fc40')) },
  { name: 'slotend-job-failed', tamperActivity: 6, run: (ctx) => startJob(ctx, 'slotend-job-failed', job('nvr-sanity', 'examples/tasks/nvr-sanity', 'foo-1.0-1')) },
  { name: 'slotend-job-crashed-ignorereturn', tamperActivity: 4, run: (ctx) => startJob(ctx, 'slotend-job-crashed-ignorereturn', job('ignorereturn', 'test/fixtures/tasks/ignorereturn', 'foo-1.0-1.fc40')) },
  {
    // A finished job reset from the CLI: the history of its re-run.
    name: 'slotend-job-rerun',
    tamperActivity: 3,
    async run(ctx) {
      const first = await startJob(ctx, 'slotend-job-rerun', job('nvr-sanity', 'examples/tasks/nvr-sanity', 'bar-1.0-1.fc40'));
      await settle(first);
      execFileSync(ensureTemporalCli(), ['workflow', 'reset', '--address', ctx.address, '--workflow-id', first.workflowId, '--type', 'FirstWorkflowTask', '--reason', 'recorded re-run']);
      return ctx.client.workflow.getHandle(first.workflowId, (await ctx.client.workflow.getHandle(first.workflowId).describe()).runId);
    },
  },
  {
    // slotend-job-cancelled.json stays as recorded, before patched('cancelled-job-removes-workdir').
    name: 'cancelwd-job-cancelled',
    tamperActivity: 5,
    async run(ctx) {
      const handle = await startJob(ctx, 'cancelwd-job-cancelled', job('sleepy', 'test/fixtures/tasks/sleepy', 'foo-1.0-1.fc40'));
      await waitForRunning(handle, 1);
      await handle.cancel();
      return handle;
    },
  },
  {
    name: 'slotend-job-host-lost',
    tamperActivity: 5,
    async run(ctx) {
      const queue = `${QUEUE}-host-lost`;
      const arch = 'hostlost';
      const hostA = await workerProcess(ctx.address, arch, 'host-a', queue, true);
      const input = { ...job('slow', 'test/fixtures/tasks/slow', 'foo-1.0-1.fc40'), arch, supervision: { heartbeatTimeoutSeconds: 3, hostLostAfterSeconds: 5 } };
      const handle = await startJob(ctx, 'slotend-job-host-lost', input, queue);
      await waitForRunning(handle, 1, 'host-a');
      const hostB = await workerProcess(ctx.address, arch, 'host-b', queue);
      process.kill(-hostA.pid!, 'SIGKILL');
      await settle(handle);
      process.kill(-hostB.pid!, 'SIGTERM');
      return handle;
    },
  },
];

/**
 * A job whose host-a slot times out while host-a's step still heartbeats (which of the two ends first
 * when a host dies is a race; here the slot loses it for sure): host-a's steps run on a runner whose
 * slot is a silent one (test/support/silent-slot.ts).
 */
async function lostSlotFirst(ctx: Context, name: string): Promise<WorkflowHandle> {
  const arch = 'lostslot';
  const root = join(runnerRoot, `${name}-host-a`);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'stall'), '');
  const hostA = await createRunnerWorker({
    temporal: { address: ctx.address, namespace: 'default' },
    arch,
    hostname: 'host-a',
    workflowQueue: QUEUE,
    poolQueue: `${QUEUE}-unused-pool`,
    shutdownGraceMs: 1000,
    runner: { root, killGraceMs: 1000 },
  });
  const silentSlot = await startSilentSlot(ctx.address, arch, 'host-a');
  const running = [hostA.run(), silentSlot.run()];
  let hostB: Awaited<ReturnType<typeof createRunnerWorker>> | undefined;
  try {
    const input = { ...job('slow', 'test/fixtures/tasks/slow', 'foo-1.0-1.fc40'), arch, uuid: `recorded-${name}`, supervision: { heartbeatTimeoutSeconds: 3, hostLostAfterSeconds: 5 } };
    const handle = await startJob(ctx, name, input);
    await waitForRunning(handle, 1, 'host-a');
    hostB = await createRunnerWorker({
      temporal: { address: ctx.address, namespace: 'default' },
      arch,
      hostname: 'host-b',
      workflowQueue: `${QUEUE}-unused-workflows`,
      shutdownGraceMs: 1000,
      runner: { root: join(runnerRoot, `${name}-host-b`) },
    });
    const runningB = hostB.run();
    await settle(handle);
    hostB.shutdown();
    await runningB;
    return handle;
  } finally {
    hostA.shutdown();
    silentSlot.shutdown();
    await Promise.all(running);
  }
}

scenarios.push({
  // Since patched('lost-host-not-asked'): the lost host is not asked to remove the workdir.
  name: 'lostslot-job-host-lost',
  tamperActivity: 5,
  run: (ctx) => lostSlotFirst(ctx, 'lostslot-job-host-lost'),
});
// lostslot-job-host-lost-before-patch.json is the same scenario recorded with the workflow code of
// d73d3f2, before that patch (removeWorkdir sent to the lost host's queue), tampered at activity #6;
// it stays as recorded.

const only = process.argv.slice(2);
const dir = join(root, 'test', 'histories');
mkdirSync(join(dir, 'tampered'), { recursive: true });
installRuntimeLogger('WARN');
const server = await startDevServer({ binary: ensureTemporalCli() });
const worker = await createRunnerWorker({
  temporal: { address: server.address, namespace: server.namespace },
  arch: ARCH,
  hostname: 'recorder',
  workflowQueue: QUEUE,
  runner: { root: join(runnerRoot, 'recorder') },
});
const running = worker.run();
// The ingest's discoverTasks, held open by tagChangeDuringFire: no git clone is needed to record a fire.
const discoverConnection = await NativeConnection.connect({ address: server.address });
const discoverWorker = await Worker.create({ connection: discoverConnection, taskQueue: DISCOVER_QUEUE, activities: { discoverTasks: discoverGate.discoverTasks } });
const discovering = discoverWorker.run();
const connection = await Connection.connect({ address: server.address });
const ctx: Context = { client: new Client({ connection }), address: server.address };
try {
  for (const scenario of scenarios.filter((s) => only.length === 0 || only.includes(s.name))) {
    const handle = await scenario.run(ctx);
    await settle(handle);
    const json = JSON.parse(historyToJSON(await handle.fetchHistory())) as { events: HistoryEvent[] };
    writeFileSync(join(dir, `${scenario.name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    const tamper = scenario.tamperActivity;
    if (typeof tamper === 'number') {
      const scheduled = json.events.filter((event) => event.activityTaskScheduledEventAttributes);
      const victim = scheduled[tamper]?.activityTaskScheduledEventAttributes;
      if (!victim) throw new Error(`${scenario.name}: no scheduled activity #${tamper} to tamper with`);
      victim.activityType.name = `${victim.activityType.name}Renamed`;
      writeFileSync(join(dir, 'tampered', `${scenario.name}.activity-renamed.json`), `${JSON.stringify(json, null, 2)}\n`);
      console.log(`recorded ${scenario.name} (${json.events.length} events; tampered: activity #${tamper} renamed)`);
    } else {
      if (!tamper.apply(json.events)) throw new Error(`${scenario.name}: nothing to tamper with (${tamper.describe})`);
      writeFileSync(join(dir, 'tampered', `${scenario.name}.${tamper.describe.replace(/\W+/g, '-')}.json`), `${JSON.stringify(json, null, 2)}\n`);
      console.log(`recorded ${scenario.name} (${json.events.length} events; tampered: ${tamper.describe})`);
    }
  }
} finally {
  worker.shutdown();
  discoverWorker.shutdown();
  await Promise.all([running, discovering]);
  await discoverConnection.close();
  await connection.close();
  await server.stop();
}
