import { arch } from 'node:os';

/** Fedora's name for this machine's architecture (Node says x64/arm64, Koji says x86_64/aarch64). */
export function fedoraArch(nodeArch: string = arch()): string {
  const names: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i386', ppc64: 'ppc64le', s390x: 's390x', arm: 'armhfp' };
  return names[nodeArch] ?? nodeArch;
}
