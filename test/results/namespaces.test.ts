// Namespace authorisation as Fedora configured it: the corpus namespaces.yaml.j2, rendered the way
// Ansible did, decides which task repositories may post into `dist` and `pkg`; `scratch` is open.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { reportingConfigFromEnv } from '../../src/results/config.js';
import { authorise, loadNamespacePolicy, parseNamespacePolicy, repoUnder } from '../../src/results/namespaces.js';
import { corpusPath } from '../support/corpus.js';

const mirror = 'grokmirror@taskotron01.qa.fedoraproject.org:/var/lib/git/mirror/fedoraqa';
const template = readFileSync(corpusPath('config', 'namespaces.yaml.j2'), 'utf8');
const rendered = template.replaceAll('{{ grokmirror_user }}', 'grokmirror').replaceAll('{{ buildmaster }}', 'taskotron01.qa.fedoraproject.org');

describe("Fedora's namespaces.yaml (corpus, rendered)", () => {
  const parsed = parseNamespacePolicy(rendered, 'namespaces.yaml');

  test('parses into the safe list and the whitelist', () => {
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.warnings, []);
    assert.deepEqual(parsed.value?.safe, ['scratch']);
    assert.deepEqual(Object.keys(parsed.value?.whitelist ?? {}), ['dist', 'pkg']);
    assert.equal(parsed.value?.whitelist.dist?.length, 5);
    assert.deepEqual(parsed.value?.whitelist.pkg, [
      'git://pkgs.fedoraproject.org/rpms-checks/',
      'git://pkgs.fedoraproject.org/test-rpms/',
      'git://pkgs.fedoraproject.org/test-modules/',
      'git://pkgs.fedoraproject.org/test-docker/',
    ]);
  });

  const policy = parsed.value!;
  const cases: [testcase: string, repo: string | undefined, allowed: boolean | string][] = [
    ['scratch.anything', undefined, true],
    ['scratch.mytest.sub', 'https://github.com/me/mytask', true],
    ['dist.rpmlint', `${mirror}/rpmlint/`, true],
    ['dist.rpmlint', `${mirror}/rpmlint`, true],
    ['dist.python-versions.two_three', `${mirror}/python-versions/`, true],
    ['pkg.foo.sanity', 'git://pkgs.fedoraproject.org/test-rpms/foo', true],
    ['pkg.foo.sanity', 'git://pkgs.fedoraproject.org/test-rpms/foo.git', true],
    ['dist.rpmlint', `${mirror}/rpmlint-evil`, `task repository '${mirror}/rpmlint-evil' may not post results into namespace 'dist' ('dist.rpmlint'); allowed are: ${mirror}/abicheck/, ${mirror}/python-versions/, ${mirror}/rpmdeplint/, ${mirror}/rpmgrill/, ${mirror}/rpmlint/`],
    ['dist.rpmlint', `${mirror}/rpmlint/../../evil`, false],
    ['pkg.foo', 'git://pkgs.fedoraproject.org/rpms/foo', false],
    ['dist.rpmlint', undefined, "only whitelisted task repositories may post into namespace 'dist' ('dist.rpmlint'), and this task has no repository URL"],
    ['qa.thing', `${mirror}/rpmlint/`, "no namespace for 'qa.thing' exists: configured are scratch (anybody may post) and dist, pkg (whitelisted task repositories)"],
    ['distribution.x', `${mirror}/rpmlint/`, false],
  ];
  for (const [testcase, repo, expected] of cases) {
    test(`${testcase} from ${repo ?? 'a local task'}: ${expected === true ? 'allowed' : 'refused'}`, () => {
      const verdict = authorise(policy, testcase, repo);
      if (expected === true) assert.equal(verdict.allowed, true);
      else {
        assert.equal(verdict.allowed, false);
        if (typeof expected === 'string') assert.equal(!verdict.allowed && verdict.reason, expected);
      }
    });
  }
});

