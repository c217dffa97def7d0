// The production trigger.cfg loads as deployed (INI with `;` inline comments), and our own sections
// sit beside it; bad values are reported with file:line and the key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
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
