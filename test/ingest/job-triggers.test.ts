// JobTriggers on the real fedmsg samples in ../shared/corpus/fedmsg: which messages start jobs, and
// the exact trigger data each yields (the fields the real trigger_rules.yml files match on).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveTriggerData, distgitBranch } from '../../src/ingest/job-triggers.js';
import { envelopesFromJson, type Envelope } from '../../src/bus/envelope.js';
import { corpusEnvelope, corpusMessage, corpusMessageFiles } from './corpus.js';

const expected: Record<string, unknown> = {
  'bodhi.update.request.testing__TestBodhiRequestTesting.json': undefined,
  'buildsys.build.state.change__TestKojiBuildStateChangeComplete.json': {
    data: {
      message_type: 'KojiBuildPackageCompleted',
      item: 'ansible-1.8.3-1.el7',
      item_type: 'koji_build',
      name: 'ansible',
      version: '1.8.3',
      release: '1.el7',
      build_id: 612324,
      owner: 'kevin',
      instance: 'primary',
      distgit_branch: 'epel7',
      critpath_pkgs: ['ansible', 'bash'],
    },
  },
  'buildsys.build.state.change__TestKojiBuildStateChangeFail.json': { ignored: 'build state FAILED is not COMPLETE' },
  'buildsys.build.state.change__TestKojiBuildStateChangeStart.json': { ignored: 'build state BUILDING is not COMPLETE' },
  'buildsys.build.state.change__signed_datagrepper_04.json': { ignored: 'build state BUILDING is not COMPLETE' },
  'buildsys.tag__TestKojiBuildTag.json': {
    data: { message_type: 'KojiTagChanged', item: 'f18-updates-testing-pending', item_type: 'koji_tag', tag: 'f18-updates-testing-pending', name: 'stage', nvr: 'stage-4.1.1-3.fc18' },
  },
  'buildsys.untag__TestKojiBuildUnTag.json': undefined,
  'git.receive__TestSCM.json': {
    data: {
      message_type: 'DistGitCommit',
      item: 'rpms/valgrind#7a98f80d9b61ce167e4ef8129c81ed9284ecf4e1',
      item_type: 'dist_git_commit',
      namespace: 'rpms',
      repo: 'valgrind',
      name: 'valgrind',
      branch: 'master',
      distgit_branch: 'master',
      rev: '7a98f80d9b61ce167e4ef8129c81ed9284ecf4e1',
    },
  },
  'git.receive__TestSCMWithNamespace.json': {
    data: {
      message_type: 'DistGitCommit',
      item: 'rpms/valgrind#7a98f80d9b61ce167e4ef8129c81ed9284ecf4e1',
      item_type: 'dist_git_commit',
      namespace: 'rpms',
      repo: 'valgrind',
      name: 'valgrind',
      branch: 'master',
      distgit_branch: 'master',
      rev: '7a98f80d9b61ce167e4ef8129c81ed9284ecf4e1',
    },
  },
  'github.pull_request.closed__TestGithubPullRequestClosed.json': undefined,
  'mbs.module.state.change__TestModuleBuildStateChange.json': { ignored: "module build state 'wait' is not 'ready'" },
  'pagure.git.receive__TestGitCommit.json': {
    data: {
      message_type: 'PagureGitReceive',
      item: 'pagure.io/pagure#master#edc02fbb423d3957d174c571896418f29fa169b8',
      item_type: 'git_commit',
      repo: 'pagure',
      branch: 'master',
      rev: 'edc02fbb423d3957d174c571896418f29fa169b8',
    },
  },
  'pungi.compose.status.change__TestPungiKojiComplete.json': {
    data: {
      message_type: 'CloudCompose',
      item: 'http://kojipkgs.fedoraproject.org/compose//rawhide/Fedora-24-20151208.n.7/compose',
      item_type: 'compose',
      compose_id: 'Fedora-24-20151208.n.7',
      compose_status: 'FINISHED',
    },
  },
  'pungi.compose.status.change__TestPungiKojiStart.json': { ignored: "compose status 'STARTED' is not FINISHED" },
  'taskotron.result.new__TestTaskotronResultNew.json': undefined,
};

