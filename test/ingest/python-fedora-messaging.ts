// The real Python fedora-messaging library for the AMQP interop test, installed by the project itself
// into a venv under .cache/ from PyPI, the way python-fedmsg.ts installs fedmsg. A marker file names
// what was installed, so a changed pin reinstalls.
import { ensureVenv } from '../support/python-venv.js';

export const FEDORA_MESSAGING_REQUIREMENTS = ['fedora-messaging==3.9.1'];

export function ensurePythonFedoraMessaging(log: (line: string) => void = () => {}): Promise<string> {
  return ensureVenv('python-fedora-messaging', FEDORA_MESSAGING_REQUIREMENTS, log);
}
