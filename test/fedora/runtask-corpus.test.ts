// Every real formula of ../shared/corpus/tasks through `runtask`, as a task author runs it, against
// a Koji, Bodhi and dist-git that are not runtask's own: stand-ins on loopback, found only through the
// TASKOTRON_* environment overrides. The formulas are used unchanged except for `environment:`
// (Fedora packages this Debian host lacks); one test keeps it and checks what the author is told.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { projectRoot } from '../../src/devserver/project.js';
import { corpusPath } from '../support/corpus.js';
import { startDistgitStandIn, type DistgitStandIn } from '../support/fedora-stand-ins.js';
import { buildPackage } from '../support/rpm-fixtures.js';
import { testAddress } from '../support/temporal.js';
import { fileNames, kojiWorld, type KojiWorld } from './support.js';
import { cliArgs } from '../support/cli.js';

const fixtures = join(projectRoot(), 'test', 'fixtures', 'corpus-tasks');

describe('the corpus formulas through runtask', () => {
  let world: KojiWorld;
  let distgit: DistgitStandIn;
  let root: string;

  before(async () => {
    world = await kojiWorld();
    const both = buildPackage(join(world.scratch, 'rpmbuild'), { name: 'pyboth', version: '2.0', release: '1.fc40', arches: ['x86_64'], pythonAbi: '3.12', python2: true });
    world.koji.addBuild({ name: 'pyboth', version: '2.0', release: '1.fc40', rpms: both });
    distgit = await startDistgitStandIn();
    distgit.addFile('modules', 'mymod', 'f28', 'mymod.yaml', 'document: modulemd\nversion: 1\n');
    root = mkdtempSync(join(tmpdir(), 'taskotron-corpus-'));
  });
  after(async () => {
    await world.koji.close();
    await distgit.close();
  });

  /** A task directory: the fixture's task code plus the corpus formula as runtask.yml. */
  function task(formula: string, code: string, options: { keepEnvironment?: boolean } = {}): string {
    const dir = mkdtempSync(join(root, `${code}-`));
    cpSync(join(fixtures, code), dir, { recursive: true });
    const doc = parseDocument(readFileSync(corpusPath('tasks', formula), 'utf8'));
    if (!options.keepEnvironment) doc.delete('environment');
    writeFileSync(join(dir, 'runtask.yml'), doc.toString());
    return join(dir, 'runtask.yml');
  }

  function runtask(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [...cliArgs('runtask'), '--address', testAddress(), '--root', root, ...args], {
        cwd: projectRoot(),
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          TASKOTRON_KOJI_URL: world.koji.hubUrl,
          TASKOTRON_PKG_URL: world.koji.pkgUrl,
          TASKOTRON_DISTGIT_URL: distgit.url,
          TASKOTRON_YUMREPOINFO: corpusPath('config', 'yumrepoinfo.conf'),
          // These tests look at what the directives left in the job's workdir.
          TASKOTRON_RUNNER_KEEP_WORKDIRS: '1',
          ...extraEnv,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  test('python-versions: downloads every binary RPM of the build, checks them and reports PASSED', async () => {
    const run = await runtask(['-t', 'koji_build', '-i', 'pyfoo-1.0-1.fc40', '--uuid', 'pv-pass', task('python-versions.2016-initial.yml', 'python-versions')]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✔ \[1\] download rpms from koji \(koji\) passed/);
    assert.match(run.stdout, /PASSED\s+\S*python-versions\s+pyfoo-1\.0-1\.fc40/);
    const workdir = join(root, 'work', 'pv-pass');
    assert.deepEqual(
      readdirSync(workdir).filter((f) => f.endsWith('.rpm')).sort(),
      fileNames(world.pyfoo, (r) => r.arch !== 'src' && !r.name.endsWith('-debuginfo')),
    );
    assert.match(readFileSync(join(root, 'artifacts', 'pv-pass', 'taskotron', 'results.yml'), 'utf8'), /outcome: PASSED/);
  });

  test('python-versions: a build requiring both Python 2 and 3 is reported FAILED', async () => {
    const run = await runtask(['-t', 'koji_build', '-i', 'pyboth-2.0-1.fc40', task('python-versions.2016-initial.yml', 'python-versions')]);
    assert.match(run.stdout, /FAILED\s+\S*python-versions\s+pyboth-2\.0-1\.fc40\s+\(requires both Python 2 and 3\)/, run.stdout + run.stderr);
  });

  test('a build that does not exist crashes at the download with its NVR in the reason, after one question to Koji', async () => {
    const before = world.koji.calls.length;
    const run = await runtask(['-t', 'koji_build', '-i', 'nosuch-0.1-1.fc40', task('python-versions.2016-initial.yml', 'python-versions')]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /Outcome: {3}CRASHED/);
    assert.match(run.stdout, /Reason: .*Koji build 'nosuch-0\.1-1\.fc40' does not exist/);
    assert.deepEqual(world.koji.calls.slice(before), ['getBuild']);
  });

  test('csmock (both the 2014 and the later formula): the SRPM lands in ${workdir} and reaches the task code', async () => {
    for (const formula of ['csmock.yml', 'csmock.2014-initial-old-task-key.yml']) {
      const uuid = `csmock-${formula.length}`;
      const run = await runtask(['-t', 'koji_build', '-i', 'pyfoo-1.0-1.fc40', '--uuid', uuid, task(formula, 'csmock')]);
      assert.equal(run.code, 0, `${formula}: ${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /✔ \[2\] run csmock on downloaded srpm \(python\) passed/);
      assert.ok(existsSync(join(root, 'work', uuid, 'pyfoo-1.0-1.fc40.src.rpm')));
      const log = readdirSync(join(root, 'artifacts', uuid, 'taskotron')).find((f) => f.startsWith('02-'))!;
      assert.match(readFileSync(join(root, 'artifacts', uuid, 'taskotron', log), 'utf8'), /csmock would analyse pyfoo-1\.0-1\.fc40/);
    }
  });

  test('checkmodulemd: the modulemd file comes from dist-git (TASKOTRON_DISTGIT_URL over the formula baseurl) and the result is PASSED', async () => {
    const formula = task('checkmodulemd.yml', 'checkmodulemd');
    // The stand-in dnf and avocado from the task's own copy: the sandbox shows the job its task
    // directory, but hides /tmp, where a checkout (and so test/fixtures) may live.
    const bin = join(dirname(formula), 'bin');
    const run = await runtask(['-t', 'dist_git_commit', '-i', 'modules/mymod#f28', '--uuid', 'modulemd', formula], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✔ \[4\] download the modulemd file \(distgit\) passed/);
    assert.match(run.stdout, /PASSED\s+\S*modulemd\s+modules\/mymod#f28/);
    assert.equal(readFileSync(join(root, 'work', 'modulemd', 'download', 'mymod.yaml'), 'utf8'), 'document: modulemd\nversion: 1\n');
    assert.ok(distgit.requests.includes('/modules/mymod/raw/f28/f/mymod.yaml'));
  });

  test("with environment.rpm kept, a Debian host crashes before anything runs and tells the author what to do", async () => {
    const run = await runtask(['-t', 'koji_build', '-i', 'pyfoo-1.0-1.fc40', task('python-versions.2016-initial.yml', 'python-versions', { keepEnvironment: true })]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /Reason: +checkEnvironment: .* lacks the task's dependencies: rpm-python \(installing them is off on this runner \(TASKOTRON_INSTALL_DEPS=1 turns it on\) and would need dnf, which this host lacks: environment\.rpm names Fedora packages/);
  });
});