test('every corpus message yields the expected trigger data, a reason to ignore it, or no JobTrigger', () => {
  assert.deepEqual(corpusMessageFiles(), Object.keys(expected).sort(), 'the table covers the whole corpus');
  for (const file of corpusMessageFiles()) {
    const [envelope] = envelopesFromJson(corpusMessage(file)) as [Record<string, unknown>];
    const outcome = deriveTriggerData({ msg_id: 'x', timestamp: 0, ...envelope } as Envelope, { critpathPkgs: ['ansible', 'bash'] });
    assert.deepEqual(outcome, expected[file], file);
  }
});

// The corpus has no sample of these; each is the nearest real sample with the one field changed that
// makes it the firing kind, so the rest of the payload stays real.
function field(outcome: ReturnType<typeof deriveTriggerData>, name: string): unknown {
  assert.ok(outcome && 'data' in outcome, JSON.stringify(outcome));
  return outcome.data[name];
}

test('variants of real samples: completed container build, opened PR, ready module, Atomic compose, pagure fork', () => {
  const build = corpusEnvelope('buildsys.build.state.change__signed_datagrepper_04.json');
  const container = { ...build, msg: { ...build.msg, new: 1, request: ['git://pkgs.fedoraproject.org/container/cockpit#abc', 'f26-container', {}] } };
  assert.equal(field(deriveTriggerData(container), 'message_type'), 'KojiBuildDockerCompleted');
  const module = { ...build, msg: { ...build.msg, new: 1 } };
  assert.equal(field(deriveTriggerData(module), 'distgit_branch'), 'master', 'a module build has no dist tag');

  const pr = corpusEnvelope('github.pull_request.closed__TestGithubPullRequestClosed.json');
  const opened = { ...pr, topic: 'org.fedoraproject.prod.github.pull_request.opened', msg: { ...pr.msg, action: 'opened' } };
  assert.deepEqual(deriveTriggerData(opened), {
    data: {
      message_type: 'GitHubPullRequestOpened',
      item: 'https://github.com/fedora-infra/github2fedmsg/pull/6',
      item_type: 'pull_request',
      repo_name: 'fedora-infra/github2fedmsg',
      number: 6,
      branch: 'develop',
      rev: '54c80f816ed992a3a43c823e11cfce0a69f64d6d',
    },
  });

  const mbs = corpusEnvelope('mbs.module.state.change__TestModuleBuildStateChange.json');
  assert.deepEqual(deriveTriggerData({ ...mbs, msg: { ...mbs.msg, state: 5, state_name: 'ready' } }), {
    data: { message_type: 'ModuleBuildComplete', item: 'testmodule-master-20161115001755', item_type: 'module_build', name: 'testmodule', stream: 'master', version: '20161115001755', module_build_id: 2 },
  });

  const compose = corpusEnvelope('pungi.compose.status.change__TestPungiKojiComplete.json');
  const atomic = { ...compose, msg: { ...compose.msg, compose_id: 'Fedora-Atomic-26-20170905.0' } };
  assert.equal(field(deriveTriggerData(atomic), 'message_type'), 'AtomicCompose');

  const push = corpusEnvelope('pagure.git.receive__TestGitCommit.json');
  const fork = { ...push, msg: { ...push.msg, repo: { ...(push.msg.repo as object), fullname: 'forks/pingou/pagure' } } };
  assert.equal(field(deriveTriggerData(fork), 'repo'), 'forks/pingou/pagure');
});

test('dist tags map to dist-git branches', () => {
  assert.equal(distgitBranch('1.fc25'), 'f25');
  assert.equal(distgitBranch('1.fc41', 41), 'master');
  assert.equal(distgitBranch('3.el7'), 'epel7');
  assert.equal(distgitBranch('3.el6'), 'el6');
  assert.equal(distgitBranch('2.module_bd16c34d'), 'master');
});
