// The production trigger.cfg loads as deployed (INI with `;` inline comments), and our own sections
// sit beside it; bad values are reported with file:line and the key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { ingestConfigFromOptions } from '../../src/cli/ingest-run.js';
import { DEFAULT_CONFIG, loadIngestConfig } from '../../src/ingest/config.js';
import { renderedCorpusTriggerCfg } from './corpus.js';

test('the 2020 production trigger.cfg loads: arches, fuse_delay despite its inline comment, datagrepper, rules, cache', () => {
  const result = loadIngestConfig(renderedCorpusTriggerCfg(), '/etc/taskotron/trigger.cfg');
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.warnings, []);
  const config = result.value!;
  assert.deepEqual(config.validArches, ['x86_64', 'armhfp']);
  assert.equal(config.fuseDelaySeconds, 900);
  assert.equal(config.datagrepperUrl, 'https://apps.fedoraproject.org/datagrepper/raw');
  assert.equal(config.rulesFile, '/etc/taskotron/trigger_rules.yml');
  assert.equal(config.gitCacheDir, '/var/lib/taskotron-trigger/cache');
  assert.equal(config.critpathFile, undefined, 'critpath_filepath is set empty: critpath disabled');
  assert.deepEqual(config.environments, []);
});

test('[fedmsg] and [ingest] sections configure sockets, signatures and queues; mistakes name file, line and key', () => {
  const text = `${renderedCorpusTriggerCfg()}
[fedmsg]
endpoints = tcp://hub.fedoraproject.org:9940, tcp://stg.fedoraproject.org:9940
topics = org.fedoraproject.prod.buildsys., org.fedoraproject.prod.git.
validate_signatures = True
ca_cert_location = /etc/pki/fedmsg/ca.crt

[ingest]
memory_queue = 500
trigger_queue = ingest-prod
`;
  const config = loadIngestConfig(text, '/etc/taskotron/trigger.cfg').value!;
  assert.deepEqual(config.connect, ['tcp://hub.fedoraproject.org:9940', 'tcp://stg.fedoraproject.org:9940']);
  assert.deepEqual(config.topics, ['org.fedoraproject.prod.buildsys.', 'org.fedoraproject.prod.git.']);
  assert.equal(config.validateSignatures, true);
  assert.equal(config.caCert, '/etc/pki/fedmsg/ca.crt');
  assert.equal(config.memoryQueue, 500);
  assert.equal(config.triggerQueue, 'ingest-prod');
  assert.equal(config.jobQueue, DEFAULT_CONFIG.jobQueue);

  const bad = loadIngestConfig('[trigger]\nvalid_arches = x86_64\nfuse_delay = soon\nfuze_delay = 1\nstray line\n', 'trigger.cfg');
  assert.deepEqual([...bad.errors, ...bad.warnings].map(formatDiagnostic), [
    "trigger.cfg:3:1: error: trigger.fuse_delay: expected a whole number, got 'soon'",
    "trigger.cfg:5:1: error: expected 'key = value', got 'stray line'",
    'trigger.cfg:4:1: warning: trigger.fuze_delay: unknown key, ignored',
  ]);
});

test('message sources: [ingest] sources and [amqp] in the file, flags and environment over it; what cannot work is an error', () => {
  const text = `[trigger]
valid_arches = x86_64

[ingest]
sources = fedmsg, amqp

[amqp]
url = amqps://taskotron:secret@rabbitmq.example.org/%2Fpubsub
queue = 00000000-1111-2222-3333-444444444444
bindings = org.fedoraproject.prod.buildsys.#, org.fedoraproject.prod.bodhi.#
prefetch = 50
tls_ca = ca.pem
`;
  const config = loadIngestConfig(text, '/etc/taskotron/trigger.cfg').value!;
  assert.deepEqual(config.sources, ['fedmsg', 'amqp']);
  assert.equal(config.amqp.queue, '00000000-1111-2222-3333-444444444444');
  assert.deepEqual(config.amqp.bindings, ['org.fedoraproject.prod.buildsys.#', 'org.fedoraproject.prod.bodhi.#']);
  assert.equal(config.amqp.prefetch, 50);
  assert.equal(config.amqp.exchange, 'amq.topic');
  assert.equal(config.amqp.tls.ca, '/etc/taskotron/ca.pem');
  assert.equal(DEFAULT_CONFIG.amqp.prefetch, 25, 'loading never writes into the defaults');

  // Each mistake is reported where it is, by the one configuration loader that reads trigger.cfg too.
  const errorsOf = (text: string) => loadIngestConfig(text, 'trigger.cfg').errors.map(formatDiagnostic);
  assert.deepEqual(errorsOf('[ingest]\nsources = zeromq\n'), ["trigger.cfg:2:1: error: ingest.sources: expected one or more of fedmsg, amqp, got 'zeromq'"]);
  assert.deepEqual(errorsOf('[amqp]\nurl = amqp://127.0.0.1/\nprefetch = 0\n'), ['trigger.cfg:3:1: error: amqp.prefetch: must be at least 1']);
  assert.deepEqual(errorsOf('[fedmsg]\nvalidate_signatures = True\n'), [
    'trigger.cfg:2:1: error: fedmsg.validate_signatures: validate_signatures needs ca_cert: without a CA any self-signed certificate would pass',
  ]);
  const saved = { ...process.env };
  try {
    delete process.env.TASKOTRON_AMQP_URL;
    process.env.TASKOTRON_INGEST_SOURCES = 'amqp';
    assert.throws(() => ingestConfigFromOptions({ statsInterval: 60 }), /'amqp' source needs --amqp-url/);
    process.env.TASKOTRON_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672/%2F';
    const fromEnv = ingestConfigFromOptions({ statsInterval: 60 });
    assert.deepEqual(fromEnv.sources, ['amqp']);
    assert.equal(fromEnv.amqp.url, 'amqp://guest:guest@127.0.0.1:5672/%2F');
    assert.deepEqual(ingestConfigFromOptions({ statsInterval: 60, source: ['fedmsg'] }).sources, ['fedmsg'], 'a flag beats the environment');
    assert.throws(() => ingestConfigFromOptions({ statsInterval: 60, source: ['fedmsg'], validateSignatures: true }), /option --validate-signatures: error: ingest.sources.fedmsg.validate_signatures: validate_signatures needs ca_cert/);
  } finally {
    process.env = saved;
  }
});

