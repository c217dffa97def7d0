// "kill -9 ingest during a burst of AMQP messages → after a restart every matched message has exactly
// one trigger workflow (a visibility query), none missing", parametrised by size: the suite runs a
// small burst (test/bus/amqp-crash.test.ts), `npm run test:scenarios` the 10,000
// (test/bus/amqp-crash.scenario.ts). `taskotron ingest` consumes the harness's RabbitMQ
// (TASKOTRON_TEST_AMQP_URL) and is killed with SIGKILL once it has started `killAfter` triggers, with
// more delivered and in flight; what was not acked comes back from the broker to the second ingest,
// and what had already started is refused by Temporal as a duplicate. The trigger queue has no
// worker: only the starts are under test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { fedoraMessagingJson, openAmqp, sentAtHeader } from '../../src/bus/amqp.js';
import { projectRoot } from '../../src/devserver/project.js';
import { queueDepth, testAmqpUrl } from '../support/amqp.js';
import { uniqueName } from '../support/temporal.js';
import { corpusMessage } from '../ingest/corpus.js';
import { lastCounters, scratchDir } from '../ingest/support.js';
import { until } from '../support/until.js';
import { cliArgs } from '../support/cli.js';

export interface CrashRun {
  client: Client;
  /** The Temporal server both ingest processes use (`client`'s). */
  temporalAddress: string;
  messages: number;
  /** SIGKILL once the first ingest has logged this many starts. */
  killAfter: number;
  prefetch: number;
}

const TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';

/** Declares the queue ingest will consume and fills it, with publisher confirms, as fast as the broker takes it. */
async function fill(exchange: string, queue: string, n: number): Promise<string[]> {
  const model = await openAmqp({ url: testAmqpUrl() });
  try {
    const channel = await model.createConfirmChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
    await channel.bindQueue(queue, exchange, 'org.fedoraproject.prod.buildsys.#');
    const body = Buffer.from(fedoraMessagingJson(corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg));
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      const headers = { fedora_messaging_schema: 'koji_fedoramessaging.build.BuildStateChangeV1', fedora_messaging_severity: 20, 'sent-at': sentAtHeader(new Date()) };
      if (!channel.publish(exchange, TOPIC, body, { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, messageId: id, headers })) {
        await new Promise((resolve) => channel.once('drain', resolve));
      }
    }
    await channel.waitForConfirms();
    return ids;
  } finally {
    await model.close();
  }
}

