// The reporting activity run for real (MockActivityEnvironment supplies the activity context and
// records heartbeats) against the test ResultsDB: what a job's results look like there, how a
// retried attempt avoids posting twice, and how each kind of failure reaches Temporal.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createReportingActivities, type ReportHeartbeat, type ReportInput, type ReportOutput } from '../../src/activities/report.js';
import { basicAuthFrom, parseOutcomeList, reportingConfigFromEnv, type ReportingConfig } from '../../src/results/config.js';
import { parseResultYaml } from '../../src/results/resultyaml.js';
import { startResultsDBServer, type ResultsDBTestServer } from '../support/resultsdb-server.js';
import { applicationFailure } from '../support/failure.js';

const RESULTS = `# what task-python-versions would write
results:
  - item: foo-1.0-1.fc40
    type: koji_build
    outcome: PASSED
    checkname: python-versions.two_three
    note: no problems
  - item: foo-1.0-1.fc40
    type: koji_build
    outcome: FAILED
    checkname: python-versions.naming_scheme
    note: 1 misnamed subpackage
    artifact: logs/naming.log
    scenario: fedora.rawhide
  - item: foo-1.0-1.fc40
    type: koji_build
    outcome: INFO
    checkname: python-versions.executables
    arch: [x86_64, noarch]
  - item: foo-1.0-1.fc40
    type: koji_build
    outcome: PASSED
    checkname: python-versions.requires
  - item: foo-1.0-1.fc40
    type: koji_build
    outcome: FAILED
`;
const TESTCASES = [
  'dist.python-versions.two_three',
  'dist.python-versions.naming_scheme',
  'dist.python-versions.executables',
  'dist.python-versions.requires',
  'dist.python-versions',
];

const EXECUTION = { workflowExecution: { workflowId: 'job-koji_build-foo-1.0-1.fc40-python-versions-x86_64', runId: 'run-1' }, workflowNamespace: 'default' };

function newJob(artifactsdir: string) {
  return {
    uuid: randomUUID(),
    task: 'python-versions',
    item: 'foo-1.0-1.fc40',
    itemType: 'koji_build',
    arch: 'x86_64',
    namespace: 'dist',
    taskRepo: 'https://pagure.io/taskotron/task-python-versions',
    artifactsdir,
  };
}

async function run(config: ReportingConfig, input: ReportInput, info: object = EXECUTION, heartbeats: ReportHeartbeat[] = []): Promise<ReportOutput> {
  // Failed attempts are expected here; the default logger would print each one.
  const env = new MockActivityEnvironment({ ...EXECUTION, ...info }, { logger: new DefaultLogger('ERROR') });
  env.on('heartbeat', (details: ReportHeartbeat) => heartbeats.push(structuredClone(details)));
  return env.run(createReportingActivities(config).reportResults, input);
}

const failure = (promise: Promise<unknown>) => applicationFailure(promise, 'the report');

