// Optional bus output: after a job's results are reported, one `taskotron.result.new`-shaped message
// per result, as the original's ResultsDB published for FMN and other listeners (corpus sample
// taskotron.result.new__TestTaskotronResultNew.json): a fedmsg envelope on ZeroMQ, and/or on AMQP what
// fedora-messaging publishes (the envelope's `msg` as body, the topic as routing key, the message id
// as `message_id`). Best effort, as fedmsg itself: the results are already stored when this runs, so
// a publishing problem is logged, never fails the job. The transports live in src/bus/.
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
// Types only: the transports (ZeroMQ's native addon, amqplib) are loaded on first publish, so a
// runner or `runtask` with no result bus configured never loads them.
import type { AmqpPublisher } from '../bus/amqp.js';
import type { FedmsgPublisher } from '../bus/fedmsg.js';
import type { ReportedResult, ReportJob } from './reporter.js';

export interface ResultBusConfig {
  /** Endpoint to bind (subscribers connect here), e.g. tcp://127.0.0.1:9942 ... */
  bind?: string;
  /** ... or a subscriber's endpoint to connect to (an active publisher). */
  connect?: string;
  /** Default org.fedoraproject.dev.taskotron.result.new. */
  topic?: string;
  /** Also (or only) publish through a fedora-messaging broker (`results_bus.amqp`). */
  amqp?: { url: string; exchange?: string };
}

/** The fedora-messaging header naming the message's schema; taskotron never had a schema package. */
export const RESULT_SCHEMA = 'taskotron.result.new';

export const DEFAULT_RESULT_TOPIC = 'org.fedoraproject.dev.taskotron.result.new';

export interface ResultNewEnvelope {
  i: number;
  msg: {
    result: { id: string | null; job_url: string | null; log_url: string | null; outcome: string; submit_time: string };
    task: { item: string; name: string; type: string };
  };
  msg_id: string;
  timestamp: number;
  topic: string;
  username: string;
}

/** fedmsg's msg_id shape (`<year>-<uuid>`), derived from the job and result so a re-sent result keeps its id. */
function messageId(job: ReportJob, index: number, result: ReportedResult, now: Date): string {
  const hex = createHash('sha256').update(`${job.uuid}/${index}/${result.testcase}/${result.item}`).digest('hex');
  return `${now.getUTCFullYear()}-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** `2015-01-30 13:11:35.366862`, the submit_time format of the original messages (UTC). */
function submitTime(now: Date): string {
  return `${now.toISOString().replace('T', ' ').replace('Z', '')}000`;
}

export function resultNewMessages(results: readonly ReportedResult[], job: ReportJob, topic = DEFAULT_RESULT_TOPIC, now = new Date(), firstSequence = 1): ResultNewEnvelope[] {
  const username = userInfo().username;
  return results.map((result, index) => ({
    i: firstSequence + index,
    msg: {
      result: {
        id: result.id !== undefined ? String(result.id) : null,
        job_url: job.jobUrl ?? null,
        log_url: result.refUrl ?? null,
        outcome: result.outcome,
        submit_time: submitTime(now),
      },
      task: { item: result.item, name: result.testcase, type: result.type },
    },
    msg_id: messageId(job, index, result, now),
    timestamp: now.getTime() / 1000,
    topic,
    username,
  }));
}

/** One publisher per endpoint per worker process, opened on first use. */
const publishers = new Map<string, Promise<FedmsgPublisher>>();
const amqpPublishers = new Map<string, Promise<AmqpPublisher>>();
let sequence = 0;

async function publisherFor(config: ResultBusConfig): Promise<FedmsgPublisher> {
  const key = config.bind ? `bind:${config.bind}` : `connect:${config.connect}`;
  let publisher = publishers.get(key);
  if (!publisher) {
    publisher = (async () => {
      const { FedmsgPublisher } = await import('../bus/fedmsg.js');
      const opened = await FedmsgPublisher.open(config.bind ? { bind: config.bind } : { connect: config.connect! });
      // fedmsg sleeps post_init_sleep after opening so the first messages are not dropped; we wait
      // at most that long, and less when a subscriber is already there.
      await opened.waitForSubscriber(500);
      return opened;
    })();
    // A failed open (the address taken, a bad endpoint) is not cached: the next job tries again,
    // rather than every job of this process failing to publish until a restart.
    publisher.catch(() => publishers.delete(key));
    publishers.set(key, publisher);
  }
  return publisher;
}

function amqpPublisherFor(config: { url: string; exchange?: string }): Promise<AmqpPublisher> {
  const key = `${config.url} ${config.exchange ?? ''}`;
  let publisher = amqpPublishers.get(key);
  if (!publisher) {
    publisher = import('../bus/amqp.js').then(({ AmqpPublisher }) => AmqpPublisher.open({ url: config.url, ...(config.exchange ? { exchange: config.exchange } : {}) }));
    // A failed open is not cached: the next job tries again.
    publisher.catch(() => amqpPublishers.delete(key));
    amqpPublishers.set(key, publisher);
  }
  return publisher;
}

/** Publishes the results; returns how many messages were sent (per transport, the larger count). */
export async function publishResults(config: ResultBusConfig, results: readonly ReportedResult[], job: ReportJob): Promise<number> {
  if (results.length === 0) return 0;
  const messages = resultNewMessages(results, job, config.topic, new Date(), sequence + 1);
  sequence += messages.length;
  if (config.bind || config.connect) {
    const publisher = await publisherFor(config);
    for (const message of messages) await publisher.send(message.topic, JSON.stringify(message));
  }
  if (config.amqp) {
    const publisher = await amqpPublisherFor(config.amqp);
    for (const message of messages) {
      // fedora-messaging ids are bare UUIDs; the year prefix is fedmsg's.
      await publisher.publish({ topic: message.topic, body: message.msg, schema: RESULT_SCHEMA, id: message.msg_id.replace(/^\d{4}-/, '') });
    }
  }
  return messages.length;
}

/** For tests and shutdown: closes every publisher this process opened. */
export async function closeResultBus(): Promise<void> {
  const open = [...publishers.values()];
  const amqp = [...amqpPublishers.values()];
  publishers.clear();
  amqpPublishers.clear();
  // One whose open failed has nothing to close (the AMQP ones likewise).
  await Promise.all(open.map(async (p) => (await p.catch(() => undefined))?.close()));
  await Promise.all(amqp.map(async (p) => (await p.catch(() => undefined))?.close()));
}
