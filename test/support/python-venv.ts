// A Python virtualenv under .cache/<name> with pinned packages from PyPI, for the tests that run the
// real Fedora libraries (fedmsg, fedora-messaging). Several test files run at once and may all find it
// missing on a fresh clone: each builds into a private directory and renames it into place, so no one
// ever sees (or deletes) a half-built venv; the first rename wins and the others drop their copy.
// A marker file names what was installed, so a changed pin reinstalls.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/devserver/project.js';

export function ensureVenv(name: string, requirements: readonly string[], log: (line: string) => void = () => {}): string {
  const wanted = requirements.join(' ');
  const venv = join(projectRoot(), '.cache', name);
  const ready = () => existsSync(join(venv, 'bin', 'python')) && existsSync(join(venv, 'installed.txt')) && readFileSync(join(venv, 'installed.txt'), 'utf8').trim() === wanted;
  if (ready()) return join(venv, 'bin', 'python');
  log(`installing ${wanted} into ${venv}`);
  // A venv keeps working when its directory is renamed: its prefix is where pyvenv.cfg is.
  const build = `${venv}.build-${process.pid}-${Date.now()}`;
  try {
    execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', build], { stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync(join(build, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...requirements], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    writeFileSync(join(build, 'installed.txt'), `${wanted}\n`);
    if (!ready()) {
      // An older pin (or a broken copy) goes; one another process just put in place stays.
      rmSync(venv, { recursive: true, force: true });
      try {
        renameSync(build, venv);
      } catch (error) {
        if (!ready()) throw error;
      }
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  return join(venv, 'bin', 'python');
}
