// The CA and CRL as fedmsg configures them: URLs (here a loopback HTTP server) cached on disk, the CRL
// fetched again ahead of its nextUpdate, a failed fetch keeping the old copy, a stale CRL refused or
// accepted with a warning, and routing_policy deciding which certificate may send which topic.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { sign, X509Certificate } from 'node:crypto';
import { once, type EventEmitter } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JsonNumber, pythonJsonDumps } from '../../src/bus/canonical-json.js';
import { crlRefreshAfterMs } from '../../src/bus/crl.js';
import { SignatureChecker, type SignatureCheckerOptions } from '../../src/bus/signature-checker.js';
import { readRevocationList, verifySigned } from '../../src/bus/signatures.js';
import { readConfig } from '../../src/config/load.js';
import { projectRoot } from '../../src/devserver/project.js';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { DEFAULT_CONFIG, loadIngestConfig } from '../../src/ingest/config.js';
import { Intake } from '../../src/ingest/intake.js';
import { registerSignatureMetrics } from '../../src/ingest/metrics.js';
import { Registry } from 'prom-client';
import { loadRules } from '../../src/ingest/rules.js';
import { silentLogger, type Logger } from '../../src/ingest/stats.js';
import { corpusDir } from './corpus.js';
import { ensurePythonFedmsg } from './python-fedmsg.js';
import { until } from '../support/until.js';
import { issueCert, issueCrl, makeTestCa, openssl, type TestCa } from './test-ca.js';
import { cliArgs } from '../support/cli.js';

let ca: TestCa;
before(() => {
  ca = makeTestCa();
});
after(() => rmSync(ca.dir, { recursive: true, force: true }));

const TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';

/** Signed as fedmsg signs: canonical JSON without signature/certificate, RSA/SHA-1, base64 wrapped at 76. */
function signed(name: string, topic = TOPIC): { envelope: Record<string, unknown>; text: string } {
  const envelope: Record<string, unknown> = {
    crypto: 'x509',
    i: 1,
    msg: { attribute: 'state', build_id: 1, instance: 'primary', name: 'bash', new: 1, old: 0, owner: 'x', release: '1.fc40', task_id: 2, version: '5.2' },
    msg_id: `2026-${name}-${Math.random().toString(16).slice(2)}`,
    timestamp: new JsonNumber('1764316800'),
    topic,
    username: 'apache',
  };
  const wrap = (b64: string) => `${b64.replace(/(.{76})/g, '$1\n')}\n`;
  const signature = sign('sha1', Buffer.from(pythonJsonDumps(envelope)), readFileSync(join(ca.dir, `${name}.key`)));
  const text = pythonJsonDumps({ ...envelope, signature: wrap(signature.toString('base64')), certificate: wrap(readFileSync(join(ca.dir, `${name}.crt`)).toString('base64')) });
  return { envelope: JSON.parse(text) as Record<string, unknown>, text };
}

