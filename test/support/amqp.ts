// The harness's RabbitMQ node (scripts/test.ts starts one when a selected test file names
// TASKOTRON_TEST_AMQP_URL), and queue names no other test file uses.
import { AmqpPublisher, openAmqp } from '../../src/bus/amqp.js';
import { uniqueName } from './temporal.js';

export function testAmqpUrl(): string {
  const url = process.env.TASKOTRON_TEST_AMQP_URL;
  // Fail, never skip: a skipped broker test would read as a pass.
  if (!url) throw new Error('TASKOTRON_TEST_AMQP_URL is not set: run AMQP tests through `npm test`, which starts a RabbitMQ node');
  return url;
}

/** Consumers of a queue, 0 while it does not exist yet. */
export async function consumers(queue: string): Promise<number> {
  return (await queueDepth(queue).catch(() => ({ consumers: 0 }))).consumers;
}

/** Ready (not delivered, not unacked) messages and consumers of a queue, from the broker itself. */
export async function queueDepth(queue: string): Promise<{ ready: number; consumers: number }> {
  const model = await openAmqp({ url: testAmqpUrl() });
  // A missing queue closes the channel with an error event besides rejecting the call.
  model.on('error', () => undefined);
  try {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    const reply = await channel.checkQueue(queue);
    return { ready: reply.messageCount, consumers: reply.consumerCount };
  } finally {
    await model.close();
  }
}

/**
 * A topic exchange of the calling file's own, and a publisher on it: other test files publish
 * production topics on amq.topic at the same time, and a queue bound there would receive them too.
 */
export async function privateExchange(prefix: string): Promise<{ exchange: string; publisher: AmqpPublisher }> {
  const exchange = uniqueName(prefix);
  const model = await openAmqp({ url: testAmqpUrl() });
  try {
    await (await model.createChannel()).assertExchange(exchange, 'topic', { durable: true });
  } finally {
    await model.close();
  }
  return { exchange, publisher: await AmqpPublisher.open({ url: testAmqpUrl(), exchange }) };
}
