// What `jobs list` asks Temporal and what a job's page says, stated exactly: filters become one
// visibility query (the text an operator can paste into the UI's search box), values stay data, and
// user metadata keeps untrusted message fields from becoming Markdown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobListQuery, literal, sinceDate } from '../../src/cli/jobs-view.js';
import type { JobInput, JobResult } from '../../src/common/job.js';
import { jobEndDetails, jobStartDetails, jobSummary } from '../../src/common/job-metadata.js';

const now = new Date('2026-12-01T12:00:00Z');

test('filters become one visibility query on the search attributes, values quoted as data', () => {
  assert.equal(jobListQuery({}, now), 'WorkflowType = "runJob"');
  assert.equal(
    jobListQuery({ task: 'rpmlint', item: 'foo-1.0-1.fc40', type: 'koji_build', arch: 'x86_64', outcome: 'failed', since: '3d' }, now),
    'WorkflowType = "runJob" AND TaskName = "rpmlint" AND Item = "foo-1.0-1.fc40" AND ItemType = "koji_build" AND Arch = "x86_64" AND JobOutcome = "FAILED" AND StartTime >= "2026-11-28T12:00:00.000Z"',
  );
  assert.equal(literal('a" OR TaskName = "x\\'), '"a\\" OR TaskName = \\"x\\\\"');
  assert.throws(() => jobListQuery({ outcome: 'GREEN' }, now), /--outcome 'GREEN': expected one of PASSED, INFO, FAILED/);
});

test('--since takes a duration back from now or a date, and names the option when it is neither', () => {
  assert.equal(sinceDate('90m', now).toISOString(), '2026-12-01T10:30:00.000Z');
  assert.equal(sinceDate('2h', now).toISOString(), '2026-12-01T10:00:00.000Z');
  assert.equal(sinceDate('2026-11-30', now).toISOString(), '2026-11-30T00:00:00.000Z');
  assert.equal(sinceDate('2026-11-30T08:00:00Z', now).toISOString(), '2026-11-30T08:00:00.000Z');
  assert.throws(() => sinceDate('yesterday', now), /--since 'yesterday': expected a duration back from now \(30m, 2h, 3d\) or a date/);
});

const input: JobInput = {
  task: 'rpmlint',
  source: { kind: 'git', repo: 'https://pagure.io/taskotron/task-rpmlint.git', ref: 'master' },
  item: 'foo-1.0-1.fc40',
  itemType: 'koji_build',
  arch: 'x86_64',
  uuid: 'u-1',
};

test('the summary says task, item and arch on one line; start details say who started it and from where', () => {
  assert.equal(jobSummary(input), '**rpmlint** on koji\\_build `foo-1.0-1.fc40` (x86\\_64)');
  const details = jobStartDetails(input, { kind: 'message', messageType: 'KojiBuildPackageCompleted', msgId: '2026-abc' });
  assert.match(details, /^- Started by: message KojiBuildPackageCompleted `2026-abc`$/m);
  assert.match(details, /^- Task source: \[https:\/\/pagure\.io\/taskotron\/task-rpmlint\.git\]\(https:\/\/pagure\.io\/taskotron\/task-rpmlint\.git\) at `master`$/m);
});

test('message fields stay text: no Markdown links, headings or code breaks smuggled into the page', () => {
  const hostile = { ...input, item: 'x`y\n# h', task: '[click](http://evil)' };
  assert.equal(jobSummary(hostile), "**\\[click\\](http://evil)** on koji\\_build `x'y # h` (x86\\_64)");
});

test('the end details lead with the outcome, then the reason, the actions with their logs, and the log tail', () => {
  const result: JobResult = {
    workflowId: 'w', uuid: 'u-1', task: 'rpmlint', item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64',
    outcome: 'CRASHED', exitCode: 1, reason: "action 'run': command 1 of 1 exited with 2", logTail: 'line 1\nboom',
    host: 'builder-1', hosts: [{ host: 'builder-1' }], artifacts: { host: 'builder-1', dir: '/srv/artifacts/u-1' },
    results: [], summary: 'CRASHED', warnings: [],
    actions: [{ index: 1, name: 'run', directive: 'shell', status: 'failed', durationMs: 1500, log: 'https://artifacts.example/u-1/taskotron/01-run.log' }],
  };
  assert.equal(
    jobEndDetails(result),
    [
      '## Outcome: CRASHED (not a success)',
      '',
      "Reason: action 'run': command 1 of 1 exited with 2",
      '',
      '| # | action | status | time | log |',
      '|---|---|---|---|---|',
      '| 1 | run (shell) | failed | 1.5 s | [01-run.log](https://artifacts.example/u-1/taskotron/01-run.log) |',
      '',
      'Last log lines:',
      '```',
      'line 1\nboom',
      '```',
      '',
      'host builder-1 · artifacts `builder-1:/srv/artifacts/u-1`',
    ].join('\n'),
  );
  assert.match(jobEndDetails({ ...result, outcome: 'PASSED', reason: undefined, logTail: undefined } as JobResult), /^## Outcome: PASSED$/m);
});
