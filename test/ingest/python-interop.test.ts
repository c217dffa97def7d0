// Interop with the real client: Python's fedmsg (from PyPI, installed by the test into .cache/)
// publishes X.509-signed messages, as an active publisher on a loopback endpoint, and ingest running
// the real 2018 production rules (rendered from the corpus) with signature validation starts exactly
// the expected workflows. Unsigned and revoked-certificate messages start nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { signatureVerifier } from '../../src/bus/signatures.js';
import type { TriggerResult } from '../../src/workflows/trigger.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { corpusMessage, renderedCorpusRules } from './corpus.js';
import { ensurePythonFedmsg } from './python-fedmsg.js';
import { scratchDir, startTestIngest, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';
import { makeTestCa, type TestCa } from './test-ca.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./fedmsg_publish.py', import.meta.url));

let client: Client;
let close: () => Promise<void>;
let python: string;
let ca: TestCa;
before(async () => {
  quietRuntime();
  python = await ensurePythonFedmsg((line) => console.error(`# ${line}`));
  ca = makeTestCa();
  ({ client, close } = await testClient());
});
after(async () => {
  await close();
  rmSync(ca.dir, { recursive: true, force: true });
});

async function pythonPublish(endpoint: string, certname: string | undefined, messages: Array<{ modname: string; topic: string; msg: unknown }>): Promise<string[]> {
  const file = join(scratchDir('fedmsg-messages'), 'messages.json');
  writeFileSync(file, JSON.stringify(messages));
  const { stdout } = await run(python, [script, endpoint, certname ? ca.dir : '-', certname ?? 'none', file], { timeout: 60_000 });
  return stdout.trim().split('\n');
}

test('messages published by Python fedmsg (signed) start exactly the workflows the production rules ask for', { timeout: 300_000 }, async () => {
  const build = corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg as Record<string, unknown>;
  const started = corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeStart.json').msg;
  const tag = { ...(corpusMessage('buildsys.tag__TestKojiBuildTag.json').msg as Record<string, unknown>), tag: 'f40-updates-testing-pending' };
  const ingest = await startTestIngest(renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2'), { validArches: ['x86_64'] }, {
    verify: signatureVerifier({ caFile: ca.caFile, crlFile: ca.crlFile }),
  });
  try {
    const [buildId, startedId, tagId] = await pythonPublish(ingest.endpoint, 'koji01', [
      { modname: 'buildsys', topic: 'build.state.change', msg: build },
      { modname: 'buildsys', topic: 'build.state.change', msg: started },
      { modname: 'buildsys', topic: 'tag', msg: tag },
    ]);
    const [unsignedId] = await pythonPublish(ingest.endpoint, undefined, [{ modname: 'buildsys', topic: 'build.state.change', msg: { ...build, name: 'unsigned' } }]);
    const [revokedId] = await pythonPublish(ingest.endpoint, 'bodhi01', [{ modname: 'buildsys', topic: 'build.state.change', msg: { ...build, name: 'revoked' } }]);
    await until('all five messages to arrive', () => ingest.service.stats().received === 5, INGEST_WAIT_MS);
    await until('two trigger workflows to start', () => ingest.service.stats().started === 2, INGEST_WAIT_MS);
    const stats = ingest.service.stats();
    assert.equal(stats['rejected.bad-signature'], 2, 'the unsigned and the revoked one');
    assert.equal(stats.ignored, 1, 'a build that only started');
    assert.match(ingest.logs.join('\n'), new RegExp(`${unsignedId}: unsigned`));
    assert.match(ingest.logs.join('\n'), new RegExp(`${revokedId}: certificate serial 1002 is revoked`));

    const buildTrigger: TriggerResult = await client.workflow.getHandle(`msg-${buildId}`).result();
    assert.deepEqual(buildTrigger.jobs.map((j) => j.workflowId), ['python-versions', 'rpmgrill', 'rpmlint', 'abicheck'].map((t) => `msg-${buildId}/${t}/x86_64`));
    const tagTrigger: TriggerResult = await client.workflow.getHandle(`msg-${tagId}`).result();
    assert.deepEqual(tagTrigger.jobs.map((j) => j.workflowId), [`msg-${tagId}/rpmdeplint/x86_64`]);
    for (const id of [...buildTrigger.jobs, ...tagTrigger.jobs].map((j) => j.workflowId)) await client.workflow.getHandle(id).result();
    for (const id of [startedId, unsignedId, revokedId]) await assert.rejects(client.workflow.getHandle(`msg-${id}`).describe(), /not found/);

    // Exactly these: the trigger and job workflows on this test's queue, nothing else.
    let count = 0;
    for await (const w of client.workflow.list({ query: `TaskQueue = "${ingest.queue}"` })) {
      assert.ok([buildId, tagId].some((id) => w.workflowId.startsWith(`msg-${id}`)), w.workflowId);
      count++;
    }
    assert.equal(count, 2 + 5);
  } finally {
    await ingest.service.stop();
  }
});
