// The real Python fedmsg library for the interop test, installed by the project itself: a venv under
// .cache/python-fedmsg with fedmsg (and its crypto_ng extra, to sign with X.509) from PyPI. Reused
// once installed; a marker file names what was installed, so a changed pin reinstalls.
import { ensureVenv } from '../support/python-venv.js';

// fedmsg's X.509 code calls pyOpenSSL's load_crl, which pyOpenSSL 24.3 removed: pin the last pair
// that has it.
export const FEDMSG_REQUIREMENTS = ['fedmsg[crypto_ng]==1.1.7', 'pyOpenSSL==24.2.1', 'cryptography==43.0.3'];

export function ensurePythonFedmsg(log: (line: string) => void = () => {}): Promise<string> {
  return ensureVenv('python-fedmsg', FEDMSG_REQUIREMENTS, log);
}