/** A loopback server for the CA and the CRL; `files` can be swapped while it runs. */
async function trustServer(files: Record<string, Buffer>): Promise<{ url: string; files: Record<string, Buffer>; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const body = files[request.url ?? ''];
    if (!body) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    files,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The next `event`, within a bound. The checker's timers are unref'd (they never keep ingest alive),
 * so this timeout is also what keeps the test's event loop running while it waits.
 */
async function next(emitter: EventEmitter, event: string, timeoutMs = 20_000): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
  try {
    await once(emitter, event, { signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

function verdictOf(checker: SignatureChecker, name: string): string {
  const { envelope, text } = signed(name);
  const verdict = checker.check(envelope, text);
  return verdict.ok ? (verdict.warning ? `accepted (${verdict.warning.reason})` : 'accepted') : `refused (${verdict.reason})`;
}

const options = (server: { url: string }, extra: Partial<SignatureCheckerOptions> = {}): SignatureCheckerOptions => ({
  ca: `${server.url}/ca.crt`,
  caCache: join(ca.dir, `cache-${Math.random().toString(16).slice(2)}`, 'ca.crt'),
  crl: `${server.url}/crl.pem`,
  crlCache: join(ca.dir, `cache-${Math.random().toString(16).slice(2)}`, 'crl.pem'),
  log: silentLogger,
  minBackoffMs: 100,
  maxBackoffMs: 400,
  ...extra,
});

test('the CA and CRL are fetched from their URLs and cached on disk; a revoked certificate is refused; a restart with the server down uses the cache', async () => {
  const crl = issueCrl(ca, { seconds: 3600, out: 'served.pem' });
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': crl });
  const settings = options(server);
  const checker = await SignatureChecker.open(settings);
  try {
    assert.equal(verdictOf(checker, 'bodhi01'), 'refused (revoked)');
    assert.equal(verdictOf(checker, 'koji01'), 'accepted');
    assert.equal(verdictOf(checker, 'stranger'), 'refused (untrusted)');
    assert.deepEqual(readFileSync(settings.crlCache!), crl, 'the fetched CRL is cached byte for byte');
    assert.deepEqual(readFileSync(settings.caCache!), readFileSync(ca.caFile));
    assert.ok(!existsSync(`${settings.crlCache!}.${process.pid}.tmp`), 'no temporary file left behind');
    assert.deepEqual(checker.counters(), {
      'ca.refreshed': 1,
      'crl.refreshed': 1,
      'signature.accepted': 1,
      'signature.refused.revoked': 1,
      'signature.refused.untrusted': 1,
    });
  } finally {
    checker.close();
  }
  await server.close();
  const restarted = await SignatureChecker.open(settings);
  try {
    assert.equal(verdictOf(restarted, 'bodhi01'), 'refused (revoked)', 'the cached CRL still refuses what it revoked');
    assert.equal(verdictOf(restarted, 'koji01'), 'accepted');
    assert.equal(restarted.counters()['crl.from-cache'], 1);
    assert.equal(restarted.counters()['ca.from-cache'], 1);
    assert.ok((restarted.counters()['crl.refresh-failed'] ?? 0) >= 1);
  } finally {
    restarted.close();
  }
});

test('a CRL whose nextUpdate is seconds away is fetched again before it, and what the new one revokes is refused from then on', async () => {
  const first = issueCrl(ca, { seconds: 6, out: 'short.pem' });
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': first });
  const checker = await SignatureChecker.open(options(server));
  try {
    const nextUpdate = checker.crlNextUpdate() * 1000;
    assert.ok(nextUpdate > Date.now() && nextUpdate - Date.now() <= 6000);
    assert.equal(verdictOf(checker, 'koji01'), 'accepted');
    // The CA revokes koji01 and publishes a CRL; nobody tells ingest.
    server.files['/crl.pem'] = issueCrl(ca, { revoke: 'koji01', seconds: 3600, out: 'replaced.pem' });
    await next(checker.crl!, 'loaded');
    assert.ok(Date.now() < nextUpdate, 'refreshed ahead of nextUpdate, not after it');
    assert.equal(verdictOf(checker, 'koji01'), 'refused (revoked)');
    assert.equal(checker.crlStale(), false);
    assert.equal(checker.counters()['crl.refreshed'], 2);
  } finally {
    checker.close();
    await server.close();
  }
});

test('the CRL server down during a refresh: the old CRL is kept and the fetch retried with backoff; once stale, crl_stale decides', async () => {
  // bodhi01 is revoked in every CRL this CA issues from here on; koji01 was revoked by the test above.
  const crl = issueCrl(ca, { seconds: 8, out: 'down.pem' });
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': crl });
  let skew = 0;
  const warnings: string[] = [];
  const log: Logger = (level, message) => void (level === 'warn' && warnings.push(message));
  const refusing = await SignatureChecker.open(options(server, { now: () => Date.now() + skew }));
  const warning = await SignatureChecker.open(options(server, { now: () => Date.now() + skew, crlStale: 'warn', log }));
  try {
    await server.close();
    // Each refresh fails; the second failure shows the retry.
    for (let i = 0; i < 2; i++) await next(refusing.crl!, 'failed');
    assert.ok(refusing.counters()['crl.refresh-failed']! >= 2);
    assert.equal(verdictOf(refusing, 'bodhi01'), 'refused (revoked)', 'the old CRL is still in force');
    assert.equal(refusing.crlStale(), false);

    // Past nextUpdate with no new CRL: the clock, not a sleep, moves past it.
    skew = refusing.crlNextUpdate() * 1000 - Date.now() + 1000;
    assert.equal(refusing.crlStale(), true);
    assert.equal(verdictOf(refusing, 'bodhi01'), 'refused (revoked)', 'a stale CRL still proves what it revoked');

    // A certificate the stale CRL cannot vouch for: refused under refuse, accepted with one warning under warn.
    const fresh = issueFreshCert();
    assert.equal(verdictOf(refusing, fresh), 'refused (crl-stale)');
    assert.equal(verdictOf(warning, fresh), 'accepted (crl-stale)');
    assert.equal(verdictOf(warning, fresh), 'accepted (crl-stale)');
    assert.equal(refusing.counters()['signature.refused.crl-stale'], 1);
    assert.equal(warning.counters()['signature.accepted.crl-stale'], 2);
    assert.equal(warnings.filter((w) => w.includes('crl_stale: warn')).length, 1, 'the warning is rate-limited');
  } finally {
    refusing.close();
    warning.close();
  }
});

/** A new host certificate from the test CA that no CRL has revoked. */
function issueFreshCert(): string {
  const name = `host${Math.random().toString(16).slice(2, 8)}`;
  issueCert(ca.dir, name, `0x${(0x2000 + Math.floor(Math.random() * 0xfff)).toString(16)}`);
  return name;
}

test('a CRL URL unreachable at start (and no cache): refused as crl-unavailable until a retry loads it', async () => {
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile) });
  const checker = await SignatureChecker.open(options(server));
  try {
    const fresh = issueFreshCert();
    assert.equal(verdictOf(checker, fresh), 'refused (crl-unavailable)');
    assert.equal(checker.crlStale(), true);
    server.files['/crl.pem'] = issueCrl(ca, { seconds: 3600, out: 'late.pem' });
    await next(checker.crl!, 'loaded');
    assert.equal(verdictOf(checker, fresh), 'accepted');
    assert.equal(verdictOf(checker, 'bodhi01'), 'refused (revoked)');
    assert.ok(checker.counters()['crl.refresh-failed']! >= 1);
  } finally {
    checker.close();
    await server.close();
  }
});

test('a CRL not signed by the CA is refused and the old one kept', async () => {
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': issueCrl(ca, { seconds: 6, out: 'before-forgery.pem' }) });
  const failures: string[] = [];
  const checker = await SignatureChecker.open(options(server, { log: (level, message) => void (level === 'warn' && failures.push(message)) }));
  try {
    // A CRL that revokes nothing, signed by another CA's key: it would un-revoke bodhi01.
    openssl(ca.dir, 'ca', '-config', 'ca.cnf', '-gencrl', '-keyfile', 'other.key', '-cert', 'other.crt', '-crlsec', '3600', '-out', 'forged.pem');
    server.files['/crl.pem'] = readFileSync(join(ca.dir, 'forged.pem'));
    await next(checker.crl!, 'failed');
    assert.match(failures.join('\n'), /crl: http:\/\/127\.0\.0\.1:\d+\/crl\.pem: the CRL is not signed by any configured CA; keeping the copy loaded before/);
    assert.equal(verdictOf(checker, 'bodhi01'), 'refused (revoked)');
  } finally {
    checker.close();
    await server.close();
  }
});

test('an older CRL served after a newer one is refused: it would un-revoke a certificate', async () => {
  const older = issueCrl(ca, { seconds: 3600, out: 'older.pem', lastUpdate: new Date(Date.now() - 3600_000) });
  const host = issueFreshCert();
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': issueCrl(ca, { revoke: host, seconds: 6, out: 'newer.pem' }) });
  const failures: string[] = [];
  const checker = await SignatureChecker.open(options(server, { log: (level, message) => void (level === 'warn' && failures.push(message)) }));
  try {
    assert.equal(verdictOf(checker, host), 'refused (revoked)');
    server.files['/crl.pem'] = older;
    await next(checker.crl!, 'failed');
    assert.match(failures.join('\n'), /the CRL served is older \(thisUpdate .*\) than the one loaded/);
    assert.equal(verdictOf(checker, host), 'refused (revoked)');
  } finally {
    checker.close();
    await server.close();
  }
});

// --- routing_policy ---------------------------------------------------------------------------------

const productionFile = join(corpusDir, 'fedmsg', 'buildsys.build.state.change__signed_datagrepper_04.json');
const PRODUCTION_SIGNER = 'koji-koji01.phx2.fedoraproject.org';

test('routing_policy with the real signed production message: its signer may send its topic, another may not; unlisted topics pass unless nitpicky', () => {
  const text = readFileSync(productionFile, 'utf8');
  const record = JSON.parse(text) as Record<string, unknown>;
  assert.equal(record.topic, TOPIC);
  const verdict = (topics: Record<string, string[]>, nitpicky = false) => {
    const v = verifySigned(record, text, { routing: { topics, nitpicky } });
    return v.ok ? `accepted by ${v.signer}` : `${v.reason}: ${v.detail}`;
  };
  assert.equal(verdict({ [TOPIC]: [PRODUCTION_SIGNER, 'koji-koji02.phx2.fedoraproject.org'] }), `accepted by ${PRODUCTION_SIGNER}`);
  assert.equal(
    verdict({ [TOPIC]: ['bodhi-backend01.phx2.fedoraproject.org'] }),
    `routing-policy: routing_policy: ${PRODUCTION_SIGNER} may not send ${TOPIC} (allowed: bodhi-backend01.phx2.fedoraproject.org)`,
  );
  assert.equal(verdict({ 'org.fedoraproject.prod.announce.announcement': ['announce-lockbox.phx2.fedoraproject.org'] }), `accepted by ${PRODUCTION_SIGNER}`);
  assert.equal(verdict({ 'org.fedoraproject.prod.announce.announcement': ['announce-lockbox.phx2.fedoraproject.org'] }, true), `routing-nitpicky: routing_nitpicky: routing_policy lists no senders for ${TOPIC}`);
  // A forged message is refused for its signature before the policy is asked.
  const forged = text.replace('"name": "slf4j"', '"name": "slf4k"');
  const v = verifySigned(JSON.parse(forged) as Record<string, unknown>, forged, { routing: { topics: { [TOPIC]: [PRODUCTION_SIGNER] }, nitpicky: true } });
  assert.equal(v.ok ? 'accepted' : v.reason, 'bad-signature');
});

test('routing_policy in ingest: refusals are counted by reason and the intake drops them as bad-signature', async () => {
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': issueCrl(ca, { seconds: 3600, out: 'routing.pem' }) });
  const fresh = issueFreshCert();
  const other = issueFreshCert();
  const checker = await SignatureChecker.open(options(server, { routingPolicy: { [TOPIC]: [`${fresh}.example.org`] }, routingNitpicky: true }));
  try {
    const rules = loadRules('- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n', 'r.yml').value!;
    const intake = new Intake({ rules: () => rules, validArches: ['x86_64'], log: silentLogger, verify: checker.verify });
    const frames = (f: { text: string; envelope: Record<string, unknown> }) => [Buffer.from(String(f.envelope.topic)), Buffer.from(f.text)];
    assert.equal(intake.fromFrames(frames(signed(fresh))).kind, 'matched');
    const refused = intake.fromFrames(frames(signed(other)));
    assert.equal(refused.kind, 'rejected');
    assert.match(refused.kind === 'rejected' ? refused.detail : '', /routing-policy: routing_policy: host\w+\.example\.org may not send /);
    assert.equal(intake.fromFrames(frames(signed(fresh, 'org.fedoraproject.prod.buildsys.tag'))).kind, 'rejected');
    assert.deepEqual(intake.counters.snapshot(), { matched: 1, received: 3, 'rejected.bad-signature': 2 });
    const counts = checker.counters();
    assert.deepEqual(
      Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('signature.'))),
      { 'signature.accepted': 1, 'signature.refused.routing-nitpicky': 1, 'signature.refused.routing-policy': 1 },
    );
    // What Prometheus scrapes.
    const registry = new Registry();
    registerSignatureMetrics(registry, checker);
    const text = await registry.metrics();
    assert.match(text, /^taskotron_ingest_signature_checks_total\{result="refused",reason="routing-policy"\} 1$/m);
    assert.match(text, /^taskotron_ingest_signature_checks_total\{result="refused",reason="routing-nitpicky"\} 1$/m);
    assert.match(text, /^taskotron_ingest_signature_checks_total\{result="accepted",reason=""\} 1$/m);
    assert.match(text, /^taskotron_ingest_trust_fetches_total\{file="crl",result="refreshed"\} 1$/m);
    assert.match(text, /^taskotron_ingest_crl_stale 0$/m);
    assert.match(text, new RegExp(`^taskotron_ingest_crl_next_update_timestamp_seconds ${checker.crlNextUpdate()}$`, 'm'));
  } finally {
    checker.close();
    await server.close();
  }
});

