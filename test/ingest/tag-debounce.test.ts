// KojiTagChanged is debounced per tag by fuse_delay with a Temporal timer: a burst of tag messages
// gives one job set after the tag has been quiet, and the wait survives the ingest going away.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { DiscoverResult } from '../../src/activities/discover.js';
import type { JobInput } from '../../src/common/job.js';
import { Item } from '../../src/common/search-attributes.js';
import { MAIN_THREAD_WORKFLOWS } from '../../src/worker/workflow-thread.js';
import {
  TAG_DEBOUNCE_WORKFLOW,
  jobWorkflowId,
  tagChangedSignal,
  tagDebounceWorkflowId,
  type TagDebounceCarry,
  type TagDebounceResult,
  type TriggerInput,
  type TriggerResult,
} from '../../src/workflows/trigger.js';
import { quietRuntime } from '../support/runtime.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { corpusEnvelope } from './corpus.js';
import { publishTo, scratchDir, standInWorkflowsOption, startTestIngest, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';

let client: Client;
let close: () => Promise<void>;
before(async () => {
  quietRuntime();
  ({ client, close } = await testClient());
});
after(async () => close());

const rules = '- when: {message_type: KojiTagChanged}\n  do: [{tasks: [rpmdeplint], arches: [x86_64]}]\n';
const tagMessage = (tag: string, name: string, timestamp = 1_764_316_800) => {
  const envelope = corpusEnvelope('buildsys.tag__TestKojiBuildTag.json', `2026-${crypto.randomUUID()}`);
  return { ...envelope, timestamp, msg: { ...envelope.msg, tag, name } };
};
type Debounced = TagDebounceResult;

test('a burst of tag changes starts one job set per tag, after fuse_delay of quiet, from the newest message', { timeout: 60_000 }, async () => {
  const tagA = `f40-updates-testing-pending-${crypto.randomUUID().slice(0, 6)}`;
  const tagB = `f41-updates-pending-${crypto.randomUUID().slice(0, 6)}`;
  const burst = [tagMessage(tagA, 'bash', 1_764_316_800), tagMessage(tagA, 'zsh', 1_764_316_801), tagMessage(tagA, 'fish', 1_764_316_802)];
  const other = tagMessage(tagB, 'vim');
  // The burst's messages are 0.7 s apart; each reaches the tag's window through ingest, a trigger
  // workflow and an activity, whose delays vary with the machine's load. The fuse leaves 2.3 s for that.
  const fuseDelaySeconds = 3;
  const ingest = await startTestIngest(rules, { fuseDelaySeconds });
  try {
    await publishTo(ingest.endpoint, [burst[0]!, other]);
    await new Promise((r) => setTimeout(r, 700));
    await publishTo(ingest.endpoint, [burst[1]!]);
    await new Promise((r) => setTimeout(r, 700));
    await publishTo(ingest.endpoint, [burst[2]!]);
    const lastPublished = Date.now();
    // A trigger workflow exists once ingest has started it: asking for its result sooner is NotFound.
    await until('the four trigger workflows to start', () => ingest.service.stats().started === 4, INGEST_WAIT_MS);
    for (const m of [...burst, other]) {
      const trigger: TriggerResult = await client.workflow.getHandle(`msg-${m.msg_id}`).result();
      assert.equal(trigger.debouncedBy, `koji-tag-${m.msg.tag}`);
      assert.deepEqual(trigger.jobs, []);
    }
    const a: Debounced = await client.workflow.getHandle(`koji-tag-${tagA}`).result();
    assert.ok(Date.now() - lastPublished >= fuseDelaySeconds * 1000 - 100, 'the jobs wait for fuse_delay after the last change');
    assert.deepEqual([...a.coalesced].sort(), burst.map((m) => m.msg_id).sort());
    assert.deepEqual(a.jobs.map((j) => j.workflowId), [`msg-${burst[2]!.msg_id}/rpmdeplint/x86_64`]);
    const input = (await client.workflow.getHandle(a.jobs[0]!.workflowId).result()) as JobInput;
    assert.equal(input.item, tagA);
    assert.equal(input.itemType, 'koji_tag');
    const b: Debounced = await client.workflow.getHandle(`koji-tag-${tagB}`).result();
    assert.deepEqual(b.jobs.map((j) => j.workflowId), [`msg-${other.msg_id}/rpmdeplint/x86_64`]);
    await client.workflow.getHandle(b.jobs[0]!.workflowId).result();
  } finally {
    await ingest.service.stop();
  }
});

test('the fuse_delay wait is a durable timer: jobs still start when ingest was down while it ran out', { timeout: 60_000 }, async () => {
  const tag = `f40-updates-pending-${crypto.randomUUID().slice(0, 6)}`;
  const message = tagMessage(tag, 'bash');
  const stateDir = scratchDir('ingest-debounce');
  const first = await startTestIngest(rules, { fuseDelaySeconds: 2 }, { stateDir });
  try {
    await publishTo(first.endpoint, [message]);
    await until('the trigger to start', () => first.service.stats().started === 1, INGEST_WAIT_MS);
    await client.workflow.getHandle(`msg-${message.msg_id}`).result();
    await until('the tag window to open', async () => (await client.workflow.getHandle(`koji-tag-${tag}`).describe().catch(() => undefined))?.status.name === 'RUNNING', INGEST_WAIT_MS);
  } finally {
    await first.service.stop();
  }
  // Nobody polls the queue while the timer runs out on the server: its firing is in the history
  // before the next ingest starts.
  await until('the fuse_delay timer to fire with no ingest running', async () => {
    const { events } = await client.workflow.getHandle(`koji-tag-${tag}`).fetchHistory();
    return (events ?? []).some((e) => e.timerFiredEventAttributes);
  }, INGEST_WAIT_MS);
  const second = await startTestIngest(rules, { fuseDelaySeconds: 2 }, { stateDir, queue: first.queue });
  try {
    const result: Debounced = await client.workflow.getHandle(`koji-tag-${tag}`).result();
    assert.deepEqual(result.jobs.map((j) => j.workflowId), [`msg-${message.msg_id}/rpmdeplint/x86_64`]);
    await client.workflow.getHandle(result.jobs[0]!.workflowId).result();
  } finally {
    await second.service.stop();
  }
});

// The hand-over (continue-as-new) is driven here straight through the workflow's signal, as the
// ingest's forwardTagChange sends it, on a worker of the test's own: its discoverTasks stand-in
// holds each fire open until the test has sent the changes that must arrive during it.
interface HistoryEvent {
  eventTime?: { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null;
  workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string };
  startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId?: string };
  workflowExecutionSignaledEventAttributes?: { input?: { payloads?: Payload[] | null } | null } | null;
  activityTaskScheduledEventAttributes?: unknown;
}

