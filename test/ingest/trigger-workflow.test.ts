// One trigger workflow per matched message, on a real Temporal server: its ID comes from msg_id, its
// children's IDs from msg_id + task + arch, both carry the search attributes, and the same message
// published twice (also to a freshly restarted ingest, whose in-memory filter is empty) starts
// nothing new: Temporal's workflow ID is the guard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import type { JobInput } from '../../src/common/job.js';
import { Arch, Item, ItemType, MessageType, MsgId, TaskName } from '../../src/common/search-attributes.js';
import type { TriggerResult } from '../../src/workflows/trigger.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { corpusEnvelope, renderedCorpusRules } from './corpus.js';
import { publishTo, scratchDir, startTestIngest, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';
import { FedmsgPublisher } from '../../src/bus/fedmsg.js';

let client: Client;
let close: () => Promise<void>;
before(async () => {
  quietRuntime();
  ({ client, close } = await testClient());
});
after(async () => close());

const rules = renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2');

test('a Koji build message starts one trigger and eight jobs with deterministic IDs and search attributes; a duplicate starts nothing', { timeout: 90_000 }, async () => {
  const msgId = `2026-${crypto.randomUUID()}`;
  const build = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', msgId);
  const stateDir = scratchDir('ingest-dedup');
  const first = await startTestIngest(rules, {}, { stateDir });
  let trigger: TriggerResult;
  let inputs: JobInput[];
  try {
    await publishTo(first.endpoint, [build, build]);
    await until('the trigger workflow to start', () => first.service.stats().started === 1, INGEST_WAIT_MS);
    trigger = await client.workflow.getHandle(`msg-${msgId}`).result();
    assert.equal(first.service.stats().duplicate, 1, 'the in-memory filter caught the redelivery');
    // The stand-in jobs run on this ingest's worker: let them finish before it stops.
    inputs = await Promise.all(trigger.jobs.map((j) => client.workflow.getHandle(j.workflowId).result() as Promise<JobInput>));
  } finally {
    await first.service.stop();
  }
  const tasks = ['python-versions', 'rpmgrill', 'rpmlint', 'abicheck'];
  assert.deepEqual(
    trigger.jobs.map((j) => j.workflowId),
    tasks.flatMap((t) => [`msg-${msgId}/${t}/x86_64`, `msg-${msgId}/${t}/armhfp`]),
  );
  assert.ok(trigger.jobs.every((j) => j.started));

  const description = await client.workflow.getHandle(`msg-${msgId}`).describe();
  assert.equal(description.typedSearchAttributes.get(MsgId), msgId);
  assert.equal(description.typedSearchAttributes.get(MessageType), 'KojiBuildPackageCompleted');

  const rpmlint = client.workflow.getHandle(`msg-${msgId}/rpmlint/armhfp`);
  const input = inputs[5]!;
  assert.equal(input.task, 'rpmlint');
  assert.equal(input.arch, 'armhfp');
  assert.equal(input.item, 'ansible-1.8.3-1.el7');
  assert.equal(input.itemType, 'koji_build');
  // The default task_repo: a directory on the runners, as the original's was a local mirror.
  assert.deepEqual(input.source, { kind: 'local', path: '/var/lib/taskotron/tasks/rpmlint' });
  assert.equal(input.trigger?.msgId, msgId);
  assert.equal(input.trigger?.messageType, 'KojiBuildPackageCompleted');
  assert.match(input.uuid, /^[0-9a-f-]{36}$/);
  const child = await rpmlint.describe();
  const attrs = [TaskName, Item, ItemType, Arch, MessageType, MsgId].map((key) => child.typedSearchAttributes.get(key));
  assert.deepEqual(attrs, [
    'rpmlint', 'ansible-1.8.3-1.el7', 'koji_build', 'armhfp', 'KojiBuildPackageCompleted', msgId,
  ]);
  // The job's page in the UI says what it is and which message started it (user metadata).
  assert.equal(await child.staticSummary(), '**rpmlint** on koji\\_build `ansible-1.8.3-1.el7` (armhfp)');
  assert.match((await child.staticDetails())!, new RegExp(`^- Started by: message KojiBuildPackageCompleted \`${msgId}\`$`, 'm'));

  // A restarted ingest has an empty in-memory filter: the same message reaches Temporal, which refuses it.
  const second = await startTestIngest(rules, {}, { stateDir, queue: first.queue });
  try {
    await publishTo(second.endpoint, [build]);
    await until('Temporal to refuse the duplicate', () => second.service.stats()['already-started'] === 1, INGEST_WAIT_MS);
    assert.equal(second.service.stats().started ?? 0, 0);
  } finally {
    await second.service.stop();
  }
  await until('visibility to list the trigger and its 8 jobs', async () => {
    let n = 0;
    for await (const _ of client.workflow.list({ query: `MsgId = "${msgId}"` })) n++;
    return n === 9;
  }, INGEST_WAIT_MS);
  let runs = 0;
  for await (const _ of client.workflow.list({ query: `MsgId = "${msgId}"` })) runs++;
  assert.equal(runs, 9, 'one trigger + 8 jobs, nothing twice');
});

test('a running ingest drops a topic it does not handle without parsing it, and still parses the ones it does', { timeout: 60_000 }, async () => {
  const ingest = await startTestIngest(rules, {}, { worker: false });
  const publisher = await FedmsgPublisher.open({ connect: ingest.endpoint });
  try {
    assert.ok(await publisher.waitForSubscriber(10_000), 'ingest subscribed');
    // The same broken body on both: only the handled topic's is read (src/bus/envelope.ts, decodeFrames).
    await publisher.send('org.fedoraproject.prod.fas.user.create', '{"topic": ');
    await publisher.send('org.fedoraproject.prod.buildsys.tag', '{"topic": ');
    await until(() => `both messages received: ${JSON.stringify(ingest.service.stats())}`, () => ingest.service.stats().received === 2, INGEST_WAIT_MS);
    assert.equal(ingest.service.stats()['rejected.unknown-topic'], 1);
    assert.equal(ingest.service.stats()['rejected.not-json'], 1);
  } finally {
    await publisher.close();
    await ingest.service.stop();
  }
});

test('noarch rules start one arch-independent job on the first valid arch\'s pool', { timeout: 60_000 }, async () => {
  const msgId = `2026-${crypto.randomUUID()}`;
  const tag = corpusEnvelope('buildsys.tag__TestKojiBuildTag.json', msgId);
  const ingest = await startTestIngest("- when: {message_type: KojiTagChanged}\n  do: [{tasks: [rpmdeplint], arches: [noarch]}]\n");
  try {
    await publishTo(ingest.endpoint, [tag]);
    await until('the trigger to start', () => ingest.service.stats().started === 1, INGEST_WAIT_MS);
    const result: TriggerResult = await client.workflow.getHandle(`msg-${msgId}`).result();
    assert.deepEqual(result.jobs.map((j) => j.workflowId), [`msg-${msgId}/rpmdeplint/noarch`]);
    const input = (await client.workflow.getHandle(`msg-${msgId}/rpmdeplint/noarch`).result()) as JobInput;
    assert.equal(input.pool, 'runner-x86_64');
    assert.equal(input.item, 'f18-updates-testing-pending');
    assert.equal(input.itemType, 'koji_tag');
  } finally {
    await ingest.service.stop();
  }
});

test('discover: the package\'s own repository is searched (fallback branch, recursive) and each formula becomes a job', { timeout: 60_000 }, async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const repos = scratchDir('discover-repos');
  const repo = join(repos, 'rpms', 'ansible');
  mkdirSync(join(repo, 'tests', 'smoke'), { recursive: true });
  writeFileSync(join(repo, 'runtask.yml'), 'name: ansible-root\n');
  writeFileSync(join(repo, 'tests', 'smoke', 'runtask.yml'), 'name: ansible-smoke\n');
  writeFileSync(join(repo, 'ansible.spec'), 'Name: ansible\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
  git('init', '--quiet', '--initial-branch', 'master');
  git('add', '.');
  git('commit', '--quiet', '-m', 'tests');
  const commit = git('rev-parse', 'HEAD').toString().trim();

  const msgId = `2026-${crypto.randomUUID()}`;
  const build = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', msgId);
  const ingest = await startTestIngest(
    `- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - {discover: {repo: '${repos}/rpms/\${name}', branch: '\${distgit_branch}', fallback_branch: master, recursive: true}, arches: [x86_64]}\n    - {discover: {repo: '${repos}/rpms/no-such-package'}}\n`,
  );
  try {
    await publishTo(ingest.endpoint, [build]);
    await until('the trigger to start', () => ingest.service.stats().started === 1, INGEST_WAIT_MS);
    const result: TriggerResult = await client.workflow.getHandle(`msg-${msgId}`).result();
    assert.deepEqual(result.discovered[0], { repo: `${repos}/rpms/ansible`, branch: 'master', commit, formulas: ['runtask.yml', 'tests/smoke/runtask.yml'] });
    assert.equal(result.discovered[1]?.formulas.length, 0);
    assert.match(result.discovered[1]?.note ?? '', /no such repository/);
    assert.deepEqual(result.jobs.map((j) => j.workflowId), [`msg-${msgId}/ansible/x86_64`, `msg-${msgId}/ansible/tests/smoke/x86_64`]);
    const input = (await client.workflow.getHandle(`msg-${msgId}/ansible/tests/smoke/x86_64`).result()) as JobInput;
    assert.deepEqual(input.source, { kind: 'git', repo: `${repos}/rpms/ansible`, ref: commit });
    assert.equal(input.formula, 'tests/smoke/runtask.yml');
  } finally {
    await ingest.service.stop();
  }
});