function startIngest(run: CrashRun, dir: string, queue: string, triggerQueue: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [...cliArgs(), 'ingest', '--config', join(dir, 'trigger.cfg'), '--rules', join(dir, 'trigger_rules.yml'), '--source', 'amqp', '--amqp-queue', queue,
      '--amqp-binding', 'org.fedoraproject.prod.buildsys.#', '--amqp-prefetch', String(run.prefetch), '--trigger-queue', triggerQueue, '--ingest-queue', triggerQueue, '--job-queue', triggerQueue,
      '--state-dir', join(dir, 'state'), '--stats-interval', '1'],
    { cwd: projectRoot(), env: { ...process.env, TEMPORAL_ADDRESS: run.temporalAddress }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * Waits for `done` as long as `progress` keeps growing: fails after 120 s without progress, or after
 * 45 minutes in all. A slow machine is not a failure; a stuck ingest is.
 */
async function whileProgressing(done: () => Promise<boolean>, progress: () => number, what: () => string): Promise<void> {
  const deadline = performance.now() + 45 * 60_000;
  let last = progress();
  let lastMoved = performance.now();
  while (!(await done())) {
    const now = progress();
    if (now !== last) [last, lastMoved] = [now, performance.now()];
    if (performance.now() - lastMoved > 120_000 || performance.now() > deadline) throw new Error(`no progress for 120 s (at ${last}) waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Why the count fell short: which message ids have no workflow in the visibility store, whether
 * Temporal knows them by workflow ID all the same (visibility lag) or not at all (a lost start), what
 * each ingest counted and what refused.jsonl holds.
 */
async function diagnose(client: Client, ids: string[], query: string, dir: string, outputs: string[]): Promise<string> {
  const listed = new Set<string>();
  for await (const w of client.workflow.list({ query })) listed.add(w.workflowId);
  const missing = ids.filter((id) => !listed.has(`msg-${id}`));
  const described: string[] = [];
  for (const id of missing.slice(0, 20)) {
    try {
      const d = await client.workflow.getHandle(`msg-${id}`).describe();
      described.push(`msg-${id}: ${d.status.name} since ${d.startTime.toISOString()} (exists; not yet in visibility)`);
    } catch (error) {
      described.push(`msg-${id}: ${(error as Error).name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  const refused = join(dir, 'state', 'refused.jsonl');
  return [
    `${listed.size} listed, ${missing.length} missing: ${missing.slice(0, 20).join(', ')}`,
    ...described,
    ...outputs.map((o, i) => `ingest ${i + 1} counters: ${JSON.stringify(lastCounters(o))}`),
    existsSync(refused) ? `refused.jsonl: ${readFileSync(refused, 'utf8').split('\n').length - 1} line(s)` : 'no refused.jsonl',
  ].join('\n');
}

export async function killDuringBurst(run: CrashRun): Promise<void> {
  const { client, messages, killAfter } = run;
    const dir = scratchDir('amqp-crash');
    writeFileSync(join(dir, 'trigger_rules.yml'), '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n');
    const queue = uniqueName('amqp-crash');
    const triggerQueue = uniqueName('amqp-crash-triggers');
    const exchange = uniqueName('amqp-crash-exchange');
    // An exchange of its own: a queue bound on amq.topic would also get what other test files publish.
    writeFileSync(join(dir, 'trigger.cfg'), `[trigger]\nvalid_arches = x86_64\n\n[amqp]\nurl = ${testAmqpUrl()}\nexchange = ${exchange}\n`);
    const ids = await fill(exchange, queue, messages);
    const query = `WorkflowType = "triggerJobs" AND TaskQueue = "${triggerQueue}"`;

    const first = startIngest(run, dir, queue, triggerQueue);
    try {
      // Killed once it has started a good part of the burst, with more delivered and in flight.
      await until(() => `the first ingest to start ${killAfter}`, () => {
        if (first.child.exitCode !== null) throw new Error(`the first ingest exited (${first.child.exitCode}):\n${first.output().slice(-2000)}`);
        return (lastCounters(first.output()).started ?? 0) >= killAfter;
      }, 600_000);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
      writeFileSync(join(dir, 'ingest-1.log'), first.output());
    }
    const killedAt = lastCounters(first.output()).started ?? 0;
    assert.ok(killedAt < messages, `killed mid-burst (${killedAt} started)`);

    const second = startIngest(run, dir, queue, triggerQueue);
    try {
      // Starts run at whatever Temporal manages on this machine (~20/s on the shared 2-core box, several
      // times that on a quiet one): wait while the second ingest makes progress, fail when it stalls.
      await whileProgressing(
        async () => (await queueDepth(queue)).ready === 0 && lastCounters(second.output())['amqp.unacked'] === 0 && (lastCounters(second.output()).pending ?? 1) === 0,
        () => { const c = lastCounters(second.output()); return (c.started ?? 0) + (c['already-started'] ?? 0); },
        () => `the second ingest to drain the queue:\n${second.output().slice(-2000)}`,
      );
      try {
        await until(() => `the visibility count to reach ${messages}`, async () => (await client.workflow.count(query)).count === messages, 120_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${await diagnose(client, ids, query, dir, [first.output(), second.output()])}`);
      }
      const seen = new Set<string>();
      for await (const w of client.workflow.list({ query })) {
        assert.ok(!seen.has(w.workflowId), `one trigger per message: ${w.workflowId} twice`);
        seen.add(w.workflowId);
      }
      assert.equal(seen.size, messages);
      for (const id of ids) assert.ok(seen.has(`msg-${id}`), `msg-${id} missing`);
    } finally {
      second.child.kill('SIGTERM');
      const code = await second.exited;
      writeFileSync(join(dir, 'ingest-2.log'), second.output());
      assert.equal(code, 0, second.output().slice(-2000));
    }
}
