// AMQP ingest throughput against its floor, same broker, same run: a private RabbitMQ node and a
// Temporal dev server (SQLite file), N matched fedora-messaging messages queued, then
//  1. baseline: a plain amqplib consumer (same prefetch) that parses each body and acks it;
//  2. ingest: IngestService with the AMQP source, consume → decide → trigger workflow started → ack;
//  3. for scale, a plain `client.workflow.start` loop of the same starts, 16 in flight (ingest's own
//     concurrency): what Temporal alone allows on this machine.
// Rounds interleave the two so machine load hits both alike. Reports messages/s and the ratio.
// `npx tsx bench/amqp-ingest.bench.ts [messages] [rounds] [prefetch]` — bounded by its arguments.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, Connection } from '@temporalio/client';
import { fedoraMessagingJson, openAmqp, sentAtHeader } from '../src/bus/amqp.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { startRabbitMq } from '../src/devserver/rabbitmq.js';
import { startDevServer } from '../src/devserver/server.js';
import { copyDefaults, type IngestConfig } from '../src/ingest/config.js';
import { IngestService, triggerInput } from '../src/ingest/service.js';
import { triggerStartOptions } from '../src/ingest/starter.js';
import { TRIGGER_WORKFLOW } from '../src/workflows/trigger.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { median, reportFigures } from './figures.js';

const MESSAGES = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const PREFETCH = Number(process.argv[4] ?? 100);
const TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';
const BODY = Buffer.from(
  fedoraMessagingJson({ attribute: 'state', build_id: 1, instance: 'primary', name: 'bash', new: 1, old: 0, owner: 'x', release: '1.fc40', task_id: 2, version: '5.2.26' }),
);

// Every timed part starts from a collected heap: a stopped ingest service leaves megabytes of old
// generation behind, and its mark-compact otherwise lands in whichever part comes next.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

installRuntimeLogger('ERROR');
const scratch = mkdtempSync(join(tmpdir(), 'amqp-bench-'));
const rules = join(scratch, 'trigger_rules.yml');
writeFileSync(rules, '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [nvr-sanity], arches: [x86_64]}]\n');
const [rabbit, server] = await Promise.all([startRabbitMq({ dataDir: join(scratch, 'rabbitmq') }), startDevServer({ binary: ensureTemporalCli(), dbFile: join(scratch, 'temporal.db') })]);

/** One exchange per round, bound to both queues: each gets the same N messages. */
async function fill(exchange: string, queues: string[]): Promise<void> {
  const model = await openAmqp({ url: rabbit.url });
  const channel = await model.createConfirmChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  for (const queue of queues) {
    await channel.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
    await channel.bindQueue(queue, exchange, TOPIC);
  }
  const headers = { fedora_messaging_schema: 'koji_fedoramessaging.build.BuildStateChangeV1', fedora_messaging_severity: 20 };
  for (let i = 0; i < MESSAGES; i++) {
    const properties = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, messageId: crypto.randomUUID(), headers: { ...headers, 'sent-at': sentAtHeader(new Date()) } };
    if (!channel.publish(exchange, TOPIC, BODY, properties)) await new Promise((r) => channel.once('drain', r));
  }
  await channel.waitForConfirms();
  await model.close();
}

/** The floor: consume, parse, ack. */
async function baseline(queue: string): Promise<number> {
  const model = await openAmqp({ url: rabbit.url });
  const channel = await model.createChannel();
  await channel.prefetch(PREFETCH);
  collectGarbage();
  const started = performance.now();
  let n = 0;
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (m) => {
      if (!m) return;
      JSON.parse(m.content.toString('utf8'));
      channel.ack(m);
      if (++n === MESSAGES) resolve();
    });
  });
  const ms = performance.now() - started;
  await model.close();
  return (MESSAGES / ms) * 1000;
}

