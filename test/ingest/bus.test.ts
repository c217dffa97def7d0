// The bus client on real ZeroMQ sockets over loopback: two-frame decoding, envelope checks, and every
// kind of bad input counted per reason without stopping the subscriber.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { projectRoot } from '../../src/devserver/project.js';
import { FedmsgPublisher, FedmsgSubscriber } from '../../src/bus/fedmsg.js';
import { addressAllowed, addressAllowList } from '../../src/bus/address-list.js';
import { decodeFrames, envelopesFromJson } from '../../src/bus/envelope.js';
import { Intake, type Verdict } from '../../src/ingest/intake.js';
import { handlesTopic } from '../../src/ingest/job-triggers.js';
import { loadRules } from '../../src/ingest/rules.js';
import { pythonJsonDumps } from '../../src/bus/canonical-json.js';
import { silentLogger } from '../../src/ingest/stats.js';
import { corpusEnvelope, corpusMessage } from './corpus.js';
import { until } from '../support/until.js';

const rules = loadRules('- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n', 'inline.yml').value!;

function intake(maxMessageBytes?: number) {
  return new Intake({ rules: () => rules, validArches: ['x86_64'], log: silentLogger, ...(maxMessageBytes ? { maxMessageBytes } : {}) });
}

const frames = (topic: string, body: string) => [Buffer.from(topic), Buffer.from(body)];

test('decodeFrames rejects each kind of malformed message with its own reason', () => {
  const good = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json');
  const body = JSON.stringify(good);
  const cases: Array<[string, Buffer[], string]> = [
    ['one frame', [Buffer.from(body)], 'frames'],
    ['three frames', [...frames(good.topic, body), Buffer.from('x')], 'frames'],
    ['not JSON', frames(good.topic, '{"topic": '), 'not-json'],
    ['a JSON array', frames(good.topic, '[1,2]'), 'bad-shape'],
    ['no msg_id', frames(good.topic, JSON.stringify({ ...good, msg_id: undefined })), 'bad-shape'],
    ['string timestamp', frames(good.topic, JSON.stringify({ ...good, timestamp: 'yesterday' })), 'bad-shape'],
    ['msg not an object', frames(good.topic, JSON.stringify({ ...good, msg: 'hi' })), 'bad-shape'],
    ['frame topic differs', frames('org.fedoraproject.prod.buildsys.tag', body), 'topic-mismatch'],
    ['a 256-character msg_id', frames(good.topic, JSON.stringify({ ...good, msg_id: 'x'.repeat(256) })), 'bad-shape'],
    ['a 256-character topic', frames(`${good.topic}.${'x'.repeat(255 - good.topic.length)}`, JSON.stringify({ ...good, topic: `${good.topic}.${'x'.repeat(255 - good.topic.length)}` })), 'bad-shape'],
  ];
  for (const [name, input, reason] of cases) {
    const result = decodeFrames(input);
    assert.equal(result.ok, false, name);
    assert.equal(!result.ok && result.reason, reason, name);
  }
  assert.equal(decodeFrames(frames(good.topic, body), 100).ok, false);
  assert.deepEqual(decodeFrames(frames(good.topic, body)), { ok: true, value: good });
});

