// Variable substitution (reference §1.3) as the runner applies it to each action's parameters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationSeconds, parseDuration } from '../../src/formula/duration.js';
import {
  builtinVariables,
  FormulaVariableError,
  substituteParams,
  type Variables,
} from '../../src/formula/substitute.js';

const job = builtinVariables({
  item: 'foo-1.0-1.fc40',
  itemType: 'koji_build',
  arch: 'x86_64',
  uuid: '0b5e4b4e-1111-2222-3333-444455556666',
  jobid: 'job-7',
  artifactsdir: '/srv/artifacts/0b5e',
  workdir: '/tmp/work',
  taskdir: '/srv/tasks/rpmlint',
  checkname: 'rpmlint',
  namespace: 'dist',
});
const vars: Variables = {
  ...job,
  c: { name: 'dhcp', gitref: 'f27', namespace: 'modules' },
  rpms: ['/w/a.rpm', '/w/b.rpm'],
  koji_output: { downloaded_rpms: ['/w/a.rpm'], log_errors: [] },
  count: 3,
};
const ctx = { action: 'check', path: 'actions[1].python' };

describe('builtinVariables', () => {
  it('defines every built-in, and the item under its type name', () => {
    assert.deepEqual(job, {
      koji_build: 'foo-1.0-1.fc40',
      item: 'foo-1.0-1.fc40',
      type: 'koji_build',
      item_type: 'koji_build',
      arch: 'x86_64',
      uuid: '0b5e4b4e-1111-2222-3333-444455556666',
      jobid: 'job-7',
      artifactsdir: '/srv/artifacts/0b5e',
      workdir: '/tmp/work',
      taskdir: '/srv/tasks/rpmlint',
      checkname: 'rpmlint',
      namespace: 'dist',
    });
  });

  it('leaves namespace undefined when the formula has none', () => {
    const v = builtinVariables({ ...{ item: 'i', itemType: 'koji_tag', arch: 'noarch', uuid: 'u', jobid: 'j' }, artifactsdir: 'a', workdir: 'w', taskdir: 't', checkname: 'c' });
    assert.equal('namespace' in v, false);
    assert.equal(v.koji_tag, 'i');
  });

  it('an item type cannot replace a built-in', () => {
    const v = builtinVariables({ item: 'i', itemType: 'workdir', arch: 'a', uuid: 'u', jobid: 'j', artifactsdir: 'a', workdir: '/w', taskdir: 't', checkname: 'c' });
    assert.equal(v.workdir, '/w');
  });
});

