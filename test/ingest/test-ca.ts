// A throwaway fedmsg CA made with the openssl CLI: a CA, host certificates issued by it (one of them
// revoked in the CRL), and one from an unrelated CA. Files are named as fedmsg's ssldir expects:
// <certname>.crt and <certname>.key.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caFile: string;
  crlFile: string;
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'fedmsg-ca-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const issue = (name: string, serial: string, ca = 'ca') => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.example.org`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', serial, '-days', '30', '-out', `${name}.crt`);
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '60', '-subj', '/CN=Test fedmsg CA');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '60', '-subj', '/CN=Some other CA');
  issue('koji01', '0x1001');
  issue('bodhi01', '0x1002');
  issue('stranger', '0x1003', 'other');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\ncertificate = ca.crt\nprivate_key = ca.key\n',
  );
  openssl('ca', '-config', 'ca.cnf', '-revoke', 'bodhi01.crt');
  openssl('ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem');
  return { dir, caFile: join(dir, 'ca.crt'), crlFile: join(dir, 'crl.pem') };
}

/**
 * Revokes `revoke` (a certificate name in the CA's directory), if given, and writes a new CRL valid
 * for `seconds` from now; returns its bytes. Each CRL has a higher crlNumber than the one before.
 */
export function issueCrl(ca: TestCa, options: { revoke?: string; seconds: number; out: string; lastUpdate?: Date }): Buffer {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: ca.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  if (options.revoke) openssl('ca', '-config', 'ca.cnf', '-revoke', `${options.revoke}.crt`);
  const last = options.lastUpdate ? ['-crl_lastupdate', `${options.lastUpdate.toISOString().replace(/[-:T]|\.\d+/g, '')}`] : [];
  openssl('ca', '-config', 'ca.cnf', '-gencrl', ...last, '-crlsec', String(options.seconds), '-out', options.out);
  return readFileSync(join(ca.dir, options.out));
}
