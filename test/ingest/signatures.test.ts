// fedmsg X.509 signatures: the real signed production message verifies against its embedded
// certificate; chain, CRL and expiry are checked against a CA this test makes with the openssl CLI.
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JsonNumber, pythonJsonDumps } from '../../src/bus/canonical-json.js';
import { Intake } from '../../src/ingest/intake.js';
import { loadRules } from '../../src/ingest/rules.js';
import { readTrustStore, signatureVerifier, verifyEnvelope, type TrustStore } from '../../src/bus/signatures.js';
import { silentLogger } from '../../src/ingest/stats.js';
import { corpusDir } from './corpus.js';
import { makeTestCa } from './test-ca.js';

const signedFile = join(corpusDir, 'fedmsg', 'buildsys.build.state.change__signed_datagrepper_04.json');
let dir: string;
let trust: TrustStore;

before(() => {
  const ca = makeTestCa();
  dir = ca.dir;
  trust = readTrustStore(ca.caFile, ca.crlFile);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const wrap = (b64: string) => `${b64.replace(/(.{76})/g, '$1\n')}\n`;

/** Signs like fedmsg: canonical JSON without signature/certificate, RSA/SHA-1, base64 wrapped at 76. */
function signedFrame(name: string, msg: Record<string, unknown>): { text: string; envelope: Record<string, unknown> } {
  const envelope: Record<string, unknown> = {
    crypto: 'x509',
    i: 1,
    msg,
    msg_id: `2026-${name}-${Math.random().toString(16).slice(2)}`,
    timestamp: new JsonNumber('1764316800'),
    topic: 'org.fedoraproject.prod.buildsys.build.state.change',
    username: 'apache',
  };
  const signature = sign('sha1', Buffer.from(pythonJsonDumps(envelope)), readFileSync(join(dir, `${name}.key`)));
  const full = { ...envelope, signature: wrap(signature.toString('base64')), certificate: wrap(readFileSync(join(dir, `${name}.crt`)).toString('base64')) };
  return { text: pythonJsonDumps(full), envelope: JSON.parse(pythonJsonDumps(full)) as Record<string, unknown> };
}

const buildMsg = { attribute: 'state', build_id: 1, instance: 'primary', name: 'bash', new: 1, old: 0, owner: 'x', release: '1.fc40', task_id: 2, version: '5.2', elapsed: new JsonNumber('3.0') };

test('the real signed production message verifies against its embedded certificate, as a datagrepper record or as raw text', () => {
  const text = readFileSync(signedFile, 'utf8');
  assert.equal(verifyEnvelope(JSON.parse(text) as Record<string, unknown>), undefined);
  assert.equal(verifyEnvelope(JSON.parse(text) as Record<string, unknown>, text), undefined);
  const tampered = text.replace('"name": "slf4j"', '"name": "slf4k"');
  assert.equal(verifyEnvelope(JSON.parse(tampered) as Record<string, unknown>, tampered), 'the signature does not verify');
  // Fedora's CA is not ours, and the certificate expired in 2025 anyway.
  assert.match(verifyEnvelope(JSON.parse(text) as Record<string, unknown>, text, { trust }) ?? '', /not issued by a trusted CA|expired/);
});

test('a certificate from the CA verifies; revoked, foreign, expired and unsigned ones do not', () => {
  const good = signedFrame('koji01', buildMsg);
  assert.equal(verifyEnvelope(good.envelope, good.text, { trust }), undefined);
  // Python wrote 3.0; JSON.parse alone would lose the ".0" and with it the signature.
  assert.ok(good.text.includes('"elapsed":3.0'));
  assert.equal(verifyEnvelope(good.envelope, undefined, { trust }), 'the signature does not verify');

  const revoked = signedFrame('bodhi01', buildMsg);
  assert.equal(verifyEnvelope(revoked.envelope, revoked.text, { trust }), 'certificate serial 1002 is revoked');
  const stranger = signedFrame('stranger', buildMsg);
  assert.equal(verifyEnvelope(stranger.envelope, stranger.text, { trust }), 'certificate CN=stranger.example.org is not issued by a trusted CA');
  assert.match(verifyEnvelope(good.envelope, good.text, { trust, now: new Date(Date.now() + 90 * 86400_000) }) ?? '', /^certificate CN=koji01.example.org expired /);
  const { signature: _s, certificate: _c, ...unsigned } = good.envelope;
  assert.equal(verifyEnvelope(unsigned, undefined, { trust }), 'unsigned: no signature and certificate');
});

test('with signature validation on, ingest counts bad signatures per reason and matches the good message', () => {
  const rules = loadRules('- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n', 'r.yml').value!;
  const intake = new Intake({ rules: () => rules, validArches: ['x86_64'], log: silentLogger, verify: signatureVerifier({ caFile: join(dir, 'ca.crt'), crlFile: join(dir, 'crl.pem') }) });
  const frames = (f: { text: string; envelope: Record<string, unknown> }) => [Buffer.from(String(f.envelope.topic)), Buffer.from(f.text)];
  const good = signedFrame('koji01', buildMsg);
  const forged = signedFrame('koji01', buildMsg);
  const forgedText = forged.text.replace('"name":"bash"', '"name":"zsh"');
  assert.equal(intake.fromFrames(frames(signedFrame('bodhi01', buildMsg))).kind, 'rejected');
  assert.equal(intake.fromFrames([Buffer.from(String(forged.envelope.topic)), Buffer.from(forgedText)]).kind, 'rejected');
  assert.equal(intake.fromFrames(frames(good)).kind, 'matched');
  assert.deepEqual(intake.counters.snapshot(), { matched: 1, received: 3, 'rejected.bad-signature': 2 });
});