describe('reporting to ResultsDB', () => {
  let server: ResultsDBTestServer;
  let config: ReportingConfig;
  let artifactsdir: string;
  before(async () => {
    server = await startResultsDBServer();
    config = {
      resultsdbUrl: server.url,
      namespaces: { safe: ['scratch'], whitelist: { dist: ['https://pagure.io/taskotron/'] } },
      artifactsBaseUrl: 'https://taskotron.example.org/artifacts/all',
      temporalUiUrl: 'http://temporal.example.org:8233',
    };
  });
  after(() => server.close());
  beforeEach(() => {
    artifactsdir = mkdtempSync(join(tmpdir(), 'taskotron-artifacts-'));
    mkdirSync(join(artifactsdir, 'logs'));
    writeFileSync(join(artifactsdir, 'logs', 'naming.log'), 'python2-foo is misnamed\n');
  });

  test("a job's results appear with testcase names, group, ref_urls and data", async () => {
    const job = newJob(artifactsdir);
    const before = server.storedPosts();
    const output = await run(config, { results: RESULTS, job });

    assert.equal(server.storedPosts() - before, 5);
    assert.equal(output.target, 'resultsdb');
    assert.equal(output.outcome, 'FAILED');
    assert.equal(output.summary, '2 PASSED, 1 INFO, 2 FAILED');
    assert.equal(output.skipped, 0);
    assert.deepEqual(output.reported.map((r) => r.testcase), TESTCASES);
    assert.ok(output.reported.every((r) => typeof r.id === 'number'));

    const base = `https://taskotron.example.org/artifacts/all/${job.uuid}`;
    const stored = server.results().filter((r) => (r.groups as string[]).includes(job.uuid));
    assert.deepEqual(
      stored.map((r) => ({ id: r.id, testcase: r.testcase, outcome: r.outcome, note: r.note, ref_url: r.ref_url, data: r.data })),
      [
        { id: output.reported[0]!.id, testcase: TESTCASES[0], outcome: 'PASSED', note: 'no problems', ref_url: base, data: { item: ['foo-1.0-1.fc40'], type: ['koji_build'], arch: ['x86_64'] } },
        {
          id: output.reported[1]!.id,
          testcase: TESTCASES[1],
          outcome: 'FAILED',
          note: '1 misnamed subpackage',
          ref_url: `${base}/logs/naming.log`,
          data: { item: ['foo-1.0-1.fc40'], type: ['koji_build'], arch: ['x86_64'], scenario: ['fedora.rawhide'] },
        },
        { id: output.reported[2]!.id, testcase: TESTCASES[2], outcome: 'INFO', note: null, ref_url: base, data: { item: ['foo-1.0-1.fc40'], type: ['koji_build'], arch: ['x86_64', 'noarch'] } },
        { id: output.reported[3]!.id, testcase: TESTCASES[3], outcome: 'PASSED', note: null, ref_url: base, data: { item: ['foo-1.0-1.fc40'], type: ['koji_build'], arch: ['x86_64'] } },
        { id: output.reported[4]!.id, testcase: TESTCASES[4], outcome: 'FAILED', note: null, ref_url: base, data: { item: ['foo-1.0-1.fc40'], type: ['koji_build'], arch: ['x86_64'] } },
      ],
    );

    const group = (await (await fetch(`${server.url}/groups/${job.uuid}`)).json()) as Record<string, unknown>;
    assert.equal(group.description, 'Taskotron job on koji_build foo-1.0-1.fc40');
    assert.equal(group.ref_url, `http://temporal.example.org:8233/namespaces/default/workflows/${EXECUTION.workflowExecution.workflowId}/run-1/history`);
    assert.equal(group.results_count, 5);
    const testcase = (await (await fetch(`${server.url}/testcases/dist.python-versions.two_three`)).json()) as Record<string, unknown>;
    assert.equal(testcase.ref_url, 'https://fedoraproject.org/wiki/Taskotron/Tasks/dist.python-versions.two_three');
  });

  test('a retried attempt after a crash posts nothing twice (heartbeat details + group lookup)', async () => {
    const job = newJob(artifactsdir);
    const before = server.storedPosts();
    // Attempt 1 posts two results; the third is stored but its answer never arrives.
    server.loseAnswers(1, 2);
    const heartbeats: ReportHeartbeat[] = [];
    const crash = await failure(run(config, { results: RESULTS, job }, { attempt: 1 }, heartbeats));
    assert.equal(crash.type, 'ResultsDBUnavailable');
    assert.equal(crash.nonRetryable, false);
    assert.equal(server.storedPosts() - before, 3);
    const lastBeat = heartbeats.at(-1)!;
    assert.equal(lastBeat.posted.length, 2, 'the two answered POSTs are in the heartbeat details');

    // Attempt 2 starts from those details, as Temporal hands them over (activityInfo().heartbeatDetails).
    const output = await run(config, { results: RESULTS, job }, { attempt: 2, heartbeatDetails: lastBeat });
    assert.equal(server.storedPosts() - before, 5, 'five results, each posted once');
    assert.equal(output.skipped, 3, 'two from the heartbeat details, one found in the group');
    const stored = server.results().filter((r) => (r.groups as string[]).includes(job.uuid));
    assert.deepEqual(stored.map((r) => r.testcase).sort(), [...TESTCASES].sort());
    assert.deepEqual(output.reported.map((r) => r.id).sort(), stored.map((r) => r.id).sort());
  });

  test('with heartbeat details for every result, a retry asks ResultsDB nothing at all', async () => {
    const job = newJob(artifactsdir);
    const heartbeats: ReportHeartbeat[] = [];
    const first = await run(config, { results: RESULTS, job }, {}, heartbeats);
    const requests = server.requests.length;
    const again = await run(config, { results: RESULTS, job }, { attempt: 2, heartbeatDetails: heartbeats.at(-1) });
    assert.equal(server.requests.length, requests);
    assert.deepEqual(again.reported, first.reported);
    assert.equal(again.skipped, 5);
  });

  test('a report repeated without heartbeat details (a reset workflow) finds its results in the group', async () => {
    const job = newJob(artifactsdir);
    const first = await run(config, { results: RESULTS, job });
    const posts = server.storedPosts();
    const again = await run(config, { results: RESULTS, job }, { workflowExecution: { ...EXECUTION.workflowExecution, runId: 'run-2' } });
    assert.equal(server.storedPosts(), posts, 'nothing posted again');
    assert.deepEqual(again.reported.map((r) => r.id), first.reported.map((r) => r.id));
  });

  test('ResultsDB answering 4xx fails the report without retry, with the server message', async () => {
    const job = newJob(artifactsdir);
    const lenient = { ...config, acceptedOutcomes: ['PASSED', 'ABORTED'] as const };
    const text = 'results:\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: ABORTED}\n';
    const refused = await failure(run(lenient, { results: text, job }));
    assert.equal(refused.type, 'ResultsDBRejected');
    assert.equal(refused.nonRetryable, true);
    assert.equal(refused.message, "outcome must be one of ('PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'CRASHED')");
    assert.deepEqual(refused.details, [{ status: 400, method: 'POST', url: `${server.url}/results` }]);
  });

  test('ResultsDB answering 5xx fails the attempt as retryable, saying why', async () => {
    server.outage(1_000);
    const unavailable = await failure(run(config, { results: RESULTS, job: newJob(artifactsdir) }));
    assert.equal(unavailable.type, 'ResultsDBUnavailable');
    assert.equal(unavailable.nonRetryable, false);
    assert.match(unavailable.message, /^ResultsDB is unavailable, will retry: GET .*\/api\/v2\.0\/ answered 503 Service Unavailable/);
    await new Promise((done) => setTimeout(done, 1_100));
  });

  test('invalid ResultYAML is refused before anything is posted, with line and path', async () => {
    const requests = server.requests.length;
    const text = 'results:\n  - item: foo-1.0-1.fc40\n    type: koji_build\n    outcome: passed\n  - item: foo-1.0-1.fc40\n    outcome: PASSED\n';
    const invalid = await failure(run(config, { results: text, job: newJob(artifactsdir) }));
    assert.equal(invalid.type, 'InvalidResultYaml');
    assert.equal(invalid.nonRetryable, true);
    assert.equal(
      invalid.message,
      [
        'invalid ResultYAML:',
        "<results>:4:14: error: results[0].outcome: 'passed' is not an outcome: use one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED — did you mean 'PASSED'?",
        "<results>:5:5: error: results[1].type: missing 'type': the item's type, e.g. koji_build or bodhi_update",
      ].join('\n'),
    );
    const details = invalid.details?.[0] as { diagnostics: { line: number; path: string }[] };
    assert.deepEqual(details.diagnostics.map((d) => [d.line, d.path]), [[4, 'results[0].outcome'], [5, 'results[1].type']]);
    assert.equal(server.requests.length, requests);
  });

  test('an artifact linked outside is refused without asking ResultsDB; an outcome it does not take, after reading its list', async () => {
    const requests = server.requests.length;
    const text = 'results:\n  - {item: a, type: koji_build, outcome: ABORTED}\n  - {item: a, type: koji_build, outcome: PASSED, artifact: escape}\n';
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/etc', join(artifactsdir, 'escape'));
    const invalid = await failure(run(config, { results: text, job: newJob(artifactsdir) }));
    assert.equal(invalid.type, 'InvalidResultYaml');
    assert.equal(
      invalid.message,
      "invalid ResultYAML:\n<results>:3:60: error: results[1].artifact: 'escape' resolves to /etc, outside the artifacts directory: only files in it are published",
    );
    assert.equal(server.requests.length, requests);

    const aborted = await failure(run(config, { results: 'results:\n  - {item: a, type: koji_build, outcome: ABORTED}\n', job: newJob(artifactsdir) }));
    assert.equal(aborted.type, 'InvalidResultYaml');
    assert.equal(
      aborted.message,
      `invalid ResultYAML:\n<results>:2:42: error: results[0].outcome: ResultsDB does not accept ABORTED: it takes PASSED, INFO, FAILED, NEEDS_INSPECTION, CRASHED (as listed by ${server.url}/)`,
    );
    // Only the landing page was read: nothing was posted.
    assert.deepEqual(server.requests.slice(requests).map((r) => `${r.method} ${r.path}`), ['GET /api/v2.0/']);
  });

  test('a task may not post into a namespace it is not whitelisted for; nothing is posted', async () => {
    const requests = server.requests.length;
    const job = { ...newJob(artifactsdir), taskRepo: 'https://github.com/someone/python-versions-fork' };
    const refused = await failure(run(config, { results: RESULTS, job }));
    assert.equal(refused.type, 'NamespaceNotAllowed');
    assert.equal(refused.nonRetryable, true);
    assert.equal(
      refused.message,
      "results[0]: task repository 'https://github.com/someone/python-versions-fork' may not post results into namespace 'dist' ('dist.python-versions.two_three'); allowed are: https://pagure.io/taskotron/; nothing was posted",
    );
    assert.equal(server.requests.length, requests);
    // The same task posting into scratch is fine.
    const scratch = await run(config, { results: RESULTS, job: { ...job, namespace: 'scratch' } });
    assert.equal(scratch.reported[0]?.testcase, 'scratch.python-versions.two_three');
  });

  test('results come from a file on the host; a missing file says so', async () => {
    const taskdir = mkdtempSync(join(tmpdir(), 'taskotron-task-'));
    writeFileSync(join(taskdir, 'out.yml'), RESULTS);
    const output = await run(config, { file: 'out.yml', job: { ...newJob(artifactsdir), taskdir } });
    assert.equal(output.reported.length, 5);
    const missing = await failure(run(config, { file: 'nothing.yml', job: { ...newJob(artifactsdir), taskdir } }));
    assert.equal(missing.type, 'ResultsFileMissing');
    assert.equal(missing.message, `cannot read the results file ${join(taskdir, 'nothing.yml')}: no such file (did the task write its results?)`);
    const both = await failure(run(config, { file: 'out.yml', results: RESULTS, job: newJob(artifactsdir) }));
    assert.equal(both.type, 'InvalidResultYaml');
  });
});