// --- configuration ----------------------------------------------------------------------------------

test("the signature settings in taskotron.yaml, trigger.cfg and the environment; mistakes name file, line, column and key", () => {
  const yaml = `ingest:
  sources:
    fedmsg:
      validate_signatures: true
      ca_cert: https://fedoraproject.org/fedmsg/ca.crt
      crl: https://fedoraproject.org/fedmsg/crl.pem
      crl_cache: cache/crl.pem
      crl_cache_expiry: 10m
      crl_stale: warn
      routing_policy:
        ${TOPIC}: [${PRODUCTION_SIGNER}]
      routing_nitpicky: true
`;
  const loaded = loadIngestConfig(yaml, '/etc/taskotron/taskotron.yaml');
  assert.deepEqual(loaded.errors, []);
  const config = loaded.value!;
  assert.equal(config.caCert, 'https://fedoraproject.org/fedmsg/ca.crt', 'a URL is not taken for a relative path');
  assert.equal(config.crl, 'https://fedoraproject.org/fedmsg/crl.pem');
  assert.equal(config.crlCache, '/etc/taskotron/cache/crl.pem', 'a relative cache path is relative to the file');
  assert.equal(config.crlCacheExpirySeconds, 600);
  assert.equal(config.caCertCacheExpirySeconds, 0);
  assert.equal(config.crlStale, 'warn');
  assert.deepEqual(config.routingPolicy, { [TOPIC]: [PRODUCTION_SIGNER] });
  assert.equal(config.routingNitpicky, true);
  // Defaults: refuse a stale CRL (as fedmsg), fetch the CRL hourly (fedmsg's crl_cache_expiry default 3600).
  assert.equal(DEFAULT_CONFIG.crlStale, 'refuse');
  assert.equal(DEFAULT_CONFIG.crlCacheExpirySeconds, 3600);
  assert.deepEqual(DEFAULT_CONFIG.routingPolicy, {});

  const cfg = loadIngestConfig(
    '[fedmsg]\nvalidate_signatures = True\nca_cert_location = /etc/pki/fedmsg/ca.crt\ncrl_location = https://fedoraproject.org/fedmsg/crl.pem\ncrl_cache = /var/cache/fedmsg/crl.pem\ncrl_cache_expiry = 3600\nrouting_nitpicky = False\n',
    '/etc/taskotron/trigger.cfg',
  );
  assert.deepEqual(cfg.errors, []);
  assert.equal(cfg.value!.crlCache, '/var/cache/fedmsg/crl.pem');
  assert.equal(cfg.value!.crlCacheExpirySeconds, 3600);

  const fromEnv = readConfig({ env: { TASKOTRON_INGEST_SOURCES_FEDMSG_VALIDATE_SIGNATURES: 'true', TASKOTRON_INGEST_SOURCES_FEDMSG_CA_CERT: '/ca.crt', TASKOTRON_INGEST_SOURCES_FEDMSG_ROUTING_POLICY: JSON.stringify({ [TOPIC]: ['a.example.org'] }) } });
  assert.deepEqual(fromEnv.ingest.sources.fedmsg?.routing_policy, { [TOPIC]: ['a.example.org'] });

  const errorsOf = (text: string, file = 'taskotron.yaml') => loadIngestConfig(text, file).errors.map(formatDiagnostic);
  assert.deepEqual(errorsOf('ingest:\n  sources:\n    fedmsg:\n      validate_signatures: true\n      ca_cert: http://fedoraproject.org/fedmsg/ca.crt\n'), [
    "taskotron.yaml:5:16: error: ingest.sources.fedmsg.ca_cert: a CA fetched over plain http:// could be anyone's: use https:// or a file",
  ]);
  assert.deepEqual(errorsOf('ingest:\n  sources:\n    fedmsg:\n      crl_stale: ignore\n'), ["taskotron.yaml:4:18: error: ingest.sources.fedmsg.crl_stale: expected one of refuse, warn, got 'ignore'"]);
  assert.deepEqual(errorsOf(`ingest:\n  sources:\n    fedmsg:\n      routing_policy:\n        ${TOPIC}: a.example.org\n`), [
    `taskotron.yaml:5:${TOPIC.length + 11}: error: ingest.sources.fedmsg.routing_policy["${TOPIC}"]: expected a list, got 'a.example.org'`,
  ]);
  assert.deepEqual(errorsOf('[fedmsg]\ncrl_cache_expiry = soon\n', 'trigger.cfg'), ["trigger.cfg:2:1: error: fedmsg.crl_cache_expiry: expected a whole number, got 'soon'"]);
  assert.throws(() => readConfig({ env: { TASKOTRON_INGEST_SOURCES_FEDMSG_ROUTING_POLICY: '{topic' } }), /env TASKOTRON_INGEST_SOURCES_FEDMSG_ROUTING_POLICY.*expected JSON/);
});