/** An event's time on the server's clock, in ms. */
const eventMs = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** Every run of a workflow ID's continue-as-new chain from `firstRunId`: its events, in order. */
async function runsOf(workflowId: string, firstRunId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  for (let runId: string | undefined = firstRunId; runId && runs.length < 1000; ) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = (history.events ?? []) as HistoryEvent[];
    runs.push(events);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

const startedJobs = (events: HistoryEvent[]) =>
  events.flatMap((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ? [e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId] : []));

function change(tag: string, queue: string, n: number, fuseDelaySeconds: number): TriggerInput {
  return {
    msgId: `2026-${tag}-${n}`,
    topic: 'org.fedoraproject.prod.buildsys.tag',
    timestamp: 1_764_316_800 + n,
    messageType: 'KojiTagChanged',
    item: tag,
    itemType: 'koji_tag',
    data: { message_type: 'KojiTagChanged', item: tag, item_type: 'koji_tag', tag },
    jobs: [{ task: 'rpmdeplint', arch: 'x86_64', source: { kind: 'git', repo: 'https://pagure.io/taskotron/task-rpmdeplint.git', ref: 'develop' } }],
    discover: [{ repo: `rpms/${tag}`, recursive: false, arches: ['x86_64'] }],
    jobQueue: queue,
    debounce: { tag, fuseDelaySeconds },
  };
}

async function withDebounceWorker<T>(run: (queue: string, fires: AsyncIterator<() => void>) => Promise<T>): Promise<T> {
  const queue = uniqueName('tag-handover');
  // Each fire's discoverTasks waits here until the test lets it go. Once the test is over (passed or
  // failed), every fire goes at once: a fire left waiting would hold the worker's shutdown, and with
  // it the file, until the runner's file timeout.
  const waiting: Array<() => void> = [];
  const notify: Array<() => void> = [];
  // Every fire not let go yet, whether or not the test has taken it.
  const holding = new Set<() => void>();
  let over = false;
  const fires: AsyncIterator<() => void> = {
    next: () => new Promise((resolve) => {
      const take = () => resolve({ value: waiting.shift()!, done: false });
      if (waiting.length > 0) take();
      else notify.push(take);
    }),
  };
  const connection = await NativeConnection.connect({ address: testAddress() });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: queue,
    ...standInWorkflowsOption(),
    ...MAIN_THREAD_WORKFLOWS,
    activities: {
      discoverTasks: (request: { repo: string }): Promise<DiscoverResult> =>
        new Promise((resolve) => {
          const go = () => {
            holding.delete(go);
            resolve({ repo: request.repo, formulas: [], note: 'stand-in: no tests in the package' });
          };
          if (over) return go();
          holding.add(go);
          waiting.push(go);
          notify.shift()?.();
        }),
    },
  });
  const running = worker.run();
  try {
    return await run(queue, fires);
  } finally {
    over = true;
    for (const go of [...holding]) go();
    worker.shutdown();
    await running;
    await connection.close();
  }
}

