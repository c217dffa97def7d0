// The real Python fedora-messaging library for the AMQP interop test, installed by the project itself
// into a venv under .cache/ from PyPI, the way python-fedmsg.ts installs fedmsg. A marker file names
// what was installed, so a changed pin reinstalls.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/devserver/project.js';

export const FEDORA_MESSAGING_REQUIREMENTS = ['fedora-messaging==3.9.1'];
const REQUIREMENT = FEDORA_MESSAGING_REQUIREMENTS.join(' ');

export function ensurePythonFedoraMessaging(log: (line: string) => void = () => {}): string {
  const venv = join(projectRoot(), '.cache', 'python-fedora-messaging');
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, 'installed.txt');
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === REQUIREMENT) return python;
  log(`installing ${REQUIREMENT} into ${venv}`);
  rmSync(venv, { recursive: true, force: true });
  execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv], { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...FEDORA_MESSAGING_REQUIREMENTS], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  writeFileSync(marker, `${REQUIREMENT}\n`);
  return python;
}
