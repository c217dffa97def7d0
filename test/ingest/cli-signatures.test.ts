// `taskotron ingest --validate-signatures` as an operator runs it: the CA and CRL from URLs (a loopback
// HTTP server), routing_policy from the environment, signed frames published to its --bind endpoint,
// and every verdict visible on its Prometheus endpoint by reason.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { sign } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JsonNumber, pythonJsonDumps } from '../../src/bus/canonical-json.js';
import { FedmsgPublisher } from '../../src/bus/fedmsg.js';
import { freePort } from '../../src/devserver/server.js';
import { projectRoot } from '../../src/devserver/project.js';
import { testAddress, uniqueName } from '../support/temporal.js';
import { publishTo, scratchDir, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';
import { issueCert, issueCrl, makeTestCa, type TestCa } from './test-ca.js';
import { cliArgs } from '../support/cli.js';

const TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';
let ca: TestCa;
before(() => {
  ca = makeTestCa();
  // A second host of the CA, not revoked, that routing_policy will not allow to send TOPIC.
  issueCert(ca.dir, 'bodhi02', '0x1004');
});
after(() => rmSync(ca.dir, { recursive: true, force: true }));

function signedEnvelope(name: string): Record<string, unknown> {
  const envelope: Record<string, unknown> = {
    crypto: 'x509',
    i: 1,
    msg: { attribute: 'state', build_id: 1, instance: 'primary', name: 'bash', new: 1, old: 0, owner: 'x', release: '1.fc40', task_id: 2, version: '5.2' },
    msg_id: `2026-${crypto.randomUUID()}`,
    timestamp: new JsonNumber('1764316800'),
    topic: TOPIC,
    username: 'apache',
  };
  const wrap = (b64: string) => `${b64.replace(/(.{76})/g, '$1\n')}\n`;
  const signature = sign('sha1', Buffer.from(pythonJsonDumps(envelope)), readFileSync(join(ca.dir, `${name}.key`)));
  const text = pythonJsonDumps({ ...envelope, signature: wrap(signature.toString('base64')), certificate: wrap(readFileSync(join(ca.dir, `${name}.crt`)).toString('base64')) });
  return JSON.parse(text) as Record<string, unknown>;
}

test('taskotron ingest fetches the CA and CRL from their URLs, caches them in its state directory, and counts every signature verdict by reason', { timeout: 120_000 }, async () => {
  const files: Record<string, Buffer> = { '/ca.crt': readFileSync(ca.caFile), '/crl.pem': issueCrl(ca, { seconds: 3600, out: 'served.pem' }) };
  const served: string[] = [];
  const server = createServer((request, response) => {
    served.push(request.url ?? '');
    const body = files[request.url ?? ''];
    if (body) response.writeHead(200, { 'content-length': body.length }).end(body);
    else response.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const dir = scratchDir('cli-signatures');
  const queue = uniqueName('cli-signatures');
  const rules = join(dir, 'trigger_rules.yml');
  // Matches nothing this test sends: what matters here happens before the rules.
  writeFileSync(rules, '- when: {message_type: KojiTagChanged}\n  do: [{tasks: [rpmdeplint]}]\n');
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const metrics = `127.0.0.1:${await freePort()}`;
  const state = join(dir, 'state');
  const child: ChildProcess = spawn(
    process.execPath,
    [...cliArgs(), 'ingest', '--rules', rules, '--bind', endpoint, '--bind-allow', '127.0.0.1', '--state-dir', state, '--metrics-listen', metrics,
      '--validate-signatures', '--ca', `${base}/ca.crt`, '--crl', `${base}/crl.pem`,
      '--trigger-queue', queue, '--ingest-queue', queue, '--job-queue', queue],
    {
      cwd: projectRoot(),
      env: { ...process.env, TEMPORAL_ADDRESS: testAddress(), TASKOTRON_INGEST_SOURCES_FEDMSG_ROUTING_POLICY: JSON.stringify({ [TOPIC]: ['koji01.example.org'] }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await until('ingest to be ready', () => output.includes('taskotron ingest: metrics on') || child.exitCode !== null, 60_000);
    assert.match(output, /taskotron ingest: metrics on/, `requests: ${served.join(', ')}\n${output}`);
    assert.deepEqual(readFileSync(join(state, 'fedmsg-crl.pem')), files['/crl.pem'], 'the CRL is cached in the state directory');
    assert.ok(existsSync(join(state, 'fedmsg-ca.crt')));
    await publishTo(endpoint, [signedEnvelope('koji01'), signedEnvelope('bodhi01'), signedEnvelope('bodhi02'), signedEnvelope('stranger')]);
    let scraped = '';
    await until(() => `four messages to be counted:\n${output}\n${scraped}`, async () => {
      scraped = await fetch(`http://${metrics}/metrics`).then((r) => r.text());
      return /taskotron_ingest_messages_received_total 4$/m.test(scraped);
    }, INGEST_WAIT_MS);
    assert.match(scraped, /^taskotron_ingest_signature_checks_total\{result="accepted",reason=""\} 1$/m);
    assert.match(scraped, /^taskotron_ingest_signature_checks_total\{result="refused",reason="revoked"\} 1$/m);
    assert.match(scraped, /^taskotron_ingest_signature_checks_total\{result="refused",reason="routing-policy"\} 1$/m);
    assert.match(scraped, /^taskotron_ingest_signature_checks_total\{result="refused",reason="untrusted"\} 1$/m);
    assert.match(scraped, /^taskotron_ingest_messages_total\{outcome="rejected",reason="bad-signature"\} 3$/m);
    assert.match(scraped, /^taskotron_ingest_trust_fetches_total\{file="crl",result="refreshed"\} 1$/m);
    assert.match(scraped, /^taskotron_ingest_crl_stale 0$/m);
    // --bind-allow: the publishers above dialled from 127.0.0.1; one dialling from 127.0.0.2 is refused.
    const stranger = await FedmsgPublisher.open({ connect: `tcp://127.0.0.2:0;${endpoint.slice('tcp://'.length)}` });
    try {
      await until(() => `the peer from 127.0.0.2 to be refused:\n${output}\n${scraped}`, async () => {
        scraped = await fetch(`http://${metrics}/metrics`).then((r) => r.text());
        return /^taskotron_ingest_bus_connection_events_total\{transport="fedmsg",event="refused_peers"\} [1-9]/m.test(scraped);
      }, INGEST_WAIT_MS);
    } finally {
      await stranger.close();
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /routing-policy: routing_policy: bodhi02\.example\.org may not send org\.fedoraproject\.prod\.buildsys\.build\.state\.change/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    server.closeAllConnections();
    server.close();
  }
});

// Replay is a way in too: with validate_signatures it checks what ingest checks on the bus, so a
// recorded message fedmsg would refuse does not start jobs when replayed.
test('taskotron replay --validate-signatures starts only the messages whose signatures verify', { timeout: 120_000 }, async () => {
  const dir = scratchDir('cli-replay-signatures');
  const rules = join(dir, 'trigger_rules.yml');
  writeFileSync(rules, '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n');
  const crl = join(dir, 'crl.pem');
  writeFileSync(crl, issueCrl(ca, { seconds: 3600, out: 'replay.pem' }));
  const good = signedEnvelope('koji01');
  const tampered = { ...signedEnvelope('koji01'), msg: { ...(good.msg as object), name: 'not-what-was-signed' } };
  const file = join(dir, 'messages.jsonl');
  writeFileSync(file, [good, tampered, signedEnvelope('bodhi01'), signedEnvelope('stranger')].map((m) => JSON.stringify(m)).join('\n') + '\n');
  const queue = uniqueName('cli-replay-signatures');
  const run = (...extra: string[]) =>
    execFileSync(process.execPath, [...cliArgs(), 'replay', file, '--rules', rules, '--trigger-queue', queue, '--ingest-queue', queue, '--job-queue', queue, ...extra], {
      cwd: projectRoot(),
      env: { ...process.env, TEMPORAL_ADDRESS: testAddress() },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const stats = JSON.parse(run('--validate-signatures', '--ca', ca.caFile, '--crl', crl).trim().split('\n').at(-1)!) as Record<string, number>;
  assert.equal(stats.received, 4);
  assert.equal(stats.matched, 1, JSON.stringify(stats));
  assert.equal(stats.started, 1, JSON.stringify(stats));
  assert.equal(stats['rejected.bad-signature'], 3, JSON.stringify(stats));
  // Without the flag (and none in the configuration) replay trusts the file, as before.
  const unchecked = JSON.parse(run().trim().split('\n').at(-1)!) as Record<string, number>;
  assert.equal(unchecked['rejected.bad-signature'] ?? 0, 0, JSON.stringify(unchecked));
  assert.equal(unchecked.matched, 4, JSON.stringify(unchecked));
});
