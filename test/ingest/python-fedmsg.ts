// The real Python fedmsg library for the interop test, installed by the project itself: a venv under
// .cache/python-fedmsg with fedmsg (and its crypto_ng extra, to sign with X.509) from PyPI. Reused
// once installed; a marker file names what was installed, so a changed pin reinstalls.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/devserver/project.js';

// fedmsg's X.509 code calls pyOpenSSL's load_crl, which pyOpenSSL 24.3 removed: pin the last pair
// that has it.
export const FEDMSG_REQUIREMENTS = ['fedmsg[crypto_ng]==1.1.7', 'pyOpenSSL==24.2.1', 'cryptography==43.0.3'];
const FEDMSG_REQUIREMENT = FEDMSG_REQUIREMENTS.join(' ');

export function ensurePythonFedmsg(log: (line: string) => void = () => {}): string {
  const venv = join(projectRoot(), '.cache', 'python-fedmsg');
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, 'installed.txt');
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === FEDMSG_REQUIREMENT) return python;
  log(`installing ${FEDMSG_REQUIREMENT} into ${venv}`);
  rmSync(venv, { recursive: true, force: true });
  const system = process.env.PYTHON ?? 'python3';
  execFileSync(system, ['-m', 'venv', venv], { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...FEDMSG_REQUIREMENTS], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  writeFileSync(marker, `${FEDMSG_REQUIREMENT}\n`);
  return python;
}
