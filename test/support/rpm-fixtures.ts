// Real RPM files for the Koji stand-in, built in test setup with rpmbuild (Debian package `rpm`,
// installed by scripts/system-deps.sh). Packaging-only specs build in well under a second per arch.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BuiltRpm {
  path: string;
  name: string;
  version: string;
  release: string;
  arch: string;
  size: number;
  /** SIGMD5, what Koji calls payloadhash. */
  payloadhash: string;
}

export interface PackageSpec {
  name: string;
  version: string;
  release: string;
  /** Arches to build the main package for (each also gets a -debuginfo subpackage). */
  arches: string[];
  /** A noarch python3-<name> subpackage requiring python(abi) = <this>. */
  pythonAbi?: string;
  /** Also a noarch python2-<name> subpackage requiring python(abi) = 2.7 (a python-versions failure). */
  python2?: boolean;
  /** Size of an incompressible payload file in the main package (bench fixtures). */
  payloadBytes?: number;
}

function spec(p: PackageSpec): string {
  const lines = [
    '%global debug_package %{nil}',
    '%global _binary_payload w0.ufdio',
    `Name: ${p.name}`,
    `Version: ${p.version}`,
    `Release: ${p.release}`,
    'Summary: A package for the Koji stand-in',
    'License: MIT',
    '%description',
    'Built by the taskotron test suite.',
    '%package debuginfo',
    'Summary: Debug information',
    '%description debuginfo',
    'Debug information.',
  ];
  if (p.pythonAbi) {
    lines.push(`%package -n python3-${p.name}`, 'Summary: Python 3 module', 'BuildArch: noarch', `Requires: python(abi) = ${p.pythonAbi}`, `%description -n python3-${p.name}`, 'Python 3 module.');
  }
  if (p.python2) {
    lines.push(`%package -n python2-${p.name}`, 'Summary: Python 2 module', 'BuildArch: noarch', 'Requires: python(abi) = 2.7', `%description -n python2-${p.name}`, 'Python 2 module.');
  }
  lines.push(
    '%install',
    `mkdir -p %{buildroot}/usr/share/${p.name} %{buildroot}/usr/lib/debug`,
    `echo ${p.name} > %{buildroot}/usr/share/${p.name}/data`,
    p.payloadBytes ? `head -c ${p.payloadBytes} /dev/urandom > %{buildroot}/usr/share/${p.name}/payload` : 'true',
    `echo debug > %{buildroot}/usr/lib/debug/${p.name}.debug`,
    p.pythonAbi ? `mkdir -p %{buildroot}/usr/lib/python3/site-packages && echo 'x = 1' > %{buildroot}/usr/lib/python3/site-packages/${p.name}.py` : 'true',
    p.python2 ? `mkdir -p %{buildroot}/usr/lib/python2.7/site-packages && echo 'x = 1' > %{buildroot}/usr/lib/python2.7/site-packages/${p.name}.py` : 'true',
    '%files',
    `/usr/share/${p.name}/data`,
    ...(p.payloadBytes ? [`/usr/share/${p.name}/payload`] : []),
    '%files debuginfo',
    `/usr/lib/debug/${p.name}.debug`,
  );
  if (p.pythonAbi) lines.push(`%files -n python3-${p.name}`, `/usr/lib/python3/site-packages/${p.name}.py`);
  if (p.python2) lines.push(`%files -n python2-${p.name}`, `/usr/lib/python2.7/site-packages/${p.name}.py`);
  return lines.join('\n') + '\n';
}

/** Builds the package (SRPM + binary RPMs per arch, noarch subpackages once) under `dir`. */
export function buildPackage(dir: string, p: PackageSpec): BuiltRpm[] {
  const top = join(dir, `${p.name}-${p.version}-${p.release}`);
  mkdirSync(top, { recursive: true });
  const specFile = join(top, `${p.name}.spec`);
  writeFileSync(specFile, spec(p));
  const defines = ['--define', `_topdir ${top}`, '--define', '__os_install_post %{nil}', '--define', '_build_id_links none'];
  p.arches.forEach((arch, i) => {
    execFileSync('rpmbuild', [i === 0 ? '-ba' : '-bb', '--target', arch, ...defines, specFile], { stdio: 'pipe' });
  });
  const files: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.rpm')) files.push(full);
    }
  };
  walk(join(top, 'RPMS'));
  walk(join(top, 'SRPMS'));
  const info = execFileSync('rpm', ['-qp', '--qf', '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SIGMD5}\\t%{SOURCERPM}\\n', ...files], { encoding: 'utf8' });
  return info
    .trim()
    .split('\n')
    .map((line, i) => {
      const [name, version, release, arch, payloadhash, sourcerpm] = line.split('\t');
      return { path: files[i]!, name: name!, version: version!, release: release!, arch: sourcerpm === '(none)' ? 'src' : arch!, size: statSync(files[i]!).size, payloadhash: payloadhash! };
    });
}
