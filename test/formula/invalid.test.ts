// A table of invalid formulas: each reports exactly these errors, at these positions, with these
// paths and messages. The cases are what task authors get wrong: typos, missing keys, wrong types,
// keys that depend on each other, variables that will not exist at run time, unsafe shell use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFormula } from '../../src/formula/index.js';
import { HEADER, withActions, type InvalidCase } from './invalid-cases.js';

const cases: InvalidCase[] = [
  {
    name: 'YAML syntax error',
    yaml: 'name: demo\ndesc: [unclosed\nmaintainer: x\n',
    errors: [
      { line: 3, column: 1, path: "", message: "YAML: Flow sequence in block collection must be sufficiently indented and end with a ]" },
    ],
  },
  {
    name: 'duplicate key',
    yaml: 'name: demo\nname: again\n',
    errors: [
      { line: 2, column: 1, path: "", message: "YAML: Map keys must be unique" },
    ],
  },
  {
    name: 'empty file',
    yaml: '',
    errors: [
      { line: 1, column: 1, path: "", message: "the file is empty: expected a mapping with name, desc, maintainer, input and actions" },
    ],
  },
  {
    name: 'top level is a list',
    yaml: '- name: demo\n',
    errors: [
      { line: 1, column: 1, path: "", message: "expected a mapping, got a list" },
    ],
  },
  {
    name: 'misspelt top-level key',
    yaml: ['nmae: demo', ...HEADER.slice(1), '  - name: a', '    shell: [ls]', ''].join('\n'),
    errors: [
      { line: 1, column: 1, path: "nmae", message: "unknown key 'nmae' — did you mean 'name'?" },
    ],
  },
  {
    name: 'missing required keys',
    yaml: 'name: demo\nactions:\n  - name: a\n    shell: [ls]\n',
    errors: [
      { line: 1, column: 1, path: "desc", message: "missing required key 'desc'" },
      { line: 1, column: 1, path: "maintainer", message: "missing required key 'maintainer'" },
      { line: 1, column: 1, path: "input", message: "missing required key 'input'" },
    ],
  },
  {
    name: 'bad task name',
    yaml: withActions('  - name: a', '    shell: [ls]').replace('name: demo', 'name: my task'),
    errors: [
      { line: 1, column: 7, path: "name", message: "expected a task name of letters, digits, ., _ and -, got 'my task'" },
    ],
  },
  {
    name: 'unknown input arg',
    yaml: withActions('  - name: a', '    shell: [ls]').replace('[koji_build]', '[koji_buid]'),
    errors: [
      { line: 5, column: 10, path: "input.args[0]", message: "expected one of bodhi_update, compose, dist_git_commit, docker_image, git_commit, koji_build, koji_tag, module_build, pull_request, arch, got 'koji_buid' — did you mean 'koji_build'?" },
    ],
  },
  {
    name: 'input.args not a list',
    yaml: withActions('  - name: a', '    shell: [ls]').replace('[koji_build]', 'koji_build'),
    errors: [
      { line: 5, column: 9, path: "input.args", message: "expected a list, got 'koji_build'" },
    ],
  },
  {
    name: 'environment key misspelt',
    yaml: withActions('  - name: a', '    shell: [ls]').replace('actions:', 'environment:\n  rpms: [rpmlint]\nactions:'),
    errors: [
      { line: 7, column: 3, path: "environment.rpms", message: "unknown key 'rpms' — did you mean 'rpm'?" },
    ],
  },
  {
    name: 'no actions',
    yaml: HEADER.join('\n') + ' []\n',
    errors: [
      { line: 6, column: 10, path: "actions", message: "expected at least one action" },
    ],
  },
  {
    name: 'both actions and task',
    yaml: withActions('  - name: a', '    shell: [ls]') + 'task:\n  - name: b\n    shell: [ls]\n',
    errors: [
      { line: 9, column: 1, path: "task", message: "use 'actions' only: 'task' is its deprecated 2014 name, and both are given" },
    ],
  },
  {
    name: 'action is not a mapping',
    yaml: withActions('  - run rpmlint'),
    errors: [
      { line: 7, column: 5, path: "actions[0]", message: "expected a mapping, got 'run rpmlint'" },
    ],
  },
  {
    name: 'action without name',
    yaml: withActions('  - shell: [ls]'),
    errors: [
      { line: 7, column: 5, path: "actions[0].name", message: "missing required key 'name'" },
    ],
  },
  {
    name: 'misspelt directive',
    yaml: withActions('  - name: a', '    kojii:', '      action: download'),
    errors: [
      { line: 8, column: 5, path: "actions[0].kojii", message: "unknown directive 'kojii' — did you mean 'koji'?" },
    ],
  },
  {
    name: 'unknown directive',
    yaml: withActions('  - name: a', '    frobnicate: {x: 1}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].frobnicate", message: "unknown directive 'frobnicate'; directives are python, shell, koji, bodhi, distgit, resultsdb, xunit, exitcode, createrepo, yumrepoinfo, create_report, dummy" },
    ],
  },
  {
    name: 'retired directive mash',
    yaml: withActions('  - name: a', '    mash: {}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].mash", message: "unknown directive: 'mash' existed only in libtaskotron 0.3 and is not supported; build repositories with 'createrepo'" },
    ],
  },
  {
    name: 'two directives',
    yaml: withActions('  - name: a', '    shell: [ls]', '    dummy: {result: PASS}'),
    errors: [
      { line: 9, column: 5, path: "actions[0].dummy", message: "an action runs exactly one directive, but 'shell' and 'dummy' are both given" },
    ],
  },
  {
    name: 'no directive',
    yaml: withActions('  - name: a', '    export: out'),
    errors: [
      { line: 7, column: 5, path: "actions[0]", message: "an action needs exactly one directive: python, shell, koji, bodhi, distgit, resultsdb, xunit, exitcode, createrepo, yumrepoinfo, create_report, dummy" },
    ],
  },
  {
    name: 'misspelt action key',
    yaml: withActions('  - name: a', '    shell: [ls]', '    exprot: out'),
    errors: [
      { line: 9, column: 5, path: "actions[0].exprot", message: "unknown key 'exprot' — did you mean 'export'?" },
    ],
  },
  {
    name: 'export not a variable name',
    yaml: withActions('  - name: a', '    shell: [ls]', '    export: my-output'),
    errors: [
      { line: 9, column: 13, path: "actions[0].export", message: "expected a variable name (letters, digits and _, not starting with a digit), got 'my-output'" },
    ],
  },
  {
    name: 'export replaces a built-in',
    yaml: withActions('  - name: a', '    shell: [ls]', '    export: workdir', '  - name: b', '    dummy: {result: "${workdir}"}'),
    errors: [
      { line: 9, column: 13, path: "actions[0].export", message: "export 'workdir' would replace the built-in variable 'workdir'" },
    ],
  },
  {
    name: 'koji action misspelt',
    yaml: withActions('  - name: a', '    koji:', '      action: downlaod', '      koji_build: ${koji_build}', '      arch: all'),
    errors: [
      { line: 9, column: 15, path: "actions[0].koji.action", message: "expected one of download, download_tag, download_latest_stable, got 'downlaod' — did you mean 'download'?" },
    ],
  },
  {
    name: 'koji download without koji_build',
    yaml: withActions('  - name: a', '    koji:', '      action: download', '      arch: [x86_64]'),
    errors: [
      { line: 8, column: 5, path: "actions[0].koji.koji_build", message: "missing required key 'koji_build' (action 'download' needs it)" },
    ],
  },
  {
    name: 'koji download_tag without koji_tag',
    yaml: withActions('  - name: a', '    koji: {action: download_tag, arch: all}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].koji.koji_tag", message: "missing required key 'koji_tag' (action 'download_tag' needs it)" },
    ],
  },
  {
    name: 'koji missing arch',
    yaml: withActions('  - name: a', '    koji: {action: download, koji_build: $koji_build}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].koji.arch", message: "missing required key 'arch'" },
    ],
  },
  {
    name: 'koji arch list of numbers',
    yaml: withActions('  - name: a', '    koji: {action: download, koji_build: $koji_build, arch: [386]}'),
    errors: [
      { line: 8, column: 62, path: "actions[0].koji.arch[0]", message: "expected a string, got 386" },
    ],
  },
  {
    name: 'koji src: no',
    yaml: withActions('  - name: a', '    koji: {action: download, koji_build: $koji_build, arch: all, src: no}'),
    errors: [
      { line: 8, column: 71, path: "actions[0].koji.src", message: "expected true or false or a ${variable} reference, got 'no' (YAML 1.2 reads 'no' as text: write true or false)" },
    ],
  },
  {
    name: 'koji unknown key',
    yaml: withActions('  - name: a', '    koji: {action: download, koji_build: $koji_build, arch: all, debuginf: true}'),
    errors: [
      { line: 8, column: 66, path: "actions[0].koji.debuginf", message: "unknown key 'debuginf' — did you mean 'debuginfo'?" },
    ],
  },
  {
    name: 'bodhi without update_id',
    yaml: withActions('  - name: a', '    bodhi: {action: download}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].bodhi.update_id", message: "missing required key 'update_id'" },
    ],
  },
  {
    name: 'distgit neither package nor nvr',
    yaml: withActions('  - name: a', '    distgit: {path: [x.spec]}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].distgit", message: "needs one of 'package' or 'nvr'" },
    ],
  },
  {
    name: 'distgit path/localpath lengths differ',
    yaml: withActions('  - name: a', '    distgit: {package: x, path: [a.spec, b.spec], localpath: [c.spec]}'),
    errors: [
      { line: 8, column: 62, path: "actions[0].distgit.localpath", message: "'localpath' must have as many entries as 'path' (1 vs 2)" },
    ],
  },
  {
    name: 'resultsdb with results and file',
    yaml: withActions('  - name: a', '    resultsdb: {results: x, file: y}'),
    errors: [
      { line: 8, column: 29, path: "actions[0].resultsdb.file", message: "give either 'results' or 'file', not both" },
    ],
  },
  {
    name: 'resultsdb with nothing',
    yaml: withActions('  - name: a', '    resultsdb: {}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].resultsdb", message: "needs one of 'results' or 'file'" },
    ],
  },
  {
    name: 'exitcode with neither',
    yaml: withActions('  - name: a', '    exitcode: {}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].exitcode", message: "needs one of 'result_last' or 'result_worst'" },
    ],
  },
  {
    name: 'xunit aggregation unknown',
    yaml: withActions('  - name: a', '    xunit: {file: out.xml, aggregation: all}'),
    errors: [
      { line: 8, column: 41, path: "actions[0].xunit.aggregation", message: "expected one of allpass, none, got 'all'" },
    ],
  },
  {
    name: 'createrepo without repodir',
    yaml: withActions('  - name: a', '    createrepo: {dir: repo}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].createrepo.repodir", message: "missing required key 'repodir'" },
      { line: 8, column: 18, path: "actions[0].createrepo.dir", message: "unknown key 'dir'; expected repodir" },
    ],
  },
  {
    name: 'yumrepoinfo without arch',
    yaml: withActions('  - name: a', '    yumrepoinfo: {koji_tag: f27}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].yumrepoinfo.arch", message: "missing required key 'arch'" },
    ],
  },
  {
    name: 'create_report without artifactsdir',
    yaml: withActions('  - name: a', '    create_report: {results: x}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].create_report.artifactsdir", message: "missing required key 'artifactsdir'" },
    ],
  },
  {
    name: 'dummy without result',
    yaml: withActions('  - name: a', '    dummy: {msg: hi}'),
    errors: [
      { line: 8, column: 5, path: "actions[0].dummy.result", message: "missing required key 'result'" },
    ],
  },
  {
    name: 'python without callable',
    yaml: withActions('  - name: a', '    python:', '      file: check.py'),
    errors: [
      { line: 8, column: 5, path: "actions[0].python.callable", message: "missing required key 'callable'" },
    ],
  },
  {
    name: 'python callable not a name',
    yaml: withActions('  - name: a', '    python: {file: check.py, callable: "run()"}'),
    errors: [
      { line: 8, column: 40, path: "actions[0].python.callable", message: "expected the name of a Python function, got 'run()'" },
    ],
  },
  {
    name: 'python kwarg not a name',
    yaml: withActions('  - name: a', '    python: {file: check.py, callable: run, dry-run: true}'),
    errors: [
      { line: 8, column: 45, path: "actions[0].python.dry-run", message: "'dry-run' is not a valid Python keyword argument name" },
    ],
  },
  {
    name: 'shell is a string',
    yaml: withActions('  - name: a', '    shell: rpmlint .'),
    errors: [
      { line: 8, column: 12, path: "actions[0].shell", message: "expected a list of commands or a ${variable} reference, got 'rpmlint .'" },
    ],
  },
  {
    name: 'shell command is a number',
    yaml: withActions('  - name: a', '    shell:', '      - 42'),
    errors: [
      { line: 9, column: 9, path: "actions[0].shell[0]", message: "expected a command line, an argv list or {ignorereturn: ...}, got 42" },
    ],
  },
  {
    name: 'shell ignorereturn misspelt',
    yaml: withActions('  - name: a', '    shell:', '      - ignorreturn: "false"'),
    errors: [
      { line: 9, column: 9, path: "actions[0].shell[0].ignorreturn", message: "unknown key 'ignorreturn' — did you mean 'ignorereturn'?" },
    ],
  },
  {
    name: 'shell argv with a mapping',
    yaml: withActions('  - name: a', '    shell:', '      - [echo, {a: 1}]'),
    errors: [
      { line: 9, column: 16, path: "actions[0].shell[0][1]", message: "expected a string, got a mapping" },
    ],
  },
  {
    name: 'shell empty argv',
    yaml: withActions('  - name: a', '    shell:', '      - []'),
    errors: [
      { line: 9, column: 9, path: "actions[0].shell[0]", message: "an argv command needs at least the program name" },
    ],
  },
  {
    name: 'undefined variable with suggestion',
    yaml: withActions('  - name: a', '    shell: ["rpmlint ${workdri}"]'),
    errors: [
      { line: 8, column: 13, path: "actions[0].shell[0]", message: "undefined variable 'workdri' — did you mean 'workdir'?" },
    ],
  },
  {
    name: 'shell variable needs $$',
    yaml: withActions('  - name: a', '    shell: ["echo $HOME"]'),
    errors: [
      { line: 8, column: 13, path: "actions[0].shell[0]", message: "undefined variable 'HOME' (for the shell's own variable write $$HOME)" },
    ],
  },
  {
    name: 'invalid $',
    yaml: withActions('  - name: a', '    shell:', "      - awk '{print $1}' x"),
    errors: [
      { line: 9, column: 9, path: "actions[0].shell[0]", message: "invalid '$' at \"$1}' x\": write '$$' for a literal '$', or '${name}' for a variable" },
    ],
  },
  {
    name: 'variable of an item type not in input.args',
    yaml: withActions('  - name: a', '    dummy: {result: PASS, msg: "${koji_tag}"}'),
    errors: [
      { line: 8, column: 32, path: "actions[0].dummy.msg", message: "variable 'koji_tag' is only defined when input.args lists 'koji_tag'" },
    ],
  },
  {
    name: 'variable exported by a later action',
    yaml: withActions('  - name: a', '    dummy: {result: "${out}"}', '  - name: b', '    dummy: {result: PASS}', '    export: out'),
    errors: [
      { line: 8, column: 21, path: "actions[0].dummy.result", message: "variable 'out' is exported by a later action (actions[1]); actions run in order" },
    ],
  },
  {
    name: 'namespace variable without a namespace',
    yaml: withActions('  - name: a', '    dummy: {result: PASS, msg: "$namespace"}'),
    errors: [
      { line: 8, column: 32, path: "actions[0].dummy.msg", message: "variable 'namespace' is undefined because the formula sets no namespace" },
    ],
  },
  {
    name: 'undefined variable in a key',
    yaml: withActions('  - name: a', '    python: {file: c.py, callable: run, "${argname}": 1}'),
    errors: [
      { line: 8, column: 41, path: "actions[0].python[\"${argname}\"]", message: "undefined variable 'argname'" },
    ],
  },
  {
    name: 'variable in backticks',
    yaml: withActions('  - name: a', '    shell: ["echo `rpm -q ${item}`"]'),
    errors: [
      { line: 8, column: 13, path: "actions[0].shell[0]", message: "variable '${item}' cannot be used after a backtick (use $(...) instead) in a shell command: its value might not stay one word (an argv list avoids the shell)" },
    ],
  },
  {
    name: 'variable after a backslash',
    yaml: withActions('  - name: a', '    shell: ["echo \\\\${item}"]'),
    errors: [
      { line: 8, column: 13, path: "actions[0].shell[0]", message: "variable '${item}' cannot be used right after a '\\' in a shell command: its value might not stay one word (an argv list avoids the shell)" },
    ],
  },
  {
    name: 'timeout without unit',
    yaml: withActions('  - name: a', '    shell: [ls]', '    timeout: 90'),
    errors: [
      { line: 9, column: 14, path: "actions[0].timeout", message: "a duration needs a unit: write 90s (or e.g. 30m, 2h, 1h30m), got 90" },
    ],
  },
  {
    name: 'timeout zero',
    yaml: withActions('  - name: a', '    shell: [ls]', '    timeout: 0s'),
    errors: [
      { line: 9, column: 14, path: "actions[0].timeout", message: "a duration must be longer than 0s" },
    ],
  },
  {
    name: 'job timeout bad',
    yaml: withActions('  - name: a', '    shell: [ls]').replace('actions:', 'timeout: 2 hours\nactions:'),
    errors: [
      { line: 6, column: 10, path: "timeout", message: "expected a duration such as 90s, 30m, 2h or 1h30m, got '2 hours'" },
    ],
  },
  {
    name: 'retry attempts zero and misspelt key',
    yaml: withActions('  - name: a', '    shell: [ls]', '    retry: {attempts: 0, backof: 1m}'),
    errors: [
      { line: 9, column: 23, path: "actions[0].retry.attempts", message: "attempts must be at least 1" },
      { line: 9, column: 26, path: "actions[0].retry.backof", message: "unknown key 'backof' — did you mean 'backoff'?" },
    ],
  },
  {
    name: 'retry without attempts',
    yaml: withActions('  - name: a', '    shell: [ls]', '    retry: {backoff: 1m}'),
    errors: [
      { line: 9, column: 5, path: "actions[0].retry.attempts", message: "missing required key 'attempts'" },
    ],
  },
  {
    name: 'infinite number',
    yaml: withActions('  - name: a', '    python: {file: c.py, callable: run, limit: .inf}'),
    errors: [
      { line: 8, column: 48, path: "actions[0].python.limit", message: "Infinity cannot be passed to a directive; quote it to pass text" },
    ],
  },
];