test('rules explain --config with validate_signatures says what the signature check decides (CA and CRL as files)', () => {
  const allowed = issueFreshCert();
  const host = issueFreshCert();
  const crlFile = join(ca.dir, 'explain-crl.pem');
  writeFileSync(crlFile, issueCrl(ca, { seconds: 3600, out: 'explain-crl.pem' }));
  const config = join(ca.dir, 'explain.yaml');
  writeFileSync(
    config,
    `ingest:\n  sources:\n    fedmsg:\n      validate_signatures: true\n      ca_cert: ca.crt\n      crl: explain-crl.pem\n      routing_policy:\n        ${TOPIC}: [${allowed}.example.org]\n`,
  );
  const rules = join(ca.dir, 'explain-rules.yml');
  writeFileSync(rules, '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n');
  const explain = (name: string, ...extra: string[]) => {
    const file = join(ca.dir, `explain-${name}.json`);
    writeFileSync(file, signed(name).text);
    return spawnSync(process.execPath, [...cliArgs(), 'rules', 'explain', rules, file, '--config', config, ...extra], { cwd: projectRoot(), encoding: 'utf8', env: { PATH: process.env.PATH } });
  };
  const refused = explain(host);
  assert.equal(refused.status, 0, refused.stderr);
  assert.equal(
    refused.stdout.split('\n')[0],
    `signature: REFUSED (routing-policy): routing_policy: ${host}.example.org may not send ${TOPIC} (allowed: ${allowed}.example.org); ingest drops it as rejected.bad-signature`,
  );
  const accepted = JSON.parse(explain(allowed, '--json').stdout) as { signature: { ok: boolean; signer: string }; jobs: Array<{ task: string }> };
  assert.deepEqual(accepted.signature, { ok: true, signer: `${allowed}.example.org` });
  assert.deepEqual(accepted.jobs.map((j) => j.task), ['rpmlint']);
});

