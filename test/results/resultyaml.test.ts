// ResultYAML as task code writes it: the corpus files parse, every problem of an invalid file is
// reported with its line, column, path and an exact message, and the summary counts outcomes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { summary } from '../../src/results/model.js';
import { checkNameProblem, testcaseName } from '../../src/results/names.js';
import { appendToResultYaml, formatResultYaml, parseResultYaml } from '../../src/results/resultyaml.js';
import { corpusPath } from '../support/corpus.js';

const corpus = (name: string) => readFileSync(corpusPath('resultyaml', name), 'utf8');

describe('ResultYAML from the corpus', () => {
  test('checkb_test_import_full.yml: reserved keys, keyvals with their source text, _internal kept aside', () => {
    const parsed = parseResultYaml(corpus('checkb_test_import_full.yml'), { file: 'full.yml' });
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.warnings, []);
    assert.deepEqual(parsed.value, {
      results: [
        {
          item: 'xchat-0.5-1.fc20',
          type: 'koji_build',
          outcome: 'PASSED',
          note: '5 ERRORS, 10 WARNINGS',
          checkname: 'testcheck',
          artifact: 'logfile.log',
          keyvals: { foo: 'bar', moo: '11' },
          internal: { resultsdb_result_id: 1234 },
        },
      ],
    });
  });

  test('checkb_test_minimal.yml: a custom item type is accepted with a warning', () => {
    const parsed = parseResultYaml(corpus('checkb_test_minimal.yml'), { file: 'minimal.yml' });
    assert.deepEqual(parsed.value, { results: [{ item: 'punkipa', type: 'beer', outcome: 'PASSED', keyvals: {} }] });
    assert.deepEqual(parsed.warnings.map(formatDiagnostic), [
      "minimal.yml:4:9: warning: results[0].type: 'beer' is not a known item type (bodhi_update, compose, dist_git_commit, docker_image, git_commit, koji_build, koji_tag, module_build, pull_request): ResultsDB stores it, but tools only understand the known ones",
    ]);
  });
});

describe('valid ResultYAML', () => {
  test('an empty document, `results:` alone and an empty list all mean no results', () => {
    for (const text of ['', '# nothing yet\n', 'results:\n', 'results: []\n']) {
      assert.deepEqual(parseResultYaml(text).value, { results: [] }, JSON.stringify(text));
    }
  });

  test('keyval lists, numbers as written, and every outcome of the library', () => {
    const text = [
      'results:',
      '  - {item: a-1-1.fc40, type: koji_build, outcome: INFO, arch: [x86_64, noarch], ratio: 1.0, count: 011}',
      ...['PASSED', 'FAILED', 'NEEDS_INSPECTION', 'ABORTED', 'CRASHED'].map((o) => `  - {item: a-1-1.fc40, type: koji_build, outcome: ${o}}`),
    ].join('\n');
    const parsed = parseResultYaml(text);
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.value?.results[0]?.keyvals, { arch: ['x86_64', 'noarch'], ratio: '1.0', count: '011' });
    assert.deepEqual(
      parsed.value?.results.map((r) => r.outcome),
      ['INFO', 'PASSED', 'FAILED', 'NEEDS_INSPECTION', 'ABORTED', 'CRASHED'],
    );
  });
});

