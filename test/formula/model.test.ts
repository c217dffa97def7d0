// Our extensions and the normalised model: what parseFormula hands to the job workflow.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationSeconds, formatDiagnostic, parseFormula } from '../../src/formula/index.js';

const formula = (actions: string, extra = '') =>
  `name: demo\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build, arch]\n${extra}actions:\n${actions}`;

describe('the normalised formula', () => {
  it('carries job timeout, per-action timeout and retry (with the default backoff filled in)', () => {
    const { formula: f, errors } = parseFormula(
      formula(
        [
          '  - name: flaky download',
          '    koji: {action: download, koji_build: $koji_build, arch: $arch}',
          '    timeout: 30m',
          '    retry: {attempts: 3}',
          '    export: dl',
          '  - name: check',
          '    shell: [[rpmlint, "${dl.downloaded_rpms}"]]',
          '    retry: {attempts: 2, backoff: 1m, max_backoff: 5m}',
          '',
        ].join('\n'),
        'timeout: 2h\n',
      ),
      'f.yml',
    );
    assert.deepEqual(errors, []);
    assert.equal(f?.timeout, '2h');
    assert.equal(durationSeconds(f?.timeout ?? ''), 7200);
    assert.deepEqual(f?.actions, [
      {
        name: 'flaky download',
        directive: 'koji',
        params: { action: 'download', koji_build: '$koji_build', arch: '$arch' },
        export: 'dl',
        timeout: '30m',
        retry: { attempts: 3, backoff: '10s' },
      },
      {
        name: 'check',
        directive: 'shell',
        params: [['rpmlint', '${dl.downloaded_rpms}']],
        retry: { attempts: 2, backoff: '1m', maxBackoff: '5m' },
      },
    ]);
  });

  it("accepts the pre-0.4.15 directive name 'bash' as 'shell', with a warning", () => {
    const { formula: f, warnings } = parseFormula(formula('  - name: a\n    bash: [ls]\n'), 'f.yml');
    assert.equal(f?.actions[0]?.directive, 'shell');
    assert.deepEqual(warnings.map(formatDiagnostic), [
      "f.yml:8:5: warning: actions[0].bash: 'bash' is the old name of 'shell' (renamed in libtaskotron 0.4.15): use 'shell'",
    ]);
  });

  it('gives no formula when there is any error, but still reports warnings', () => {
    const r = parseFormula(formula('  - name: a\n    bash: [ls]\n    timeout: 0s\n'), 'f.yml');
    assert.equal(r.formula, undefined);
    assert.equal(r.errors.length, 1);
    assert.equal(r.warnings.length, 1);
  });

  it('every parameter value may be a variable reference where a list, mapping or flag is expected', () => {
    const { errors } = parseFormula(
      formula(
        [
          '  - name: a',
          '    python: {file: a.py, callable: run}',
          '    export: v',
          '  - name: b',
          '    distgit: {package: x, path: "${v}", localpath: $v, ignore_missing: "${v.flag}"}',
          '  - name: c',
          '    koji: {action: download, koji_build: "${v.nvr}", arch: "${v.arches}", src: "${v.src}"}',
          '  - name: d',
          '    shell: $v',
          '',
        ].join('\n'),
      ),
      'f.yml',
    );
    assert.deepEqual(errors.map(formatDiagnostic), []);
  });
});

describe('odd input never throws, it is reported', () => {
  const H = 'name: t\ndesc: d\nmaintainer: m\ninput: {args: [koji_build]}\n';
  const odd = [
    'actions: {}',
    `${H}actions: [null]`,
    `${H}actions:\n  - name: a\n    shell: null`,
    `${H}? [a, b]\n: c\nactions:\n  - {name: a, shell: [ls]}`,
    `${H}1: x\nactions:\n  - {name: a, shell: [ls]}`,
    'a: &a [*a]',
    `${H}actions:\n  - name: a\n    dummy: {result: PASS, msg: !!binary aGVsbG8=}`,
    `${H}task: 5\nactions: [{name: a, shell: [ls]}]`,
    '---\n---\n',
    '42',
    // a "billion laughs" alias bomb
    'a: &x [1,1,1,1,1,1,1,1,1,1]\nb: &y [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\nc: &z [*y,*y,*y,*y,*y,*y,*y,*y,*y,*y]\nd: [*z,*z,*z,*z,*z,*z,*z,*z,*z,*z]',
  ];
  for (const yaml of odd) {
    it(JSON.stringify(yaml).slice(0, 60), () => {
      const r = parseFormula(yaml, 'f.yml');
      assert.equal(r.formula, undefined);
      assert.ok(r.errors.length > 0);
      for (const e of r.errors) assert.ok(e.line >= 1 && e.column >= 1 && e.message.length > 0, formatDiagnostic(e));
    });
  }

  it('a YAML warning (unknown tag) is a warning diagnostic, not noise on stderr', () => {
    const r = parseFormula(`${H}actions:\n  - name: a\n    dummy: {result: !foo PASS}\n`, 'f.yml');
    assert.deepEqual(r.warnings.map(formatDiagnostic), ['f.yml:7:21: warning: YAML: Unresolved tag: !foo']);
  });
});