test('the real fedmsg library and we agree: a fresh CRL passes, a stale one is refused (our default), and routing_policy refuses and nitpicks the same messages', async () => {
  const python = await ensurePythonFedmsg((line) => console.error(`# ${line}`));
  const host = issueFreshCert();
  const freshFile = join(ca.dir, 'interop-fresh.pem');
  writeFileSync(freshFile, issueCrl(ca, { seconds: 3600, out: 'interop-fresh.pem' }));
  const staleFile = join(ca.dir, 'interop-stale.pem');
  writeFileSync(staleFile, issueCrl(ca, { seconds: 1, out: 'interop-stale.pem' }));
  const staleUntil = readRevocationList(readFileSync(staleFile), [new X509Certificate(readFileSync(ca.caFile))]).nextUpdate!.getTime();
  // The clock passing nextUpdate is the event; at most a second or two.
  await until('the short CRL to expire', () => Date.now() > staleUntil + 1000, 5000);
  const signer = `${host}.example.org`;
  const cases: Record<string, Record<string, unknown>> = {
    fresh: { crl_location: freshFile },
    stale: { crl_location: staleFile },
    'routing-other': { crl_location: freshFile, routing_policy: { [TOPIC]: ['other.example.org'] } },
    'routing-self': { crl_location: freshFile, routing_policy: { [TOPIC]: [signer] }, routing_nitpicky: true },
    nitpicky: { crl_location: freshFile, routing_policy: { 'org.fedoraproject.prod.announce.announcement': ['announce-lockbox.phx2.fedoraproject.org'] }, routing_nitpicky: true },
    unlisted: { crl_location: freshFile, routing_policy: { 'org.fedoraproject.prod.announce.announcement': ['announce-lockbox.phx2.fedoraproject.org'] } },
  };
  const casesFile = join(ca.dir, 'interop-cases.json');
  writeFileSync(casesFile, JSON.stringify(Object.fromEntries(Object.entries(cases).map(([name, c]) => [name, { ca_cert_location: ca.caFile, ...c }]))));
  const script = join(projectRoot(), 'test', 'ingest', 'fedmsg_validate.py');
  const out = JSON.parse(execFileSync(python, [script, ca.dir, host, casesFile], { encoding: 'utf8', timeout: 60_000 })) as { signed: Record<string, unknown>; results: Record<string, boolean> };
  const raw = JSON.stringify(out.signed);
  const cas = [new X509Certificate(readFileSync(ca.caFile))];
  const ours = Object.fromEntries(
    Object.entries(cases).map(([name, c]) => {
      const crl = readRevocationList(readFileSync(String(c.crl_location)), cas);
      const topics = (c.routing_policy ?? {}) as Record<string, string[]>;
      const verdict = verifySigned(out.signed, raw, { trust: { cas, crls: [crl] }, routing: { topics, nitpicky: Boolean(c.routing_nitpicky) } });
      return [name, verdict.ok];
    }),
  );
  assert.deepEqual(out.results, { fresh: true, stale: false, 'routing-other': false, 'routing-self': true, nitpicky: false, unlisted: true });
  assert.deepEqual(ours, out.results);
});