test('a tag changing during every fire continues-as-new after each: 10 fires, every run\'s history small, no change lost', { timeout: 120_000 }, async () => {
  const tag = `f40-updates-testing-pending-${crypto.randomUUID().slice(0, 6)}`;
  // Each fire costs about a second whatever the fuse delay: the server holds a run that continues-as-new
  // within a second of its start (history.continueAsNewMinInterval, 1 s). Ten hand-overs prove what 30
  // did: one window in one run would pass the 40-event bound below by the third fire, and every
  // hand-over takes the same path with the change arriving at the same point of the fire.
  const fires = 10;
  await withDebounceWorker(async (queue, fired) => {
    const first = await client.workflow.signalWithStart(TAG_DEBOUNCE_WORKFLOW, {
      workflowId: tagDebounceWorkflowId(tag),
      taskQueue: queue,
      args: [tag],
      signal: tagChangedSignal,
      signalArgs: [change(tag, queue, 0, 0.2)],
      typedSearchAttributes: [{ key: Item, value: tag }],
    });
    for (let n = 0; n < fires; n += 1) {
      const release = (await fired.next()).value;
      if (n + 1 < fires) {
        // Arrives while fire n runs, so at the hand-over; a retried forward of the message being
        // fired arrives too and must not fire it again in the next run.
        await first.signal(tagChangedSignal, change(tag, queue, n + 1, 0.2));
        await first.signal(tagChangedSignal, change(tag, queue, n, 0.2));
      }
      release();
    }
    const last: Debounced = await first.result();
    assert.deepEqual(last.coalesced, [`2026-${tag}-${fires - 1}`]);
    const runs = await runsOf(first.workflowId, first.signaledRunId);
    assert.equal(runs.length, fires, 'one run per fire');
    const sizes = runs.map((events) => events.length);
    // One window: start, the changes, one timer, discover, one child, the hand-over.
    assert.ok(Math.max(...sizes) <= 40, `every run's history stays small: ${sizes.join(', ')}`);
    console.log(`# ${fires} fires in ${runs.length} runs; events per run ${Math.min(...sizes)}..${Math.max(...sizes)}`);
    assert.ok(runs.slice(0, -1).every((events) => events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes), 'every run but the last handed over');
    assert.deepEqual(
      runs.map(startedJobs),
      Array.from({ length: fires }, (_, n) => [jobWorkflowId(`2026-${tag}-${n}`, 'rpmdeplint', 'x86_64')]),
      'every change fired exactly once, in order',
    );
    const described = await client.workflow.getHandle(first.workflowId).describe();
    assert.equal(described.typedSearchAttributes.get(Item), tag, 'the runs after the hand-over keep the tag in the UI');
  });
});