describe('substituteParams', () => {
  it('substitutes $name, ${name} and ${a.b}, and $$ is a literal $', () => {
    assert.deepEqual(
      substituteParams('python', { file: 'x.py', callable: 'run', a: '$item', b: '${arch}', c: '${c.name}', d: 'cost: $$5' }, vars, ctx),
      { file: 'x.py', callable: 'run', a: 'foo-1.0-1.fc40', b: 'x86_64', c: 'dhcp', d: 'cost: $5' },
    );
  });

  it('$name ends at the first character that cannot be in a name: $item.src is the item followed by .src', () => {
    assert.equal(substituteParams('dummy', '$item.src', vars, ctx), 'foo-1.0-1.fc40.src');
  });

  it('a value that is exactly one reference keeps its type', () => {
    assert.deepEqual(substituteParams('python', { rpms: '${rpms}', out: '${koji_output}', n: '$count' }, vars, ctx), {
      rpms: ['/w/a.rpm', '/w/b.rpm'],
      out: { downloaded_rpms: ['/w/a.rpm'], log_errors: [] },
      n: 3,
    });
  });

  it('dotted access reaches into lists by index too', () => {
    assert.equal(substituteParams('dummy', '${koji_output.downloaded_rpms.0}', vars, ctx), '/w/a.rpm');
  });

  it('a reference inside a longer string is stringified; non-strings as JSON', () => {
    assert.deepEqual(substituteParams('dummy', { msg: 'n=${count} rpms=${rpms} ok=${c.name}!' }, vars, ctx), {
      msg: 'n=3 rpms=["/w/a.rpm","/w/b.rpm"] ok=dhcp!',
    });
  });

  it('substitutes mapping keys too', () => {
    assert.deepEqual(substituteParams('python', { file: 'f.py', callable: 'run', '${c.name}_ref': '${c.gitref}' }, vars, ctx), {
      file: 'f.py',
      callable: 'run',
      dhcp_ref: 'f27',
    });
  });

  it('a key built from an untrusted value stays an ordinary key, never the prototype', () => {
    const out = substituteParams('python', { '${evil}': 'x' }, { evil: '__proto__' }, ctx) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });

  it('leaves non-string scalars and strings without $ alone, and does not modify its input', () => {
    const params = { action: 'download', arch: ['x86_64', 'noarch'], src: false, n: 1, nothing: null };
    const copy = structuredClone(params);
    assert.deepEqual(substituteParams('koji', params, vars, ctx), params);
    assert.deepEqual(params, copy);
  });

  it('an undefined variable is a FormulaVariableError naming the variable, the action and the path', () => {
    assert.throws(
      () => substituteParams('python', { file: 'f.py', callable: 'run', nvr: 'x-${nvr}' }, vars, ctx),
      (e: unknown) => {
        assert.ok(e instanceof FormulaVariableError);
        assert.equal(e.name, 'FormulaVariableError');
        assert.equal(e.variable, 'nvr');
        assert.equal(e.action, 'check');
        assert.equal(e.path, 'actions[1].python.nvr');
        assert.equal(e.message, "undefined variable 'nvr' in action 'check' (actions[1].python.nvr)");
        return true;
      },
    );
  });

  it('a missing attribute names the dotted variable', () => {
    assert.throws(
      () => substituteParams('dummy', { result: '${c.stream}' }, vars, ctx),
      (e: unknown) => e instanceof FormulaVariableError && e.variable === 'c.stream' && /'c' has no 'stream'/.test(e.message),
    );
  });

  it('inherited properties are not variables', () => {
    assert.throws(() => substituteParams('dummy', '${constructor}', {}, ctx), FormulaVariableError);
    assert.throws(() => substituteParams('dummy', '${c.constructor}', vars, ctx), FormulaVariableError);
  });

  it('an invalid $ is an error too (the validator reports it before anything runs)', () => {
    assert.throws(() => substituteParams('dummy', 'price: $5', vars, ctx), /invalid '\$' at "\$5"/);
  });
});

describe('substituteParams for shell', () => {
  const shell = (params: unknown, v: Variables = vars) => substituteParams('shell', params, v, { action: 'sh', path: 'actions[0].shell' });

  it('turns each command into a runnable form: script for strings, argv for lists, ignoreReturn flagged', () => {
    assert.deepEqual(
      shell([
        'rpmlint ${workdir}',
        ['avocado', 'run', '--mux-inject', 'run:modulemd:${workdir}/${c.name}.yaml', 5],
        { ignorereturn: 'false' },
        { ignorereturn: [['false'], 'true'] },
      ]),
      [
        { kind: 'script', script: "rpmlint '/tmp/work'", ignoreReturn: false },
        { kind: 'argv', argv: ['avocado', 'run', '--mux-inject', 'run:modulemd:/tmp/work/dhcp.yaml', '5'], ignoreReturn: false },
        { kind: 'script', script: 'false', ignoreReturn: true },
        { kind: 'argv', argv: ['false'], ignoreReturn: true },
        { kind: 'script', script: 'true', ignoreReturn: true },
      ],
    );
  });

  it('an argv element that is exactly a list variable becomes several arguments', () => {
    assert.deepEqual(shell([['rpmlint', '${rpms}']]), [{ kind: 'argv', argv: ['rpmlint', '/w/a.rpm', '/w/b.rpm'], ignoreReturn: false }]);
  });

  it('the whole command list may come from a variable; its commands are data and run as argv', () => {
    assert.deepEqual(shell('${cmds}', { cmds: ['./check.sh', ['ls', '-l']] }), [
      { kind: 'argv', argv: ['./check.sh'], ignoreReturn: false },
      { kind: 'argv', argv: ['ls', '-l'], ignoreReturn: false },
    ]);
  });
});

describe('durations', () => {
  it('are written with units and read as seconds', () => {
    assert.equal(durationSeconds('90s'), 90);
    assert.equal(durationSeconds('30m'), 1800);
    assert.equal(durationSeconds('2h'), 7200);
    assert.equal(durationSeconds('1h30m'), 5400);
    assert.equal(durationSeconds('1h0m5s'), 3605);
  });

  it('reject bare numbers, zero, wrong order and unknown units', () => {
    for (const bad of ['90', '0s', '', '30m1h', '1d', '1.5h', ' 5s', '5 s']) assert.equal(parseDuration(bad), undefined, bad);
    assert.throws(() => durationSeconds('90'), RangeError);
  });
});
