// The test venvs' builder (python-venv.ts) on the paths a fresh clone rarely takes: uv failing, or
// uv's own install failing (PyPI refusing the pin), so pip builds the venv; and pip's index settings
// handed to uv. Offline: the one package installed is a wheel written here, from a local directory
// (`--no-index --find-links`).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { projectRoot } from '../../src/devserver/project.js';
import { ensureVenv, UV_VERSION, uvEnv } from './python-venv.js';

describe('a test venv whose uv fails', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'taskotron-venv-'));
  const name = `test-venv-fallback-${process.pid}`;
  const venv = join(projectRoot(), '.cache', name);
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(venv, { recursive: true, force: true });
  });

  // A pure-Python wheel of one module, as pip and uv accept it: the module, METADATA, WHEEL, RECORD.
  const wheels = join(scratch, 'wheels');
  execFileSync('python3', [
    '-c',
    `import os, sys, zipfile
os.makedirs(sys.argv[1])
with zipfile.ZipFile(os.path.join(sys.argv[1], 'tinypkg-1.0-py3-none-any.whl'), 'w') as whl:
    files = {
        'tinypkg.py': 'VALUE = 42\\n',
        'tinypkg-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: tinypkg\\nVersion: 1.0\\n',
        'tinypkg-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: taskotron-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
    }
    for path, text in files.items():
        whl.writestr(path, text)
    whl.writestr('tinypkg-1.0.dist-info/RECORD', ''.join(path + ',,\\n' for path in [*files, 'tinypkg-1.0.dist-info/RECORD']))
`,
    wheels,
  ]);
  const requirements = ['--no-index', '--find-links', wheels, 'tinypkg==1.0'];

  /** A stand-in for uv that records each call and fails as a broken uv would. */
  const calls = join(scratch, 'uv-calls');
  const brokenUv = join(scratch, 'uv');
  writeFileSync(brokenUv, `#!/bin/sh\necho "$@" >> '${calls}'\necho 'uv: broken on purpose' >&2\nexit 2\n`);
  chmodSync(brokenUv, 0o755);

  test('pip builds it instead, the log says why, and the package imports', async () => {
    const lines: string[] = [];
    const python = await ensureVenv(name, requirements, (line) => lines.push(line), { uv: brokenUv });
    assert.equal(python, join(venv, 'bin', 'python'));
    assert.match(readFileSync(calls, 'utf8'), /^venv /, 'uv was asked first');
    assert.ok(
      lines.some((line) => line.startsWith(`uv could not build ${venv}, building with pip instead: Command failed: ${brokenUv} venv`)),
      lines.join('\n'),
    );
    assert.equal(execFileSync(python, ['-c', 'import tinypkg; print(tinypkg.VALUE)'], { encoding: 'utf8' }).trim(), '42');
    assert.equal(readFileSync(join(venv, 'installed.txt'), 'utf8'), `${requirements.join(' ')}\n`);
    // Neither uv's broken build nor pip's staging directory is left behind.
    assert.deepEqual(
      readdirSync(join(projectRoot(), '.cache')).filter((entry) => entry.startsWith(`${name}.`)),
      [],
    );
  });

  test("when uv itself cannot be installed, pip builds it, and the log says why", async () => {
    // pip told to look nowhere but the wheels directory, which has no uv: its install fails as it
    // does when PyPI refuses the pin. Into a uv home of the test's own, so the project's uv is not
    // touched (nor used: it is not in that home).
    const other = `${name}-no-uv`;
    const uvHome = join(scratch, 'uv-home');
    const lines: string[] = [];
    try {
      const python = await ensureVenv(other, requirements, (line) => lines.push(line), {
        uvInstall: { home: uvHome, env: { ...process.env, PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels } },
      });
      assert.equal(python, join(projectRoot(), '.cache', other, 'bin', 'python'));
      const failure = lines.find((line) => line.startsWith('installing uv failed, building with pip instead: '));
      assert.ok(failure, lines.join('\n'));
      assert.ok(failure.includes(`uv==${UV_VERSION}`), failure);
      assert.equal(execFileSync(python, ['-c', 'import tinypkg; print(tinypkg.VALUE)'], { encoding: 'utf8' }).trim(), '42');
      // Nothing of the failed install is left: no uv home, no staging directory beside it.
      assert.deepEqual(readdirSync(scratch).filter((entry) => entry.startsWith('uv-home')), []);
    } finally {
      rmSync(join(projectRoot(), '.cache', other), { recursive: true, force: true });
    }
  });

  test('once built, it is used as it is: no installer runs again', async () => {
    assert.ok(existsSync(join(venv, 'installed.txt')), 'the first test built it');
    rmSync(calls, { force: true });
    const lines: string[] = [];
    const python = await ensureVenv(name, requirements, (line) => lines.push(line), { uv: brokenUv });
    assert.equal(python, join(venv, 'bin', 'python'));
    assert.deepEqual(lines, []);
    assert.equal(existsSync(calls), false, 'uv was not called');
  });
});

test("uv is given pip's index and CA settings, its own cache, and no Python downloads", () => {
  const env = uvEnv({
    PATH: '/usr/bin',
    PIP_CERT: '/etc/pki/ca.pem',
    PIP_INDEX_URL: 'http://127.0.0.1:3141/simple',
    PIP_EXTRA_INDEX_URL: 'http://127.0.0.1:3142/simple',
    PIP_FIND_LINKS: '/srv/wheels',
  });
  assert.equal(env.PATH, '/usr/bin');
  assert.equal(env.SSL_CERT_FILE, '/etc/pki/ca.pem');
  assert.equal(env.UV_INDEX_URL, 'http://127.0.0.1:3141/simple');
  assert.equal(env.UV_EXTRA_INDEX_URL, 'http://127.0.0.1:3142/simple');
  assert.equal(env.UV_FIND_LINKS, '/srv/wheels');
  assert.equal(env.UV_CACHE_DIR, join(projectRoot(), '.cache', 'uv-cache'));
  assert.equal(env.UV_NATIVE_TLS, '1');
  assert.equal(env.UV_PYTHON_DOWNLOADS, 'never');
  // A CA file the machine already names wins over pip's; unset pip settings set nothing.
  const plain = uvEnv({ SSL_CERT_FILE: '/etc/ssl/own.pem', PIP_CERT: '/etc/pki/ca.pem' });
  assert.equal(plain.SSL_CERT_FILE, '/etc/ssl/own.pem');
  for (const key of ['UV_INDEX_URL', 'UV_EXTRA_INDEX_URL', 'UV_FIND_LINKS']) assert.equal(plain[key], undefined, key);
});