test('a topic no JobTrigger handles is dropped on its topic frame, before its body is parsed', () => {
  const unhandled = 'org.fedoraproject.prod.fas.user.create';
  assert.equal(handlesTopic(unhandled), false);
  // Its body is never read: not JSON, or JSON naming another topic, it is unknown-topic all the same.
  for (const body of ['{"topic": ', JSON.stringify(corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json'))]) {
    const result = decodeFrames(frames(unhandled, body), undefined, handlesTopic);
    assert.equal(!result.ok && result.reason, 'unknown-topic');
  }
  // The cheaper checks still come first, and a handled topic is parsed as before.
  const oneFrame = decodeFrames([Buffer.from(unhandled)], undefined, handlesTopic);
  assert.equal(!oneFrame.ok && oneFrame.reason, 'frames');
  const oversize = decodeFrames(frames(unhandled, 'x'.repeat(200)), 100, handlesTopic);
  assert.equal(!oversize.ok && oversize.reason, 'oversize');
  const handled = decodeFrames(frames('org.fedoraproject.prod.buildsys.build.state.change', '{"topic": '), undefined, handlesTopic);
  assert.equal(!handled.ok && handled.reason, 'not-json');
  // Intake's own entry point for frames applies the same check (the bench and ingest's flood oracle use it).
  const ingest = intake();
  const verdict = ingest.fromFrames(frames(unhandled, '{"topic": '));
  assert.equal(verdict.kind === 'rejected' && verdict.reason, 'unknown-topic');
  assert.deepEqual(ingest.counters.snapshot(), { received: 1, 'rejected.unknown-topic': 1 });
});

test('a field rules would start a job with is refused past 1,024 characters, so no large value reaches workflow history', () => {
  const good = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json');
  const withName = (name: string, id: string) => ({ ...good, msg_id: id, msg: { ...good.msg, name } });
  const ingest = intake();
  assert.equal(ingest.fromEnvelope(withName('p'.repeat(1000), 'fits')).kind, 'matched', 'a long but plausible name still starts its jobs');
  const verdict = ingest.fromEnvelope(withName('p'.repeat(1025), 'too-long'));
  assert.deepEqual(verdict, { kind: 'rejected', reason: 'field-too-long', detail: 'too-long: item is longer than 1024 characters' });
  assert.equal(ingest.counters.snapshot()['rejected.field-too-long'], 1);
});

test('a datagrepper record is normalised to the envelope fedmsg sent', () => {
  const [envelope] = envelopesFromJson(corpusMessage('buildsys.build.state.change__signed_datagrepper_04.json')) as [Record<string, unknown>];
  assert.equal(envelope.source_name, undefined);
  assert.equal(envelope.source_version, undefined);
  assert.equal('headers' in envelope, false);
  assert.equal(envelope.timestamp, 1504643073);
  assert.equal(envelope.msg_id, '2017-58a1a802-7f61-4fd1-945d-d8c48c393770');
});

async function collect(publish: (p: FedmsgPublisher) => Promise<void>, mode: 'sub-binds' | 'pub-binds', maxMessageBytes?: number) {
  const sub = await FedmsgSubscriber.open(mode === 'sub-binds' ? { bind: ['tcp://127.0.0.1:0'], topics: ['org.fedoraproject.', 'junk'] } : { connect: [] });
  let pub: FedmsgPublisher;
  let consumer: FedmsgSubscriber = sub;
  if (mode === 'sub-binds') {
    pub = await FedmsgPublisher.open({ connect: sub.boundEndpoints[0]! });
  } else {
    sub.close();
    pub = await FedmsgPublisher.open({ bind: 'tcp://127.0.0.1:0' });
    consumer = await FedmsgSubscriber.open({ connect: [pub.endpoint], topics: ['org.fedoraproject.', 'junk'] });
  }
  const ingest = intake(maxMessageBytes);
  const verdicts: Verdict[] = [];
  const running = consumer.run((f) => verdicts.push(ingest.fromFrames(f)));
  assert.ok(await pub.waitForSubscriber(5000), 'the subscriber subscribed');
  await publish(pub);
  const deadline = performance.now() + 5000;
  while (verdicts.at(-1)?.kind !== 'matched' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  consumer.close();
  await running;
  await pub.close();
  return { verdicts, counters: ingest.counters.snapshot() };
}

test('real sockets: bad input is counted per reason and the good message after it still matches', async () => {
  const good = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', '2026-good-1');
  const { verdicts, counters } = await collect(async (pub) => {
    await pub.send('org.fedoraproject.prod.buildsys.build.state.change', 'not json at all');
    await pub.send('org.fedoraproject.prod.buildsys.build.state.change', JSON.stringify({ topic: 'org.fedoraproject.prod.buildsys.build.state.change' }));
    await pub.send('org.fedoraproject.prod.buildsys.tag', pythonJsonDumps(good));
    await pub.send('org.fedoraproject.prod.buildsys.build.state.change', `{"pad":"${'x'.repeat(5000)}"}`);
    await pub.send('org.fedoraproject.prod.wiki.article.edit', pythonJsonDumps({ ...good, topic: 'org.fedoraproject.prod.wiki.article.edit', msg_id: 'w1' }));
    await pub.send('junk', pythonJsonDumps({ ...good, topic: 'junk', msg_id: 'j1' }));
    await pub.send(good.topic, pythonJsonDumps(good));
  }, 'sub-binds', 4096);
  assert.deepEqual(counters, {
    matched: 1,
    received: 7,
    'rejected.bad-shape': 1,
    'rejected.not-json': 1,
    'rejected.oversize': 1,
    'rejected.topic-mismatch': 1,
    'rejected.unknown-topic': 2,
  });
  const last = verdicts.at(-1);
  assert.equal(last?.kind, 'matched');
  assert.deepEqual(last?.kind === 'matched' && last.request.tasks, [{ task: 'rpmlint', arch: 'x86_64', rule: 0 }]);
});

test('real sockets: the subscriber connects to a bound publisher (the usual fedmsg topology) and drops a redelivery', async () => {
  const good = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', '2026-good-2');
  const { counters } = await collect(async (pub) => {
    await pub.send(good.topic, pythonJsonDumps(good));
    await pub.send(good.topic, pythonJsonDumps(good));
    await pub.send(good.topic, pythonJsonDumps({ ...good, msg_id: '2026-good-3' }));
  }, 'pub-binds');
  assert.equal(counters.duplicate, 1);
  assert.equal(counters.matched, 2);
});

test('real sockets: a frame over maxFrameBytes is refused by ZeroMQ, which drops that connection; a connecting subscriber is dialled again and what follows arrives', async () => {
  const pub = await FedmsgPublisher.open({ bind: 'tcp://127.0.0.1:0' });
  const sub = await FedmsgSubscriber.open({ connect: [pub.endpoint], maxFrameBytes: 4096, redialDelayMs: 200 });
  const received: string[] = [];
  const running = sub.run((frames) => received.push(frames.map((f) => f.toString().slice(0, 20)).join('|')));
  try {
    assert.ok(await pub.waitForSubscriber(5000));
    await pub.send('t', 'before');
    await until('the first message', () => received.length === 1, 5000);
    await pub.send('t', 'x'.repeat(5000));
    // libzmq alone would never dial this endpoint again (protocol error on a connecting session).
    await until('the drop and the new subscription', () => sub.counters()['fedmsg.protocol-drops'] === 1 && pub.subscriptions === 2, 5000);
    await pub.send('t', 'after');
    await until('the message after the drop', () => received.length === 2, 5000);
    assert.deepEqual(received, ['t|before', 't|after']);
    assert.deepEqual(sub.counters(), { 'fedmsg.connections': 2, 'fedmsg.disconnects': 1, 'fedmsg.handshake-failures': 0, 'fedmsg.protocol-drops': 1, 'fedmsg.refused-peers': 0 });
  } finally {
    sub.close();
    await running;
    await pub.close();
  }
});

test('real sockets: a publisher that goes away and comes back is re-dialled by libzmq itself (a disconnect, no protocol drop)', async () => {
  let pub = await FedmsgPublisher.open({ bind: 'tcp://127.0.0.1:0' });
  const endpoint = pub.endpoint;
  const sub = await FedmsgSubscriber.open({ connect: [endpoint], maxFrameBytes: 4096, redialDelayMs: 30_000 });
  const received: string[] = [];
  const running = sub.run((frames) => received.push(frames[1]!.toString()));
  try {
    assert.ok(await pub.waitForSubscriber(5000));
    await pub.close();
    await until('the disconnect', () => sub.counters()['fedmsg.disconnects'] === 1, 5000);
    pub = await FedmsgPublisher.open({ bind: endpoint });
    assert.ok(await pub.waitForSubscriber(5000));
    await pub.send('t', 'back');
    await until('the message after the publisher came back', () => received.length === 1, 5000);
    // libzmq said it retries (connect:retry), so ingest's own re-dial was called off.
    assert.equal(sub.pendingRedials, 0);
    assert.equal(sub.counters()['fedmsg.protocol-drops'], 0);
    assert.equal(sub.counters()['fedmsg.connections'], 2);
  } finally {
    sub.close();
    await running;
    await pub.close();
  }
});

test('address allowlists: single addresses and networks, IPv4 and IPv6, and IPv4 peers of a dual-stack socket', () => {
  const list = addressAllowList(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
  for (const peer of ['127.0.0.1', '10.1.2.3', '::1', 'fd12::5', '::ffff:10.9.9.9', '::ffff:127.0.0.1']) assert.ok(addressAllowed(list, peer), peer);
  for (const peer of ['127.0.0.2', '11.0.0.1', '::2', 'fe80::1', '::ffff:192.168.1.1', '', 'not-an-address']) assert.ok(!addressAllowed(list, peer), peer);
  assert.throws(() => addressAllowList(['10.0.0.0/8', 'hub.example.org']), /^Error: 'hub\.example\.org' is not an IP address or a network/);
  assert.throws(() => addressAllowList(['fd00::/129']), /'fd00::\/129' is not an IP address/);
});

test('real sockets: with bindAllow, a publisher from another address is refused in the handshake and counted, an allowed one delivers; a subscriber opened right after is guarded too, its ipc:// endpoint left alone', async () => {
  // Loopback is 127.0.0.0/8: a publisher that dials from 127.0.0.2 is another peer address.
  const sub = await FedmsgSubscriber.open({ bind: ['tcp://127.0.0.1:0'], bindAllow: ['127.0.0.1'] });
  const endpoint = sub.boundEndpoints[0]!;
  const port = endpoint.split(':').at(-1)!;
  const received: string[] = [];
  const running = sub.run((frames) => received.push(frames[1]!.toString()));
  const allowed = await FedmsgPublisher.open({ connect: endpoint });
  const other = await FedmsgPublisher.open({ connect: `tcp://127.0.0.2:0;127.0.0.1:${port}` });
  try {
    assert.ok(await allowed.waitForSubscriber(5000), 'the allowed publisher got its subscription');
    await until('the other publisher to be refused', () => sub.counters()['fedmsg.refused-peers']! >= 1, 5000);
    assert.equal(other.subscriptions, 0, 'a refused peer never sees a subscription, so nothing it sends is delivered');
    await other.send('t', 'from 127.0.0.2');
    await allowed.send('t', 'from 127.0.0.1');
    await until('the allowed message', () => received.length === 1, 5000);
    assert.deepEqual(received, ['from 127.0.0.1']);
    assert.equal(sub.counters()['fedmsg.handshake-failures'], 0, 'a refusal is counted once, as refused-peers');
    const counts = sub.counters();
    assert.ok(counts['fedmsg.connections']! >= counts['fedmsg.refused-peers']! + 1, 'libzmq accepts each TCP connection before the handshake refuses it');
  } finally {
    sub.close();
    await running;
    await allowed.close();
    await other.close();
  }
  // The next subscriber, opened at once, is answered by the same handler (libzmq frees an inproc
  // name only a while after its socket closes, so the handler is never closed and bound again).
  // Its ipc:// endpoint has no peer address to check: the list leaves it alone.
  const ipc = `ipc://${join(tmpdir(), `taskotron-bind-allow-${process.pid}.sock`)}`;
  const again = await FedmsgSubscriber.open({ bind: ['tcp://127.0.0.1:0', ipc], bindAllow: ['127.0.0.2/32'] });
  const refusedHere = await FedmsgPublisher.open({ connect: again.boundEndpoints[0]! });
  const local = await FedmsgPublisher.open({ connect: ipc });
  const got: string[] = [];
  const runningAgain = again.run((frames) => got.push(frames[1]!.toString()));
  try {
    await until('127.0.0.1 to be refused by a list of 127.0.0.2', () => again.counters()['fedmsg.refused-peers']! >= 1, 5000);
    assert.ok(await local.waitForSubscriber(5000), 'the ipc:// publisher is let in');
    await local.send('t', 'over ipc');
    await until('the ipc:// message', () => got.length === 1, 5000);
    assert.deepEqual(got, ['over ipc']);
  } finally {
    again.close();
    await runningAgain;
    await refusedHere.close();
    await local.close();
  }
});

test('the allowlist handler does not keep a process running once its subscribers are closed', { timeout: 30_000 }, async () => {
  const compiled = process.env.TASKOTRON_TEST_CLI === 'dist';
  const module = pathToFileURL(join(projectRoot(), compiled ? 'dist/src/bus/fedmsg.js' : 'src/bus/fedmsg.ts')).href;
  // Two rounds: the handler serves again after going idle. Nothing else is left open, so Node exits.
  const script = `const { FedmsgSubscriber } = await import(${JSON.stringify(module)});
for (let i = 0; i < 2; i++) {
  const sub = await FedmsgSubscriber.open({ bind: ['tcp://127.0.0.1:0'], bindAllow: ['127.0.0.1'] });
  await new Promise((r) => setTimeout(r, 300));
  sub.close();
}
console.log('closed');`;
  const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), '--input-type=module', '-e', script], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  assert.equal(output.trim(), 'closed');
  assert.deepEqual([code, signal], [0, null], 'the process ended by itself, not killed after 20 s');
});