describe('reporting to a ResultsDB with its default settings (2.2.0: no ADDITIONAL_RESULT_OUTCOMES)', () => {
  let server: ResultsDBTestServer;
  let artifactsdir: string;
  const config = () => ({ resultsdbUrl: server.url, namespaces: { safe: ['scratch'], whitelist: {} } }) satisfies ReportingConfig;
  const job = () => ({ ...newJob(artifactsdir), namespace: 'scratch' });
  before(async () => {
    server = await startResultsDBServer({ additionalOutcomes: [] });
  });
  after(() => server.close());
  beforeEach(() => {
    artifactsdir = mkdtempSync(join(tmpdir(), 'taskotron-artifacts-'));
  });

  test('a CRASHED result is refused before the first POST: no result stored, no empty testcase created', async () => {
    const requests = server.requests.length;
    const text = 'results:\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: PASSED, checkname: first}\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: CRASHED, checkname: broken}\n';
    const refused = await failure(run(config(), { results: text, job: job() }));
    assert.equal(refused.type, 'InvalidResultYaml');
    assert.equal(refused.nonRetryable, true);
    assert.match(refused.message, new RegExp(`results\\[1\\]\\.outcome: ResultsDB does not accept CRASHED: it takes PASSED, INFO, FAILED, NEEDS_INSPECTION \\(as listed by ${server.url}/\\)`));
    assert.deepEqual(server.requests.slice(requests).map((r) => `${r.method} ${r.path} ${r.status}`), ['GET /api/v2.0/ 300']);
    assert.equal(server.storedPosts(), 0);
    // The real server would have refused it the same way: the stand-in answers POST CRASHED with 400.
    const direct = await fetch(`${server.url}/results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ testcase: 'x', outcome: 'CRASHED' }) });
    assert.equal(direct.status, 400);
    assert.deepEqual(await direct.json(), { message: "outcome must be one of ('PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION')" });
  });

  test('accepted outcomes pinned in the config win over the server list (and the server still has the last word)', async () => {
    const text = 'results:\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: PASSED}\n';
    const pinned = await run({ ...config(), acceptedOutcomes: ['PASSED'] }, { results: text, job: job() });
    assert.equal(pinned.reported[0]?.outcome, 'PASSED');
    const refused = await failure(run({ ...config(), acceptedOutcomes: ['FAILED'] }, { results: text, job: job() }));
    assert.match(refused.message, /ResultsDB does not accept PASSED: it takes FAILED \(resultsdb\.accepted_outcomes\)/);
  });

  test('two identical results in one ResultYAML are stored once; both answer with the same id', async () => {
    const before = server.storedPosts();
    const line = '  - {item: foo-1.0-1.fc40, type: koji_build, outcome: FAILED, note: same, checkname: twice}\n';
    const text = `results:\n${line}${line}  - {item: foo-1.0-1.fc40, type: koji_build, outcome: PASSED, checkname: once}\n${line}`;
    const heartbeats: ReportHeartbeat[] = [];
    const same = job();
    const output = await run(config(), { results: text, job: same }, EXECUTION, heartbeats);
    assert.equal(server.storedPosts() - before, 2);
    const ids = output.reported.map((r) => r.id);
    assert.equal(ids[0], ids[1]);
    assert.equal(ids[0], ids[3]);
    assert.notEqual(ids[0], ids[2]);
    assert.equal(output.skipped, 2);
    assert.deepEqual(heartbeats.at(-1)?.posted.map((r) => r.index).sort(), [0, 1, 2, 3]);
    // A retry with those heartbeats asks ResultsDB nothing.
    const requests = server.requests.length;
    const again = await run(config(), { results: text, job: same }, { heartbeatDetails: heartbeats.at(-1) });
    assert.deepEqual(again.reported.map((r) => r.id), ids);
    assert.equal(server.requests.length, requests);
  });

  test('with basic auth configured, every request carries it; without, the proxy refuses the first write and nothing is stored', async () => {
    const guarded = await startResultsDBServer({ additionalOutcomes: [], auth: { username: 'taskotron', password: 's3cret' } });
    try {
      const text = 'results:\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: PASSED}\n';
      const refused = await failure(run({ ...config(), resultsdbUrl: guarded.url }, { results: text, job: job() }));
      assert.equal(refused.type, 'ResultsDBRejected');
      assert.equal(refused.nonRetryable, true);
      assert.match(refused.message, /^POST .*\/testcases answered 401 Unauthorized without credentials \(set resultsdb\.username and resultsdb\.password_file\)$/);
      assert.equal(guarded.storedPosts(), 0);

      const dir = mkdtempSync(join(tmpdir(), 'taskotron-secret-'));
      writeFileSync(join(dir, 'password'), 's3cret\n');
      const auth = basicAuthFrom('taskotron', join(dir, 'password'));
      const output = await run({ ...config(), resultsdbUrl: guarded.url, auth }, { results: text, job: job() });
      assert.equal(output.reported[0]?.id, 1);
      assert.equal(guarded.storedPosts(), 1);
      assert.throws(() => basicAuthFrom('taskotron', undefined), /needs both resultsdb\.username .* and resultsdb\.password_file/);
      assert.throws(() => basicAuthFrom('taskotron', join(dir, 'nothing')), /resultsdb\.password_file: cannot read .*nothing/);
    } finally {
      await guarded.close();
    }
  });

  test("a local run's group links its artifacts, not the Temporal UI of a server that is gone", async () => {
    const text = 'results:\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: PASSED}\n';
    const local = job();
    await run({ ...config(), groupLink: 'artifacts' }, { results: text, job: local });
    const group = (await (await fetch(`${server.url}/groups/${local.uuid}`)).json()) as { ref_url: string };
    assert.equal(group.ref_url, `file://${artifactsdir}/`);
    const served = job();
    await run({ ...config(), groupLink: 'artifacts', artifactsBaseUrl: 'http://127.0.0.1:8080/' }, { results: text, job: served });
    const linked = (await (await fetch(`${server.url}/groups/${served.uuid}`)).json()) as { ref_url: string };
    assert.equal(linked.ref_url, `http://127.0.0.1:8080/${served.uuid}/`);
  });

  test('accepted outcomes and auth come from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-secret-'));
    writeFileSync(join(dir, 'pw'), 'hunter2');
    const env = { TASKOTRON_RESULTSDB_URL: server.url, TASKOTRON_RESULTSDB_USERNAME: 'bot', TASKOTRON_RESULTSDB_PASSWORD_FILE: join(dir, 'pw'), TASKOTRON_RESULTSDB_ACCEPTED_OUTCOMES: 'PASSED, FAILED,CRASHED' };
    const loaded = reportingConfigFromEnv(env);
    assert.deepEqual(loaded.auth, { username: 'bot', password: 'hunter2' });
    assert.deepEqual(loaded.acceptedOutcomes, ['PASSED', 'FAILED', 'CRASHED']);
    assert.throws(() => parseOutcomeList('PASSED,GREAT'), /resultsdb\.accepted_outcomes: GREAT is not an outcome/);
  });
});

