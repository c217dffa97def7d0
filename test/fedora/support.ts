// Shared setup of the Fedora directive tests: real RPMs built once per test file, a Koji stand-in
// serving them, and a runner configuration pointing at it.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionRequest } from '../../src/activities/directives/context.js';
import { defaultRunnerConfig, type RunnerConfig } from '../../src/activities/runner-config.js';
import { startKojiStandIn, type KojiStandIn } from '../support/koji-hub-server.js';
import { buildPackage, type BuiltRpm } from '../support/rpm-fixtures.js';

export interface KojiWorld {
  koji: KojiStandIn;
  /** pyfoo-1.0-1.fc40: x86_64 + i686 (+ -debuginfo each), noarch python3-pyfoo, SRPM; build.log for x86_64 only. */
  pyfoo: BuiltRpm[];
  scratch: string;
}

export async function kojiWorld(): Promise<KojiWorld> {
  const scratch = mkdtempSync(join(tmpdir(), 'taskotron-koji-'));
  const koji = await startKojiStandIn();
  const pyfoo = buildPackage(join(scratch, 'rpmbuild'), { name: 'pyfoo', version: '1.0', release: '1.fc40', arches: ['x86_64', 'i686'], pythonAbi: '3.12' });
  koji.addBuild({ name: 'pyfoo', version: '1.0', release: '1.fc40', rpms: pyfoo, logs: { x86_64: 'build.log of pyfoo on x86_64\n' }, tags: ['f40-updates-candidate'] });
  return { koji, pyfoo, scratch };
}

export function runnerConfig(world: KojiWorld, overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  const root = mkdtempSync(join(world.scratch, 'runner-'));
  const base = defaultRunnerConfig({});
  return {
    ...base,
    root,
    services: { ...base.services, kojiUrl: world.koji.hubUrl, pkgUrl: world.koji.pkgUrl },
    downloadCache: { enabled: true, dir: join(world.scratch, 'cache'), maxSize: 1024 ** 3 },
    ...overrides,
  };
}

let counter = 0;
export function request<P>(config: RunnerConfig, name: string, params: P): ActionRequest<P> {
  counter += 1;
  const uuid = `job-${process.pid}-${counter}`;
  const job = {
    uuid,
    task: 'test',
    item: 'pyfoo-1.0-1.fc40',
    itemType: 'koji_build',
    arch: 'x86_64',
    taskdir: join(config.root, 'task', uuid),
    workdir: join(config.root, 'work', uuid),
    artifactsdir: join(config.root, 'artifacts', uuid),
  };
  for (const dir of [job.taskdir, job.workdir, job.artifactsdir]) mkdirSync(dir, { recursive: true });
  return { index: 1, name, params, exported: true, job };
}

/** `<name>-<version>-<release>.<arch>.rpm` of each fixture matching `keep`. */
export function fileNames(rpms: BuiltRpm[], keep: (r: BuiltRpm) => boolean): string[] {
  return rpms.filter(keep).map((r) => `${r.name}-${r.version}-${r.release}.${r.arch}.rpm`).sort();
}
