// An AMQP body over max_message_bytes is refused as `oversize` from its length, before any parsing
// (ingest then rejects it without requeue); at the limit it is decoded as usual. No broker needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumeMessage } from 'amqplib';
import { decodeDelivery } from '../../src/bus/amqp.js';

function delivery(content: Buffer): ConsumeMessage {
  return {
    content,
    fields: { deliveryTag: 1, redelivered: false, exchange: 'amq.topic', routingKey: 'org.fedoraproject.prod.buildsys.tag', consumerTag: 'c' },
    properties: { contentType: 'application/json', contentEncoding: 'utf-8', headers: { 'sent-at': '2025-11-17T14:42:02+00:00' }, deliveryMode: 2, priority: undefined, correlationId: undefined, replyTo: undefined, expiration: undefined, messageId: 'id-1', timestamp: undefined, type: undefined, userId: undefined, appId: undefined, clusterId: undefined },
  };
}

test('decodeDelivery: a body one byte over max_message_bytes is oversize, never parsed; at the limit it decodes', () => {
  const limit = 64;
  const body = (n: number) => Buffer.from(`{"tag": "${'x'.repeat(n - 11)}"}`);
  assert.equal(body(limit).length, limit);
  const over = decodeDelivery(delivery(Buffer.concat([body(limit), Buffer.from(' ')])), limit);
  assert.deepEqual(over, { ok: false, reason: 'oversize', detail: '65 bytes exceeds the limit of 64' });
  // Not JSON, and still oversize: the size is judged first.
  assert.equal((decodeDelivery(delivery(Buffer.alloc(limit + 1, 0xff)), limit) as { reason: string }).reason, 'oversize');
  const at = decodeDelivery(delivery(body(limit)), limit);
  assert.equal(at.ok, true);
});
