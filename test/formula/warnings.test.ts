// Warnings: the formula is valid and runs, but something in it is probably not what the author
// meant. They are reported apart from errors, and never make the formula invalid.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic, parseFormula } from '../../src/formula/index.js';
import { HEADER, withActions } from './invalid-cases.js';

const cases: { name: string; yaml: string; warnings: string[] }[] = [
  {
    name: "the 2014 'task' key",
    yaml: [...HEADER.slice(0, -1), 'task:', '  - name: a', '    shell: [ls]', ''].join('\n'),
    warnings: ["f.yml:6:1: warning: task: 'task' is the 2014 name of 'actions' and is deprecated: rename it to 'actions'"],
  },
  {
    name: "the pre-0.4.15 directive name 'bash'",
    yaml: withActions('  - name: a', '    bash: [ls]'),
    warnings: ["f.yml:8:5: warning: actions[0].bash: 'bash' is the old name of 'shell' (renamed in libtaskotron 0.4.15): use 'shell'"],
  },
  {
    name: 'an export no later action reads',
    yaml: withActions('  - name: a', '    shell: [ls]', '    export: listing'),
    warnings: ["f.yml:9:13: warning: actions[0].export: export 'listing' is never used by a later action"],
  },
  {
    name: 'an export read only by the action that makes it (it runs before the export exists)',
    yaml: withActions('  - name: a', '    shell: [ls]', '    export: x', '  - name: b', '    dummy: {result: "${x}"}', '    export: x'),
    warnings: ["f.yml:12:13: warning: actions[1].export: export 'x' is never used by a later action"],
  },
  {
    name: 'an export that replaces an input variable',
    yaml: withActions('  - name: a', '    koji: {action: download, koji_build: $koji_build, arch: all}', '    export: koji_build', '  - name: b', '    dummy: {result: "$koji_build"}'),
    warnings: ["f.yml:9:13: warning: actions[0].export: export 'koji_build' replaces the input variable 'koji_build' for later actions"],
  },
  {
    name: 'several item types in input.args',
    yaml: withActions('  - name: a', '    shell: [ls]').replace('[koji_build]', '[koji_build, koji_tag, arch, arch]'),
    warnings: [
      'f.yml:5:9: warning: input.args: a job provides one item, but input.args lists 2 item types (koji_build, koji_tag)',
      "f.yml:5:38: warning: input.args[3]: 'arch' is listed twice",
    ],
  },
  {
    name: 'an inline list under ignorereturn, which looks like argv but is two command lines',
    yaml: withActions('  - name: a', '    shell:', '      - ignorereturn: [./check.sh, --strict]'),
    warnings: [
      'f.yml:9:23: warning: actions[0].shell[0].ignorereturn: this list is read as several command lines, one per item; for one argv command write [[program, arg, ...]]',
    ],
  },
  {
    name: 'an action timeout longer than the job timeout',
    yaml: withActions('  - name: a', '    shell: [ls]', '    timeout: 3h').replace('actions:', 'timeout: 2h\nactions:'),
    warnings: ['f.yml:10:14: warning: actions[0].timeout: action timeout 3h is longer than the job timeout 2h'],
  },
];

describe('warnings are separate from errors and do not invalidate the formula', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = parseFormula(c.yaml, 'f.yml');
      assert.deepEqual(r.errors.map(formatDiagnostic), []);
      assert.ok(r.formula);
      assert.deepEqual(r.warnings.map(formatDiagnostic), c.warnings);
      for (const w of r.warnings) assert.equal(w.severity, 'warning');
    });
  }
});