describe('the development default: no ResultsDB configured', () => {
  test('results go to ${artifactsdir}/taskotron/results.yml and into the activity result, once', async () => {
    const artifactsdir = mkdtempSync(join(tmpdir(), 'taskotron-artifacts-'));
    const job = newJob(artifactsdir);
    const output = await run({}, { results: RESULTS, job });
    const file = join(artifactsdir, 'taskotron', 'results.yml');
    assert.equal(output.target, 'file');
    assert.equal(output.file, file);
    assert.equal(output.summary, '2 PASSED, 1 INFO, 2 FAILED');
    assert.deepEqual(output.reported.map((r) => r.testcase), TESTCASES);
    assert.ok(output.reported.every((r) => r.id === undefined && r.refUrl === undefined));
    assert.deepEqual(output.warnings, [`<results>:13:15: warning: results[1].artifact: artifact 'logs/naming.log' does not exist: the result links the job's artifacts instead`]);

    const written = parseResultYaml(readFileSync(file, 'utf8'));
    assert.deepEqual(written.value?.results.map((r) => r.checkname), ['python-versions.two_three', 'python-versions.naming_scheme', 'python-versions.executables', 'python-versions.requires', 'python-versions']);

    // A retried step does not double them; a second resultsdb action's new results are appended.
    await run({}, { results: RESULTS, job });
    const more = 'results:\n  - {item: bar-1-1.fc40, type: koji_build, outcome: PASSED, checkname: other}\n';
    const second = await run({}, { results: more, job });
    assert.equal(second.skipped, 0);
    assert.equal(parseResultYaml(readFileSync(file, 'utf8')).value?.results.length, 6);
  });
});