test('transport limits: 1 MiB messages and a receive high-water mark of 100 by default, each settable; an unbounded high-water mark is refused', () => {
  assert.equal(DEFAULT_CONFIG.maxMessageBytes, 1_048_576);
  assert.equal(DEFAULT_CONFIG.receiveHighWaterMark, 100);
  assert.equal(DEFAULT_CONFIG.amqp.maxMessageBytes, 1_048_576);
  const set = loadIngestConfig(
    'ingest:\n  sources:\n    fedmsg:\n      max_message_bytes: 65536\n      receive_high_water_mark: 10\n    amqp:\n      url: amqp://127.0.0.1:5672/\n      max_message_bytes: 2048\n',
    'taskotron.yaml',
  );
  assert.deepEqual(set.errors, []);
  assert.equal(set.value!.maxMessageBytes, 65_536);
  assert.equal(set.value!.receiveHighWaterMark, 10);
  assert.equal(set.value!.amqp.maxMessageBytes, 2048);
  const cfg = loadIngestConfig('[fedmsg]\nreceive_high_water_mark = 50\n[amqp]\nurl = amqp://127.0.0.1/\nmax_message_bytes = 4096\n', 'trigger.cfg');
  assert.equal(cfg.value!.receiveHighWaterMark, 50);
  assert.equal(cfg.value!.amqp.maxMessageBytes, 4096);
  const unbounded = loadIngestConfig('ingest:\n  sources:\n    fedmsg:\n      receive_high_water_mark: 0\n', 'taskotron.yaml');
  assert.match(unbounded.errors.map(formatDiagnostic).join('\n'), /^taskotron\.yaml:4:32: error: ingest\.sources\.fedmsg\.receive_high_water_mark: /);
});

test('bind_allow: addresses and networks, IPv4 and IPv6, from taskotron.yaml or trigger.cfg; anything else is named with its position', () => {
  assert.deepEqual(DEFAULT_CONFIG.bindAllow, [], 'anyone may connect unless told');
  const set = loadIngestConfig("ingest:\n  sources:\n    fedmsg:\n      bind: ['tcp://0.0.0.0:9941']\n      bind_allow: [127.0.0.1, 10.0.0.0/8, '::1', 'fd00::/8']\n", 'taskotron.yaml');
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.value!.bindAllow, ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
  const cfg = loadIngestConfig('[fedmsg]\nbind = tcp://0.0.0.0:9941\nbind_allow = 127.0.0.1, 192.168.0.0/16\n', 'trigger.cfg');
  assert.deepEqual(cfg.value!.bindAllow, ['127.0.0.1', '192.168.0.0/16']);
  const bad = loadIngestConfig("ingest:\n  sources:\n    fedmsg:\n      bind_allow: [127.0.0.1, relay.example.org, 10.0.0.0/33]\n", 'taskotron.yaml');
  assert.deepEqual(bad.errors.map(formatDiagnostic), [
    "taskotron.yaml:4:31: error: ingest.sources.fedmsg.bind_allow[1]: 'relay.example.org' is not an IP address or a network such as 10.0.0.0/8 or fd00::/8",
    "taskotron.yaml:4:50: error: ingest.sources.fedmsg.bind_allow[2]: '10.0.0.0/33' is not an IP address or a network such as 10.0.0.0/8 or fd00::/8",
  ]);
});
