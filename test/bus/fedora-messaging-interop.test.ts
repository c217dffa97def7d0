// Interop with the real client: Python's fedora-messaging (from PyPI, installed by the test into
// .cache/) publishes to the harness's RabbitMQ (TASKOTRON_TEST_AMQP_URL) as Fedora's publishers do
// (topic_prefix org.fedoraproject.prod), real bodies from the corpus; ingest consuming its durable
// queue with the real 2018 production rules starts exactly the workflows those rules ask for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { DEFAULT_CONFIG } from '../../src/ingest/config.js';
import type { TriggerResult } from '../../src/workflows/trigger.js';
import { consumers, queueDepth, testAmqpUrl } from '../support/amqp.js';
import { corpusDir } from '../support/corpus.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient, uniqueName } from '../support/temporal.js';
import { corpusMessage, renderedCorpusRules } from '../ingest/corpus.js';
import { ensurePythonFedoraMessaging } from '../ingest/python-fedora-messaging.js';
import { scratchDir, startTestIngest, INGEST_WAIT_MS } from '../ingest/support.js';
import { until } from '../support/until.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../ingest/fedora_messaging_publish.py', import.meta.url));

let client: Client;
let close: () => Promise<void>;
let python: string;
before(async () => {
  quietRuntime();
  python = await ensurePythonFedoraMessaging((line) => console.error(`# ${line}`));
  ({ client, close } = await testClient());
});
after(async () => close());

const fedoraMessagingSample = (file: string) => JSON.parse(readFileSync(join(corpusDir, 'fedora-messaging', file), 'utf8')) as { topic: string; body: Record<string, unknown> };

async function pythonPublish(messages: Array<{ topic: string; body: unknown; severity?: number }>): Promise<string[]> {
  const file = join(scratchDir('fedora-messaging'), 'messages.json');
  writeFileSync(file, JSON.stringify(messages));
  const { stdout } = await run(python, [script, testAmqpUrl(), 'org.fedoraproject.prod', file], { timeout: 120_000 });
  return stdout.trim().split('\n');
}

test('messages published by Python fedora-messaging start exactly the workflows the production rules ask for', { timeout: 300_000 }, async () => {
  const queue = uniqueName('fm-interop');
  const ingest = await startTestIngest(renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2'), {
    validArches: ['x86_64'],
    sources: ['amqp'],
    amqp: { ...DEFAULT_CONFIG.amqp, url: testAmqpUrl(), queue, bindings: ['org.fedoraproject.prod.buildsys.#', 'org.fedoraproject.prod.pagure.#'], tls: {} },
  });
  try {
    await until('ingest to consume', async () => (await consumers(queue)) === 1, 60_000);
    // The fedmsg-era body of a completed build is what koji's AMQP plugin still sends (reference §4.5).
    const complete = corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg;
    const canceled = fedoraMessagingSample('buildsys.build.state.change__v2id_canceled_2025-11-17.json').body;
    const tagged = { ...fedoraMessagingSample('buildsys.tag__side_tag_2024-06-20.json').body, tag: 'f40-updates-testing-pending' };
    const fork = fedoraMessagingSample('pagure.git.receive__fork_push_2024-02-08.json').body;
    const [buildId, canceledId, tagId, forkId] = await pythonPublish([
      { topic: 'buildsys.build.state.change', body: complete },
      { topic: 'buildsys.build.state.change', body: canceled },
      { topic: 'buildsys.tag', body: tagged, severity: 10 },
      { topic: 'pagure.git.receive', body: fork },
    ]);
    await until('all four to arrive', () => ingest.service.stats()['received.amqp'] === 4, INGEST_WAIT_MS);
    await until('two trigger workflows to start', () => ingest.service.stats().started === 2, INGEST_WAIT_MS);
    await until('every delivery settled', () => ingest.service.stats()['amqp.unacked'] === 0, INGEST_WAIT_MS);
    const stats = ingest.service.stats();
    assert.equal(stats.ignored, 1, `a canceled build starts nothing: ${JSON.stringify(stats)}`);

    const buildTrigger: TriggerResult = await client.workflow.getHandle(`msg-${buildId}`).result();
    assert.deepEqual(buildTrigger.jobs.map((j) => j.workflowId), ['python-versions', 'rpmgrill', 'rpmlint', 'abicheck'].map((t) => `msg-${buildId}/${t}/x86_64`));
    const tagTrigger: TriggerResult = await client.workflow.getHandle(`msg-${tagId}`).result();
    assert.deepEqual(tagTrigger.jobs.map((j) => j.workflowId), [`msg-${tagId}/rpmdeplint/x86_64`]);
    for (const id of [canceledId, forkId]) await assert.rejects(client.workflow.getHandle(`msg-${id}`).describe(), /not found/);
    assert.equal((await queueDepth(queue)).ready, 0);
  } finally {
    await ingest.service.stop();
  }
});