test('when the CRL is fetched again: after crl_cache_expiry, or ahead of nextUpdate (half the time left, at most five minutes early)', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');
  const at = (seconds: number) => new Date(now + seconds * 1000);
  assert.equal(crlRefreshAfterMs(at(30 * 86_400), 3600, now), 3_600_000, 'a month-long CRL: hourly, as fedmsg');
  assert.equal(crlRefreshAfterMs(at(3600), 0, now), 3_300_000, 'only nextUpdate: five minutes before it');
  assert.equal(crlRefreshAfterMs(at(6), 3600, now), 3000, 'seconds away: half-way');
  assert.equal(crlRefreshAfterMs(at(-60), 3600, now), 1000, 'already stale: soon, but never a busy loop');
  assert.equal(crlRefreshAfterMs(undefined, 600, now), 600_000, 'no nextUpdate: the expiry alone');
});

test('a CA from a URL is fetched again every ca_cert_cache_expiry', async () => {
  const server = await trustServer({ '/ca.crt': readFileSync(ca.caFile), '/crl.pem': issueCrl(ca, { seconds: 3600, out: 'ca-expiry.pem' }) });
  const checker = await SignatureChecker.open(options(server, { caCacheExpirySeconds: 1 }));
  try {
    await next(checker.ca, 'loaded');
    assert.equal(checker.counters()['ca.refreshed'], 2);
    assert.equal(server.requests.filter((r) => r === '/ca.crt').length, 2);
  } finally {
    checker.close();
    await server.close();
  }
});
