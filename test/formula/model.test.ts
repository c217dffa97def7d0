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
