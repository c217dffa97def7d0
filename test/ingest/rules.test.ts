// trigger_rules.yml: the real production files from the corpus (rendered as Ansible deployed them)
// load cleanly and decide what they decided; every operator; invalid files report file:line:column
// and the path of the offending key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { deriveTriggerData, type TriggerData } from '../../src/ingest/job-triggers.js';
import { evaluateRule, planJobs } from '../../src/ingest/evaluate.js';
import { loadRules, looksLikeTriggerRules, type RuleSet } from '../../src/ingest/rules.js';
import { corpusEnvelope, renderedCorpusRules } from './corpus.js';

function load(text: string, file = 'rules.yml'): RuleSet {
  const result = loadRules(text, file);
  assert.deepEqual(result.errors.map(formatDiagnostic), []);
  return result.value!;
}

function dataOf(file: string, critpathPkgs: string[] = []): TriggerData {
  const outcome = deriveTriggerData(corpusEnvelope(file), { critpathPkgs });
  assert.ok(outcome && 'data' in outcome, file);
  return outcome.data;
}

const jobs = (rules: RuleSet, data: TriggerData, validArches = ['x86_64', 'armhfp']) =>
  planJobs(rules, data, { validArches }).tasks.map((t) => `${t.task}/${t.arch}`);

test('the 2018 production rules: a Koji build gets rpmlint, rpmgrill, python-versions and abicheck on both arches', () => {
  const rules = load(renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2'));
  assert.equal(rules.rules.length, 5);
  const build = dataOf('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json');
  assert.deepEqual(jobs(rules, build), [
    'python-versions/x86_64', 'python-versions/armhfp', 'rpmgrill/x86_64', 'rpmgrill/armhfp',
    'rpmlint/x86_64', 'rpmlint/armhfp', 'abicheck/x86_64', 'abicheck/armhfp',
  ]);
  // The blacklist: a kernel build gets no abicheck.
  assert.deepEqual(jobs(rules, { ...build, name: 'kernel' }, ['x86_64']), ['python-versions/x86_64', 'rpmgrill/x86_64', 'rpmlint/x86_64']);
  // `$$/` in the file is a literal `$`: an updates-testing-pending tag gets rpmdeplint.
  const tag = dataOf('buildsys.tag__TestKojiBuildTag.json');
  assert.deepEqual(jobs(rules, tag, ['x86_64']), ['rpmdeplint/x86_64']);
  assert.deepEqual(jobs(rules, { ...tag, tag: 'f18-updates-candidate' }, ['x86_64']), []);
  // An rpms/ commit starts nothing; a modules/ commit starts check_modulemd.
  const commit = dataOf('git.receive__TestSCMWithNamespace.json');
  assert.deepEqual(jobs(rules, commit), []);
  assert.deepEqual(jobs(rules, { ...commit, namespace: 'modules' }, ['x86_64']), ['check_modulemd/x86_64']);
  // The escaped slash in '/^container-images\/.+/'.
  const pr = { message_type: 'GitHubPullRequestOpened', item: 'u', item_type: 'pull_request', repo_name: 'container-images/memcached' } as TriggerData;
  assert.deepEqual(jobs(rules, pr, ['x86_64']), ['mtf-containers/x86_64']);
  assert.deepEqual(jobs(rules, { ...pr, repo_name: 'fedora-infra/bodhi' }, ['x86_64']), []);
});

test('the 2017 rules: discover with ${name}/${distgit_branch}, critpath $in, the lookbehind regex, docker', () => {
  const rules = load(renderedCorpusRules('2017-08-21_legible.trigger_rules.yml.j2'));
  const build = dataOf('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', ['ansible']);
  const plan = planJobs(rules, build, { validArches: ['x86_64'] });
  assert.deepEqual(plan.tasks.map((t) => t.task), ['rpmlint', 'rpmgrill', 'python-versions', 'abicheck']);
  assert.deepEqual(plan.discover, [
    { repo: 'https://src.fedoraproject.org/rpms/ansible', branch: 'epel7', fallbackBranch: 'master', recursive: true, arches: ['x86_64'], matchHostArch: false, rule: 0 },
  ]);
  // Not on the critical path: no abicheck.
  const other = dataOf('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', ['bash']);
  assert.deepEqual(planJobs(rules, other, { validArches: ['x86_64'] }).tasks.map((t) => t.task), ['rpmlint', 'rpmgrill', 'python-versions']);
  assert.deepEqual(jobs(rules, { ...build, name: 'docker' }, ['x86_64']).filter((j) => j.startsWith('docker')), ['dockerautotest/x86_64']);
  // '/.*(?<!testing-pending)$$/': upgradepath only when the tag does not end in testing-pending.
  const tag = dataOf('buildsys.tag__TestKojiBuildTag.json');
  assert.deepEqual(jobs(rules, tag, ['x86_64']), ['rpmdeplint/x86_64']);
  assert.deepEqual(jobs(rules, { ...tag, tag: 'f18-updates-pending' }, ['x86_64']), ['rpmdeplint/x86_64', 'upgradepath/x86_64']);
  const compose = dataOf('pungi.compose.status.change__TestPungiKojiComplete.json');
  assert.deepEqual(jobs(rules, compose, ['x86_64']), ['fedora-cloud-tests/x86_64']);
});

test('operators: $in, $nin, $regex flags, $and, $or, $not, $exists; arches, noarch, duplicates collapse', () => {
  const rules = load(`
- when:
    message_type: KojiBuildPackageCompleted
    name: {$or: [{$regex: '/^PYTHON-/i'}, {$in: [bash, zsh]}]}
    release: {$not: {$regex: '/\\.el[0-9]+$$/'}}
  do:
    - {tasks: [python-check], arches: [noarch]}
- when:
    $or: [{name: bash}, {name: {$exists: false}}]
  do:
    - {tasks: ['\${name}-specific', python-check], arches: [noarch, x86_64]}
- when: {name: {$ne: zsh, $nin: [fish]}}
  do:
    - tasks: [generic]
`);
  const base = { message_type: 'KojiBuildPackageCompleted', item: 'x', item_type: 'koji_build' } as const;
  assert.deepEqual(jobs(rules, { ...base, name: 'python-foo', release: '1.fc40' }), ['python-check/noarch', 'generic/x86_64', 'generic/armhfp']);
  assert.deepEqual(jobs(rules, { ...base, name: 'python-foo', release: '1.el8' }), ['generic/x86_64', 'generic/armhfp']);
  assert.deepEqual(jobs(rules, { ...base, name: 'bash', release: '1.fc40' }), ['python-check/noarch', 'bash-specific/noarch', 'generic/x86_64', 'generic/armhfp']);
  assert.deepEqual(jobs(rules, { ...base, name: 'zsh', release: '1.fc40' }), ['python-check/noarch']);
  assert.deepEqual(jobs(rules, { ...base, release: '1.fc40' }), ['${name}-specific/noarch', 'python-check/noarch', 'generic/x86_64', 'generic/armhfp']);
});

test('the message-type index skips only rules that cannot match: every decision equals asking all rules', () => {
  const rules = load(`
- when: {$or: [{message_type: CloudCompose}, {message_type: AtomicCompose}]}
  do: [{tasks: [compose-or]}]
- when: {message_type: {$in: [KojiTagChanged, DistGitCommit]}}
  do: [{tasks: [in-types]}]
- when: {$or: [{message_type: KojiTagChanged}, {name: bash}]}
  do: [{tasks: [or-not-narrowing]}]
- when: {$and: [{message_type: DistGitCommit}, {repo: {$in: [bash, '\${name}']}}]}
  do: [{tasks: [and-narrowing]}]
- when: {message_type: {$nin: [KojiTagChanged]}, name: {$in: ['\${name}']}}
  do: [{tasks: [nin-types]}]
- when: {message_type: {$in: ['\${message_type}']}}
  do: [{tasks: [templated-in]}]
- when: {$nor: [{message_type: KojiBuildPackageCompleted}]}
  do: [{tasks: [nor-types]}]
- when: {message_type: {$in: [KojiTagChanged, DistGitCommit], $ne: KojiTagChanged}}
  do: [{tasks: [in-but-ne]}]
- when: {message_type: KojiTagChanged, tag: {$regex: '/^nothing$$/'}}
  do: [{tasks: [type-then-fails]}]
- when: {$and: [{message_type: KojiTagChanged}], tag: {$exists: true}}
  do: [{tasks: [and-type-then-holds]}]
`);
  const samples: TriggerData[] = [
    dataOf('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json'),
    dataOf('buildsys.tag__TestKojiBuildTag.json'),
    dataOf('git.receive__TestSCMWithNamespace.json'),
    dataOf('pungi.compose.status.change__TestPungiKojiComplete.json'),
  ];
  samples.push({ ...samples[0]!, name: 'bash' }, { ...samples[2]!, repo: 'bash' }, { ...samples[3]!, message_type: 'AtomicCompose' });
  const fired = new Set<string>();
  for (const data of samples) {
    const indexed = planJobs(rules, data, { validArches: ['x86_64'] }).tasks;
    const everyRule = planJobs(rules, data, { validArches: ['x86_64'], explain: true }).tasks;
    assert.deepEqual(indexed, everyRule, data.message_type);
    for (const t of indexed) fired.add(t.task);
  }
  // Every rule fired for some sample, so the comparison above covered each shape.
  // Every rule but type-then-fails fired for some sample, so the comparison above covered each shape.
  assert.deepEqual([...fired].sort(), ['and-narrowing', 'and-type-then-holds', 'compose-or', 'in-but-ne', 'in-types', 'nin-types', 'nor-types', 'or-not-narrowing', 'templated-in']);
  // The index leaves out the message_type condition the type settles, never the others.
  assert.ok(!jobs(rules, samples[1]!).includes('type-then-fails/x86_64'));
  assert.deepEqual(jobs(rules, samples[1]!, ['x86_64']).filter((j) => j.startsWith('in-')), ['in-types/x86_64']);
  assert.deepEqual(jobs(rules, samples[2]!, ['x86_64']).filter((j) => j.startsWith('in-')), ['in-types/x86_64', 'in-but-ne/x86_64']);
});

test("equality is MongoDB's for every kind of field: missing, string, number, list of strings", () => {
  const rules = load(`
- when: {message_type: KojiBuildPackageCompleted, name: {$in: [null]}}
  do: [{tasks: [name-missing]}]
- when: {message_type: KojiBuildPackageCompleted, name: null}
  do: [{tasks: [name-null]}]
- when: {message_type: KojiBuildPackageCompleted, tags: {$in: [b, z]}}
  do: [{tasks: [tags-contain-b-or-z]}]
- when: {message_type: KojiBuildPackageCompleted, tags: a}
  do: [{tasks: [tags-contain-a]}]
- when: {message_type: KojiBuildPackageCompleted, count: {$in: [3, '3']}}
  do: [{tasks: [count-3]}]
- when: {message_type: KojiBuildPackageCompleted, count: {$nin: [3]}}
  do: [{tasks: [count-not-3]}]
- when: {message_type: KojiBuildPackageCompleted, name: {$in: [bash]}}
  do: [{tasks: [name-bash]}]
`);
  const fired = (data: Record<string, unknown>) => jobs(rules, { message_type: 'KojiBuildPackageCompleted', item: 'x', item_type: 'koji_build', ...data } as unknown as TriggerData, ['noarch']).map((j) => j.split('/')[0]);
  assert.deepEqual(fired({}), ['name-missing', 'name-null', 'count-not-3']);
  assert.deepEqual(fired({ name: 'bash', count: 3 }), ['count-3', 'name-bash']);
  assert.deepEqual(fired({ name: 'zsh', count: '3' }), ['count-3', 'count-not-3']);
  assert.deepEqual(fired({ tags: ['a', 'b'] }), ['name-missing', 'name-null', 'tags-contain-b-or-z', 'tags-contain-a', 'count-not-3']);
  assert.deepEqual(fired({ tags: ['b', 'a'] }), ['name-missing', 'name-null', 'tags-contain-b-or-z', 'tags-contain-a', 'count-not-3']);
  assert.deepEqual(fired({ tags: 'a', name: ['x', 'bash'] }), ['tags-contain-a', 'count-not-3', 'name-bash']);
});

test('message values are data: a package name cannot add YAML structure to the rules', () => {
  const rules = load("- when: {name: {$in: ['${name}']}}\n  do: [{tasks: ['check-${name}']}]\n");
  const data = { message_type: 'KojiBuildPackageCompleted', item: 'x', item_type: 'koji_build', name: "x]}, {tasks: [evil" } as TriggerData;
  assert.deepEqual(jobs(rules, data, ['x86_64']), ["check-x]}, {tasks: [evil/x86_64"]);
});

test('rules explain: each rule says why it matched or not', () => {
  const rules = load(renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2'));
  const data = { ...dataOf('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json'), name: 'firefox' };
  const reasons = rules.rules.map((rule) => evaluateRule(rule, data, true));
  assert.deepEqual(reasons.map((r) => r.matched), [true, false, false, false, false]);
  assert.equal(reasons[0]!.reason, "message_type: 'KojiBuildPackageCompleted' = 'KojiBuildPackageCompleted'");
  assert.equal(reasons[1]!.reason, "name: 'firefox' is in ['firefox', 'thunderbird', 'kernel', 'kdelibs', 'kdepim', 'qt', … 3 more]");
  assert.equal(reasons[2]!.reason, "message_type: 'KojiBuildPackageCompleted' ≠ 'KojiTagChanged'");
});

test('invalid rules are reported with file:line:column and the path of the offending key', () => {
  const cases: Array<[string, string[]]> = [
    ['- when: {message_type: X}\n  do: [{tasks: [a]}]\n  then: 1\n', ["r.yml:3:3: error: [0].then: unknown key 'then'; a rule has 'when' and 'do'"]],
    ['- when: {message_type: X}\n', ["r.yml:1:3: error: [0]: a rule needs 'do' (what to schedule)"]],
    ["- when: {tag: {$regexp: '/x/'}}\n  do: [{tasks: [a]}]\n", [
      "r.yml:1:16: error: [0].when.tag[\"$regexp\"]: unknown operator '$regexp'; known: $in, $nin, $regex, $and, $or, $nor, $not, $eq, $ne, $exists, $all",
    ]],
    ["- when: {tag: {$regex: 'f2[0-9'}}\n  do: [{tasks: [a]}]\n", ["r.yml:1:24: error: [0].when.tag[\"$regex\"]: invalid $regex: expected '/pattern/' (slash-delimited, optional flags imsx), got 'f2[0-9'"]],
    ["- when: {tag: {$regex: '/f2[0-9/'}}\n  do: [{tasks: [a]}]\n", ["r.yml:1:24: error: [0].when.tag[\"$regex\"]: invalid $regex: Invalid regular expression: /f2[0-9/: Unterminated character class"]],
    ['- when: {name: [a, b]}\n  do: [{tasks: [a]}]\n', ['r.yml:1:16: error: [0].when.name: a list is not a condition; to match any of several values write {$in: [a, b]}']],
    ['- when: {name: {$in: bash}}\n  do: [{tasks: [a]}]\n', ['r.yml:1:22: error: [0].when.name["$in"]: $in needs a list, or one variable that holds a list like ${critpath_pkgs}']],
    ['- when: {name: x}\n  do:\n    - {tasks: [a], discover: {repo: r}}\n', ["r.yml:3:20: error: [0].do[0].discover: an action has 'tasks' or 'discover', not both"]],
    ['- when: {name: x}\n  do:\n    - discover: {branch: b, recursive: yes please}\n', [
      "r.yml:3:17: error: [0].do[0].discover: discover needs 'repo'",
      'r.yml:3:40: error: [0].do[0].discover.recursive: recursive needs true or false',
    ]],
    ['- when: {name: x}\n  do: [{tasks: [a], arches: x86_64}]\n', ["r.yml:2:29: error: [0].do[0].arches: 'arches' needs a non-empty list of arch names, e.g. [x86_64, armhfp] or [noarch]"]],
    ['when: {name: x}\n', ["r.yml:1:1: error: a rules file is a list of rules ('- when: ... do: ...')"]],
    ['- when: {name: x, name: y}\n  do: [{tasks: [a]}]\n', ['r.yml:1:19: error: YAML: Map keys must be unique']],
  ];
  for (const [text, messages] of cases) {
    const result = loadRules(text, 'r.yml');
    assert.equal(result.value, undefined, text);
    assert.deepEqual(result.errors.map(formatDiagnostic), messages, text);
  }
});

test('a rules file is told from a formula by its top-level list', () => {
  assert.equal(looksLikeTriggerRules(renderedCorpusRules('2018-05-29_prod.trigger_rules.yml.j2')), true);
  assert.equal(looksLikeTriggerRules('name: rpmlint\nactions: []\n'), false);
});