async function ingest(exchange: string, queue: string): Promise<number> {
  const config: IngestConfig = {
    ...copyDefaults(),
    validArches: ['x86_64'],
    rulesFile: rules,
    sources: ['amqp'],
    // A queue no worker polls: the starts are what is measured, not the trigger workflows' work.
    triggerQueue: `${queue}-triggers`,
    ingestQueue: `${queue}-triggers`,
    jobQueue: `${queue}-triggers`,
  };
  config.amqp = { ...config.amqp, url: rabbit.url, exchange, queue, bindings: [TOPIC], prefetch: PREFETCH };
  const service = await IngestService.start({ config, temporal: { address: server.address, namespace: server.namespace }, stateDir: join(scratch, queue), log: () => {}, worker: false });
  collectGarbage();
  const started = performance.now();
  // Woken by the starter, not by polling `service.stats()` every 5 ms (it sorts a snapshot of every
  // counter: CPU in the measured window that the plain loop never pays).
  while (service.intake.counters.get('started') < MESSAGES) {
    if (service.starter.pending > 0) await service.starter.idle();
    else await new Promise((r) => setTimeout(r, 5));
  }
  while (service.transportCounters()['amqp.unacked'] !== 0) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - started;
  await service.stop();
  return (MESSAGES / ms) * 1000;
}

const client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: server.namespace });

async function plainStarts(round: number): Promise<number> {
  const config = { ...copyDefaults(), validArches: ['x86_64'], jobQueue: `plain-${round}`, ingestQueue: `plain-${round}` };
  const inputs = Array.from({ length: MESSAGES }, () =>
    triggerInput({ msgId: crypto.randomUUID(), topic: TOPIC, timestamp: Math.floor(Date.now() / 1000), data: { message_type: 'KojiBuildPackageCompleted', item: 'bash-5.2.26-1.fc40', item_type: 'koji_build', name: 'bash' }, tasks: [{ task: 'nvr-sanity', arch: 'x86_64', rule: 0 }], discover: [] }, config),
  );
  let next = 0;
  collectGarbage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < inputs.length) await client.workflow.start(TRIGGER_WORKFLOW, triggerStartOptions(inputs[next++]!, `plain-${round}-triggers`));
    }),
  );
  return (MESSAGES / (performance.now() - started)) * 1000;
}

const base: number[] = [];
const plain: number[] = [];
const full: number[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const exchange = `bench-${round}`;
    await fill(exchange, [`bench-base-${round}`, `bench-ingest-${round}`]);
    base.push(await baseline(`bench-base-${round}`));
    full.push(await ingest(exchange, `bench-ingest-${round}`));
    plain.push(await plainStarts(round));
    console.log(`round ${round}: consume+ack ${base.at(-1)!.toFixed(0)} msg/s, consume→trigger started→ack ${full.at(-1)!.toFixed(0)} msg/s, plain start loop ${plain.at(-1)!.toFixed(0)} starts/s`);
  }
  console.log(`${MESSAGES} messages × ${ROUNDS} rounds, prefetch ${PREFETCH}`);
  console.log(`  plain consume+ack           median ${median(base).toFixed(0)} msg/s`);
  console.log(`  ingest (start, then ack)    median ${median(full).toFixed(0)} msg/s`);
  console.log(`  plain start loop (16)       median ${median(plain).toFixed(0)} starts/s`);
  console.log(`  ratio ingest/consume+ack    ${(median(full) / median(base)).toFixed(3)}`);
  console.log(`  ratio ingest/start loop     ${(median(full) / median(plain)).toFixed(3)}`);
  // Against consume+ack the ratio says what a durable start per message costs (it is Temporal's
  // start rate, not the broker's): measured, no goal. The goal is against the start loop: acking only
  // after a durable start may cost ingest little beyond the starts themselves.
  const startRatio = median(full) / median(plain);
  reportFigures('amqp-ingest', [
    { figure: `AMQP consume → trigger started → ack vs plain consume+ack, prefetch ${PREFETCH}`, goal: 'info', measured: median(full), unit: 'msg/s', baseline: median(base), ratio: median(full) / median(base), met: true },
    { figure: 'AMQP consume → trigger started → ack vs a plain start loop, 16 in flight', goal: 'ratio >= 0.9', measured: median(full), unit: 'msg/s', baseline: median(plain), ratio: startRatio, met: startRatio >= 0.9 },
  ]);
} finally {
  await client.connection.close();
  await Promise.all([rabbit.stop(), server.stop()]);
}