describe('whitelist entries match whole path segments', () => {
  test('a parent directory admits the repositories beneath it (the bug Fedora worked around)', () => {
    assert.equal(repoUnder(`${mirror}/rpmlint/`, `${mirror}/`), true);
    assert.equal(repoUnder('https://pagure.io/taskotron/task-rpmlint.git', 'https://pagure.io/taskotron/task-rpmlint'), true);
    assert.equal(repoUnder('https://pagure.io/taskotron/task-rpmlint2', 'https://pagure.io/taskotron/task-rpmlint'), false);
    assert.equal(repoUnder('https://pagure.io/taskotron', 'https://pagure.io/taskotron/'), true);
    assert.equal(repoUnder('https://pagure.io/x', ''), false);
  });

  test('the most specific namespace decides', () => {
    const policy = { safe: ['scratch'], whitelist: { dist: ['https://a/'], 'dist.team': ['https://b/'] } };
    assert.equal(authorise(policy, 'dist.team.check', 'https://b/repo').allowed, true);
    assert.equal(authorise(policy, 'dist.team.check', 'https://a/repo').allowed, false);
    assert.equal(authorise(policy, 'dist.other', 'https://a/repo').allowed, true);
  });
});

describe('invalid namespaces files', () => {
  const rows: [name: string, text: string, errors: string[], warnings?: string[]][] = [
    ['the unrendered template', template, ['namespaces.yaml:10:11: error: the file still contains template syntax ({{ … }} or {% … %}): render it before use']],
    ['a namespace list that is a string', 'namespaces_safe: scratch\n', ["namespaces.yaml:1:18: error: namespaces_safe: expected a list, got 'scratch'"]],
    [
      'bad namespace names and entries',
      'namespaces_safe: [scr atch]\nnamespaces_whitelist:\n  dist:\n    - {url: x}\n  pkg:\n',
      [
        "namespaces.yaml:1:19: error: namespaces_safe[0]: not a valid namespace: 'scr atch' may only contain letters, digits, '_', '-' and '+', with '.' between parts",
        'namespaces.yaml:4:7: error: namespaces_whitelist.dist[0]: expected text, got a mapping',
      ],
      ["namespaces.yaml:3:3: warning: namespaces_whitelist.dist: no repository may post into 'dist'", "namespaces.yaml:5:3: warning: namespaces_whitelist.pkg: no repository may post into 'pkg'"],
    ],
    ['a misspelt key', 'namespace_safe: [scratch]\n', [], ["namespaces.yaml:1:1: warning: namespace_safe: unknown key 'namespace_safe' is ignored: the file has namespaces_safe and namespaces_whitelist"]],
  ];
  for (const [name, text, errors, warnings] of rows) {
    test(name, () => {
      const parsed = parseNamespacePolicy(text, 'namespaces.yaml');
      assert.deepEqual(parsed.errors.map(formatDiagnostic), errors);
      assert.deepEqual(parsed.warnings.map(formatDiagnostic), warnings ?? []);
    });
  }

  test('a missing file is an error, not an empty policy', () => {
    const loaded = loadNamespacePolicy('/nonexistent/namespaces.yaml');
    assert.deepEqual(loaded.errors.map(formatDiagnostic), ['/nonexistent/namespaces.yaml:1:1: error: cannot read the namespaces file: no such file']);
  });

  test('the runner configuration refuses to start with an invalid namespaces file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-ns-'));
    writeFileSync(join(dir, 'namespaces.yaml'), 'namespaces_safe: scratch\n');
    assert.throws(() => reportingConfigFromEnv({ TASKOTRON_NAMESPACES_FILE: join(dir, 'namespaces.yaml') }), /namespaces_safe: expected a list/);
    writeFileSync(join(dir, 'namespaces.yaml'), rendered);
    const config = reportingConfigFromEnv({ TASKOTRON_NAMESPACES_FILE: join(dir, 'namespaces.yaml'), TASKOTRON_RESULTSDB_URL: 'http://rdb/api/v2.0' });
    assert.deepEqual(config.namespaces?.safe, ['scratch']);
    assert.equal(config.resultsdbUrl, 'http://rdb/api/v2.0');
  });
});