describe('invalid formulas are reported with position, path and an exact message', () => {
  it('the table has at least 25 cases', () => assert.ok(cases.length >= 25, String(cases.length)));

  for (const c of cases) {
    it(c.name, () => {
      const result = parseFormula(c.yaml, 'runtask.yml');
      assert.equal(result.formula, undefined, 'an invalid formula yields no Formula');
      assert.deepEqual(
        result.errors.map(({ line, column, path, message }) => ({ line, column, path, message })),
        c.errors,
      );
      for (const e of result.errors) {
        assert.equal(e.severity, 'error');
        assert.equal(e.file, 'runtask.yml');
      }
    });
  }
});

describe('several problems are reported at once, in file order', () => {
  it('one formula with five mistakes gives five errors', () => {
    const yaml = [
      'name: demo',
      'desc: d',
      'maintainr: me',
      'input:',
      '  args: [koji_build]',
      'actions:',
      '  - name: download',
      '    koji: {action: downlod, koji_build: $koji_build, arch: all}',
      '  - name: check',
      '    shell: ["rpmlint ${wrkdir}"]',
      '    timeout: 10',
      '  - name: report',
      '    resultsdb: {}',
      '',
    ].join('\n');
    assert.deepEqual(
      parseFormula(yaml, 'runtask.yml').errors.map((e) => `${e.line}:${e.column} ${e.path}`),
      ['3:1 maintainr', '8:20 actions[0].koji.action', '10:13 actions[1].shell[0]', '11:14 actions[1].timeout', '13:5 actions[2].resultsdb'],
    );
  });
});
