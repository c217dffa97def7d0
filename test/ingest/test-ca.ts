// A throwaway fedmsg CA made with the openssl CLI: a CA, host certificates issued by it (one of them
// revoked in the CRL), and one from an unrelated CA. Files are named as fedmsg's ssldir expects:
// <certname>.crt and <certname>.key.
import { execFileSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// RSA keys from a pool shared by the run's files. Generating a 2048-bit key costs openssl 0.15–0.6 s
// of CPU, and the files that sign fedmsg messages needed 35 a run (crl.test.ts alone 14, blocking
// its process meanwhile); the certificates, CRLs and signatures stay new in every CA. Every key a
// process takes is a different one (a signature by one host never verifies with another's
// certificate); separate processes may share them, as they share nothing else. Under `npm test`
// the pool is in the run's temporary directory (TMPDIR, removed with it); run any other way, in
// this process's own.
const keyPool = process.env.TASKOTRON_TEST_HARNESS === '1' ? join(tmpdir(), 'taskotron-test-rsa-keys') : mkdtempSync(join(tmpdir(), 'taskotron-test-rsa-keys-'));
let keysTaken = 0;

/** Runs the openssl CLI in `dir`; its output is returned, its errors thrown with stderr. */
export function openssl(dir: string, ...args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes the process's next pooled RSA key to `path` (generated once per run and index). */
export function pooledKey(path: string): void {
  const pooled = join(keyPool, `rsa-${keysTaken++}.pem`);
  mkdirSync(keyPool, { recursive: true });
  try {
    copyFileSync(pooled, path);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Made under a name of its own, then linked in: a file generating the same index at the same time
  // keeps whichever link came first, and nobody reads a half-written key.
  const fresh = `${pooled}.${process.pid}`;
  openssl(keyPool, 'genrsa', '-out', fresh, '2048');
  try {
    linkSync(fresh, pooled);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(fresh, { force: true });
  }
  copyFileSync(pooled, path);
}

/** `<name>.key` (pooled) and `<name>.crt` issued by `<ca>` in `dir`, as `openssl req` + `x509 -req` make them. */
export function issueCert(dir: string, name: string, serial: string, ca = 'ca'): void {
  pooledKey(join(dir, `${name}.key`));
  openssl(dir, 'req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.example.org`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', serial, '-days', '30', '-out', `${name}.crt`);
}

export interface TestCa {
  dir: string;
  caFile: string;
  crlFile: string;
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'fedmsg-ca-'));
  for (const [name, subject] of [['ca', 'Test fedmsg CA'], ['other', 'Some other CA']] as const) {
    pooledKey(join(dir, `${name}.key`));
    openssl(dir, 'req', '-x509', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '60', '-subj', `/CN=${subject}`);
  }
  issueCert(dir, 'koji01', '0x1001');
  issueCert(dir, 'bodhi01', '0x1002');
  issueCert(dir, 'stranger', '0x1003', 'other');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\ncertificate = ca.crt\nprivate_key = ca.key\n',
  );
  openssl(dir, 'ca', '-config', 'ca.cnf', '-revoke', 'bodhi01.crt');
  openssl(dir, 'ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem');
  return { dir, caFile: join(dir, 'ca.crt'), crlFile: join(dir, 'crl.pem') };
}

/**
 * Revokes `revoke` (a certificate name in the CA's directory), if given, and writes a new CRL valid
 * for `seconds` from now; returns its bytes. Each CRL has a higher crlNumber than the one before.
 */
export function issueCrl(ca: TestCa, options: { revoke?: string; seconds: number; out: string; lastUpdate?: Date }): Buffer {
  if (options.revoke) openssl(ca.dir, 'ca', '-config', 'ca.cnf', '-revoke', `${options.revoke}.crt`);
  const last = options.lastUpdate ? ['-crl_lastupdate', `${options.lastUpdate.toISOString().replace(/[-:T]|\.\d+/g, '')}`] : [];
  openssl(ca.dir, 'ca', '-config', 'ca.cnf', '-gencrl', ...last, '-crlsec', String(options.seconds), '-out', options.out);
  return readFileSync(join(ca.dir, options.out));
}