// One row per invalid input: every diagnostic it must produce, formatted as the CLI prints them.
const invalid: { name: string; text: string; context?: Parameters<typeof parseResultYaml>[1]; errors: string[]; warnings?: string[] }[] = [
  {
    name: 'broken YAML syntax',
    text: 'results:\n  - item: [x\n',
    errors: ['r.yml:3:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    name: 'a duplicate key',
    text: 'results:\n  - item: a\n    item: b\n    type: koji_build\n    outcome: PASSED\n',
    errors: ['r.yml:3:5: error: invalid YAML: Map keys must be unique'],
  },
  {
    name: 'a list at the top',
    text: '- item: a\n',
    errors: ["r.yml:1:1: error: expected a mapping with a 'results' list, got a list"],
  },
  {
    name: "no 'results' key, and an unknown one",
    text: 'result:\n  - item: a\n',
    errors: ["r.yml:1:1: error: missing 'results': ResultYAML is a mapping with a 'results' list"],
    warnings: ["r.yml:1:1: warning: result: unknown key 'result' is ignored: ResultYAML has only 'results'"],
  },
  {
    name: "'results' is not a list",
    text: 'results: {item: a}\n',
    errors: ['r.yml:1:10: error: results: expected a list of results, got a mapping'],
  },
  {
    name: 'a result that is not a mapping',
    text: 'results:\n  - foo-1.0-1.fc40 PASSED\n',
    errors: ["r.yml:2:5: error: results[0]: expected a mapping (one result with item, type and outcome), got 'foo-1.0-1.fc40 PASSED'"],
  },
  {
    name: 'required keys missing',
    text: 'results:\n  - note: all good\n',
    errors: [
      "r.yml:2:5: error: results[0].item: missing 'item': the item that was tested, e.g. a Koji build NVR 'foo-1.0-1.fc40'",
      "r.yml:2:5: error: results[0].type: missing 'type': the item's type, e.g. koji_build or bodhi_update",
      "r.yml:2:5: error: results[0].outcome: missing 'outcome': one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED",
    ],
  },
  {
    name: 'required keys present but empty',
    text: "results:\n  - item:\n    type: ''\n    outcome: PASSED\n",
    errors: [
      "r.yml:2:5: error: results[0].item: missing 'item': the item that was tested, e.g. a Koji build NVR 'foo-1.0-1.fc40'",
      "r.yml:3:11: error: results[0].type: must not be empty: the item's type, e.g. koji_build or bodhi_update",
    ],
  },
  {
    name: 'an outcome in the wrong case',
    text: 'results:\n  - item: a\n    type: koji_build\n    outcome: passed\n',
    errors: ["r.yml:4:14: error: results[0].outcome: 'passed' is not an outcome: use one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED — did you mean 'PASSED'?"],
  },
  {
    name: 'an outcome ResultsDB 1.x had but the library never did',
    text: 'results:\n  - item: a\n    type: koji_build\n    outcome: WAIVED\n',
    errors: ["r.yml:4:14: error: results[0].outcome: 'WAIVED' is not an outcome: use one of PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED, CRASHED"],
  },
  {
    name: 'a reserved key with a mapping for a value',
    text: 'results:\n  - item: a\n    type: koji_build\n    outcome: PASSED\n    note: {text: hi}\n',
    errors: ['r.yml:5:11: error: results[0].note: expected text, got a mapping'],
  },
  {
    name: 'keyvals ResultsDB cannot store',
    text: 'results:\n  - item: a\n    type: koji_build\n    outcome: PASSED\n    "a:b": 1\n    deps: {x: 1}\n    archs: [x86_64, [i686]]\n',
    errors: [
      `r.yml:5:5: error: results[0]["a:b"]: keyval name 'a:b' must not contain ':' (ResultsDB keeps it for ':like' queries)`,
      'r.yml:6:11: error: results[0].deps: a keyval is text, a number, true/false or a list of them, got a mapping',
      'r.yml:7:21: error: results[0].archs[1]: expected text or a number in a keyval list, got a list',
    ],
  },
  {
    name: 'keyvals that are reported with a warning or not at all',
    text: 'results:\n  - item: a\n    type: koji_build\n    outcome: PASSED\n    _private: x\n    empty:\n    results: nested\n',
    errors: [],
    warnings: [
      "r.yml:5:5: warning: results[0]._private: keyval names starting with '_' are reserved by ResultsDB and may not be searchable",
      "r.yml:6:5: warning: results[0].empty: keyval 'empty' has no value and is not reported",
      "r.yml:7:5: warning: results[0].results: 'results' is a reserved key and is ignored inside a result",
    ],
  },
  {
    name: 'check names that cannot be testcase names',
    text: 'results:\n  - {item: a, type: koji_build, outcome: PASSED, checkname: two three}\n  - {item: a, type: koji_build, outcome: PASSED, checkname: rpmlint.}\n',
    errors: [
      "r.yml:2:61: error: results[0].checkname: not a valid check name: 'two three' may only contain letters, digits, '_', '-' and '+', with '.' between parts",
      "r.yml:3:61: error: results[1].checkname: not a valid check name: 'rpmlint.' has an empty part: dots separate parts, as in 'python-versions.two_three'",
    ],
  },
  {
    name: 'a check name that repeats the namespace',
    text: 'results:\n  - {item: a, type: koji_build, outcome: PASSED, checkname: dist.rpmlint}\n',
    context: { namespace: 'dist' },
    errors: [],
    warnings: ["r.yml:2:61: warning: results[0].checkname: 'dist.rpmlint' already starts with the namespace: it is reported as 'dist.dist.rpmlint' (leave the namespace out)"],
  },
  {
    name: 'artifacts outside the artifacts directory',
    text: 'results:\n  - {item: a, type: koji_build, outcome: PASSED, artifact: ../other-job/log}\n  - {item: a, type: koji_build, outcome: PASSED, artifact: /etc/passwd}\n',
    context: { artifactsDir: '/var/lib/taskotron/artifacts/u1' },
    errors: [
      "r.yml:2:60: error: results[0].artifact: '../other-job/log' is outside the artifacts directory /var/lib/taskotron/artifacts/u1: only files in it are published",
      "r.yml:3:60: error: results[1].artifact: '/etc/passwd' is outside the artifacts directory /var/lib/taskotron/artifacts/u1: only files in it are published",
    ],
  },
  {
    name: 'a malformed _internal',
    text: 'results:\n  - {item: a, type: koji_build, outcome: PASSED, _internal: 5}\n',
    errors: ["r.yml:2:61: error: results[0]._internal: expected a mapping, got '5'"],
  },
];

describe('invalid ResultYAML: every problem, with line, column, path and an exact message', () => {
  for (const row of invalid) {
    test(row.name, () => {
      const parsed = parseResultYaml(row.text, { file: 'r.yml', ...row.context });
      assert.deepEqual(parsed.errors.map(formatDiagnostic), row.errors);
      assert.deepEqual(parsed.warnings.map(formatDiagnostic), row.warnings ?? []);
      assert.equal(parsed.value === undefined, row.errors.length > 0, 'a value exactly when there are no errors');
    });
  }

  test('the artifact check accepts paths inside the directory, absolute or relative', () => {
    const text = 'results:\n  - {item: a, type: koji_build, outcome: PASSED, artifact: logs/../out.log}\n  - {item: a, type: koji_build, outcome: PASSED, artifact: /art/u1/x.log}\n';
    assert.deepEqual(parseResultYaml(text, { artifactsDir: '/art/u1' }).errors, []);
  });
});

describe('summary', () => {
  test('counts outcomes in priority order, best first', () => {
    const outcomes = ['FAILED', 'PASSED', 'INFO', 'PASSED', 'FAILED', 'PASSED'] as const;
    assert.equal(summary(outcomes), '3 PASSED, 1 INFO, 2 FAILED');
    assert.equal(summary([{ outcome: 'CRASHED' }, { outcome: 'NEEDS_INSPECTION' }]), '1 NEEDS_INSPECTION, 1 CRASHED');
    assert.equal(summary([]), '');
  });
});

describe('check names', () => {
  test('the testcase is <namespace>.<checkname>, sub-checks after further dots', () => {
    assert.equal(testcaseName('dist', 'python-versions.two_three'), 'dist.python-versions.two_three');
    assert.equal(checkNameProblem('python-versions.two_three'), undefined);
    assert.equal(checkNameProblem('a/b'), "'a/b' may only contain letters, digits, '_', '-' and '+', with '.' between parts");
    assert.equal(checkNameProblem(''), 'must not be empty');
  });
});

describe('writing ResultYAML', () => {
  test('formatResultYaml writes what parseResultYaml reads back', () => {
    const entry = { item: 'x-1-1.fc40', type: 'koji_build', outcome: 'FAILED' as const, note: '1 ERROR', checkname: 'sub', artifact: 'x.log', keyvals: { arch: ['x86_64', 'noarch'], n: '11' } };
    const text = formatResultYaml([entry]);
    assert.equal(
      text,
      'results:\n  - item: x-1-1.fc40\n    type: koji_build\n    outcome: FAILED\n    note: 1 ERROR\n    checkname: sub\n    artifact: x.log\n    arch:\n      - x86_64\n      - noarch\n    n: "11"\n',
    );
    assert.deepEqual(parseResultYaml(text).value, { results: [entry] });
  });

  test('appending keeps the existing entries and their comments', () => {
    const existing = '# written by run_check.sh\nresults:\n- item: punkipa  # the first\n  outcome: PASSED\n  type: beer\n';
    const text = appendToResultYaml(existing, [{ item: 'b', type: 'koji_build', outcome: 'INFO', keyvals: {} }]);
    assert.match(text, /^# written by run_check\.sh\n/);
    assert.match(text, /# the first/);
    assert.deepEqual(
      parseResultYaml(text).value?.results.map((r) => r.item),
      ['punkipa', 'b'],
    );
  });
});