test('a tag that never goes quiet hands over mid-window once its history is long, then fires once from the newest change', { timeout: 60_000 }, async () => {
  const tag = `f41-updates-pending-${crypto.randomUUID().slice(0, 6)}`;
  const changes = 12;
  // Longer than any gap between two changes as the workflow sees them. The gap is widest at the
  // hand-over: a signal sent while the run continues-as-new reached the next run 1.9 s after the one
  // before it, with four test files at a time on 2 cores. With 1.5 s the window went quiet there and
  // fired early, and this test then waited for a second fire until its timeout.
  const fuseDelaySeconds = 5;
  await withDebounceWorker(async (queue, fired) => {
    // The run checks its length when a change wakes it: with a bound of 12, the first wake after the
    // first task hands over, however the server batches the changes into workflow tasks, and the
    // newest change's time crosses the hand-over before the fire.
    const carry: TagDebounceCarry = { coalesced: [], seen: [], maxHistoryEvents: 12 };
    const first = await client.workflow.signalWithStart(TAG_DEBOUNCE_WORKFLOW, {
      workflowId: tagDebounceWorkflowId(tag),
      taskQueue: queue,
      args: [tag, carry],
      signal: tagChangedSignal,
      signalArgs: [change(tag, queue, 0, fuseDelaySeconds)],
    });
    // Changes that reach the first task are taken in with the start, and no wake checks the length
    // for them: the later ones are sent once that task is done.
    await until('the debounce run\'s first workflow task', async () => {
      const { events } = await client.workflow.getHandle(first.workflowId, first.signaledRunId).fetchHistory();
      return (events ?? []).some((e) => e.workflowTaskCompletedEventAttributes);
    }, INGEST_WAIT_MS);
    // Each change once, out of order on purpose: the newest by the message's own clock (n = changes - 1)
    // must win. (A list that sent one change twice timed the fuse from the resend, which the window
    // rightly ignores: the test then saw an "early" fire when the server held that resend 1.4 s at a
    // hand-over. Resends have their own test above.)
    let lastSent = 0;
    for (const n of [...Array.from({ length: changes - 3 }, (_, i) => i + 1), changes - 1, changes - 2]) {
      // The change reaches the server between the call's start and its answer: time the fuse from
      // the start, the earliest it can have arrived.
      lastSent = Date.now();
      await client.workflow.getHandle(first.workflowId).signal(tagChangedSignal, change(tag, queue, n, fuseDelaySeconds));
    }
    (await fired.next()).value();
    // A second fire means the window went quiet between two changes: say so rather than time out.
    const firedAgain = fired.next().then(() => 'fired again' as const);
    const result = await Promise.race([first.result() as Promise<Debounced>, firedAgain]);
    if (result === 'fired again') assert.fail(`the window fired twice: some change came more than fuse_delay (${fuseDelaySeconds} s) after the one before it`);
    assert.ok(Date.now() - lastSent >= fuseDelaySeconds * 1000, 'the jobs wait for fuse_delay after the newest change');
    const runs = await runsOf(first.workflowId, first.signaledRunId);
    // The same on the server's clock, exactly: from the newest change's signal to the fire's activity.
    // A change the client had to send again may be in the history twice; the window counts its first.
    const arrived = new Map<string, number>();
    for (const e of runs.flat()) {
      const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      const msgId = payload && defaultPayloadConverter.fromPayload<TriggerInput>(payload).msgId;
      if (msgId && !arrived.has(msgId)) arrived.set(msgId, eventMs(e));
    }
    assert.equal(arrived.size, changes, 'every change reached the window');
    const newestChange = Math.max(...arrived.values());
    const fire = runs.at(-1)!.find((e) => e.activityTaskScheduledEventAttributes);
    assert.ok(fire, 'the last run fired');
    assert.ok(eventMs(fire) - newestChange >= fuseDelaySeconds * 1000, `the fire came ${eventMs(fire) - newestChange} ms after the newest change`);
    assert.deepEqual([...result.coalesced].sort(), Array.from({ length: changes }, (_, n) => `2026-${tag}-${n}`).sort());
    assert.ok(runs.length >= 2, `the window handed over (${runs.length} run(s))`);
    console.log(`# ${changes} changes, one fire, ${runs.length} runs of ${runs.map((r) => r.length).join(', ')} events`);
    assert.ok(Math.max(...runs.map((r) => r.length)) <= 40, runs.map((r) => r.length).join(', '));
    assert.deepEqual(runs.flatMap(startedJobs), [jobWorkflowId(`2026-${tag}-${changes - 1}`, 'rpmdeplint', 'x86_64')], 'one fire, from the newest change');
  });
});
