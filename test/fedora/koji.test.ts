// The `koji` directive against a Koji stand-in serving real RPMs built with rpmbuild: every arch
// rule of the reference, build logs, failures that must be fast (no such build) and failures that
// must be survived (503 bursts, truncated files), the host cache shared by two jobs, and progress in
// the heartbeat details.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { runKojiAction, type KojiOutput, type KojiParams } from '../../src/activities/directives/koji.js';
import type { RunnerConfig } from '../../src/activities/runner-config.js';
import { FailureType } from '../../src/common/failures.js';
import { buildPackage } from '../support/rpm-fixtures.js';
import { fileNames, kojiWorld, request, runnerConfig, type KojiWorld } from './support.js';
import { applicationFailure } from '../support/failure.js';

const FAST_RETRY = { attempts: 5, initialDelayMs: 20, maxDelayMs: 100 };

async function koji(config: RunnerConfig, params: Partial<KojiParams>): Promise<{ output: KojiOutput; workdir: string; taskdir: string; log: string }> {
  const r = request(config, 'download rpms from koji', { action: 'download', koji_build: 'pyfoo-1.0-1.fc40', ...params } as KojiParams);
  const result = await runKojiAction(r, config);
  return { output: result.output as KojiOutput, workdir: r.job.workdir, taskdir: r.job.taskdir, log: readFileSync(result.log!, 'utf8') };
}

const failure = (promise: Promise<unknown>) => applicationFailure(promise);

describe('koji directive', () => {
  let world: KojiWorld;
  let config: RunnerConfig;

  before(async () => {
    world = await kojiWorld();
    // Older stable builds for download_latest_stable: 0.9-1 in f40, 0.9-2 in f40-updates.
    for (const release of ['1.fc40', '2.fc40']) {
      const rpms = buildPackage(join(world.scratch, 'rpmbuild'), { name: 'pyfoo', version: '0.9', release, arches: ['x86_64'], pythonAbi: '3.12' });
      world.koji.addBuild({ name: 'pyfoo', version: '0.9', release, rpms, tags: [release === '1.fc40' ? 'f40' : 'f40-updates'], logs: { x86_64: `log ${release}\n` } });
    }
    config = runnerConfig(world, { downloadRetry: FAST_RETRY });
  });
  after(async () => world.koji.close());

  const binaries = (keep: (arch: string) => boolean) => fileNames(world.pyfoo, (r) => keep(r.arch) && !r.name.endsWith('-debuginfo'));

  test("arch: ['all'] downloads every binary arch into ${workdir}, without the SRPM or debuginfo, byte for byte", async () => {
    const { output, workdir } = await koji(config, { arch: ['all'], src: false });
    const expected = binaries((a) => a !== 'src');
    assert.deepEqual(output.downloaded_rpms!.map((p) => basename(p)).sort(), expected);
    assert.ok(output.downloaded_rpms!.every((p) => p.startsWith(workdir + '/')), 'absolute paths in ${workdir}');
    assert.deepEqual(readdirSync(workdir).sort(), expected, 'no temporary files left behind');
    for (const rpm of world.pyfoo.filter((r) => expected.includes(basename(r.path)))) {
      assert.deepEqual(readFileSync(join(workdir, basename(rpm.path))), readFileSync(rpm.path));
    }
    assert.equal(output.downloaded_logs, undefined, 'no build_log, no log keys');
  });

  test('a concrete arch gets noarch added; a base arch expands to its concrete arches (i386 → i686)', async () => {
    const x86 = await koji(config, { arch: 'x86_64' });
    assert.deepEqual(x86.output.downloaded_rpms!.map((p) => basename(p)).sort(), binaries((a) => a === 'x86_64' || a === 'noarch'));
    const i386 = await koji(config, { arch: ['i386'] });
    assert.deepEqual(i386.output.downloaded_rpms!.map((p) => basename(p)).sort(), binaries((a) => a === 'i686' || a === 'noarch'));
  });

  test('arch_exclude removes arches (a string or a list, base arches expanded)', async () => {
    const noNoarch = await koji(config, { arch: ['x86_64'], arch_exclude: 'noarch' });
    assert.deepEqual(noNoarch.output.downloaded_rpms!.map((p) => basename(p)), binaries((a) => a === 'x86_64'));
    const noI386 = await koji(config, { arch: 'all', arch_exclude: ['i386', 'noarch'] });
    assert.deepEqual(noI386.output.downloaded_rpms!.map((p) => basename(p)), binaries((a) => a === 'x86_64'));
  });

  test('src and debuginfo: arch [] with src gives only the SRPM; arch [src] (csmock) adds noarch; debuginfo: true keeps -debuginfo', async () => {
    const onlySrc = await koji(config, { arch: [], src: true });
    assert.deepEqual(onlySrc.output.downloaded_rpms!.map((p) => basename(p)), ['pyfoo-1.0-1.fc40.src.rpm']);
    const nothing = await koji(config, { arch: [] });
    assert.deepEqual(nothing.output.downloaded_rpms, []);
    const csmock = await koji(config, { arch: ['src'] });
    assert.deepEqual(csmock.output.downloaded_rpms!.map((p) => basename(p)).sort(), fileNames(world.pyfoo, (r) => r.arch === 'src' || r.arch === 'noarch'));
    const debug = await koji(config, { arch: 'x86_64', debuginfo: true });
    assert.deepEqual(debug.output.downloaded_rpms!.map((p) => basename(p)).sort(), fileNames(world.pyfoo, (r) => r.arch === 'x86_64' || r.arch === 'noarch'));
  });

  test('build_log fetches build.log.<arch> per arch; arches whose log Koji no longer has are listed in log_errors', async () => {
    const { output, workdir } = await koji(config, { arch: 'all', build_log: true });
    assert.deepEqual(output.downloaded_logs, [join(workdir, 'build.log.x86_64')]);
    assert.equal(readFileSync(join(workdir, 'build.log.x86_64'), 'utf8'), 'build.log of pyfoo on x86_64\n');
    assert.deepEqual(output.log_errors, ['i686', 'noarch']);
  });

  test('target_dir is created, relative to the task directory', async () => {
    const { output, taskdir } = await koji(config, { arch: 'x86_64', target_dir: 'rpms/new' });
    assert.ok(output.downloaded_rpms!.every((p) => p.startsWith(join(taskdir, 'rpms', 'new') + '/')));
    assert.equal(readdirSync(join(taskdir, 'rpms', 'new')).length, 2);
  });

  test('a build Koji does not know fails at once, non-retryable, naming the NVR', async () => {
    const callsBefore = world.koji.calls.length;
    const started = performance.now();
    const error = await failure(koji(config, { koji_build: 'nosuch-1.0-1.fc40', arch: 'all' }));
    assert.equal(error.type, FailureType.NotFound);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /Koji build 'nosuch-1\.0-1\.fc40' does not exist/);
    assert.deepEqual(world.koji.calls.slice(callsBefore), ['getBuild'], 'one question, no retries');
    assert.ok(performance.now() - started < 5_000);
  });

  test('a 503 burst from the package server is retried with backoff and the download succeeds', async () => {
    const file = 'pyfoo-1.0-1.fc40.i686.rpm';
    world.koji.failNext(file, 3);
    const { output, log } = await koji({ ...config, downloadCache: { ...config.downloadCache, enabled: false } }, { arch: 'i686' });
    assert.ok(output.downloaded_rpms!.some((p) => p.endsWith(file)));
    assert.match(log, /retry 1 in 20 ms: pyfoo-1\.0-1\.fc40: pyfoo-1\.0-1\.fc40\.i686\.rpm: HTTP 503/);
    assert.match(log, /retry 3 in 80 ms/);
  });

  test('a 5xx that outlasts the retries is an infrastructure failure (ServiceUnavailable, retryable)', async () => {
    world.koji.failNext('python3-pyfoo-1.0-1.fc40.noarch.rpm', FAST_RETRY.attempts, 502);
    const error = await failure(koji({ ...config, downloadCache: { ...config.downloadCache, enabled: false } }, { arch: 'noarch' }));
    assert.equal(error.type, FailureType.ServiceUnavailable);
    assert.equal(error.nonRetryable, false);
    assert.match(error.message, /HTTP 502 from http:\/\/127\.0\.0\.1:\d+\/packages\/pyfoo\/1\.0\/1\.fc40\/noarch\/python3-pyfoo-1\.0-1\.fc40\.noarch\.rpm/);
  });

  test('a truncated download is detected and fetched again; the file on disk is complete', async () => {
    const rpm = world.pyfoo.find((r) => r.arch === 'x86_64' && r.name === 'pyfoo')!;
    const path = `/packages/pyfoo/1.0/1.fc40/x86_64/${basename(rpm.path)}`;
    const before = world.koji.gets.get(path) ?? 0;
    world.koji.truncateNext(basename(rpm.path), 1);
    const { output, log } = await koji({ ...config, downloadCache: { ...config.downloadCache, enabled: false } }, { arch: 'x86_64' });
    const got = output.downloaded_rpms!.find((p) => p.endsWith(basename(rpm.path)))!;
    assert.deepEqual(readFileSync(got), readFileSync(rpm.path));
    assert.equal((world.koji.gets.get(path) ?? 0) - before, 2);
    assert.match(log, /retry 1 in 20 ms: .*(terminated|truncated)/);
  });

  test('a transfer that stalls (half a file, then silence) is abandoned after the stall timeout and fetched again', async () => {
    const rpm = world.pyfoo.find((r) => r.arch === 'i686' && r.name === 'pyfoo')!;
    world.koji.stallNext(basename(rpm.path), 1);
    const stalling = { ...config, downloadRetry: { ...FAST_RETRY, stallTimeoutMs: 300 }, downloadCache: { ...config.downloadCache, enabled: false } };
    const { output, log } = await koji(stalling, { arch: 'i686', arch_exclude: 'noarch' });
    assert.deepEqual(readFileSync(output.downloaded_rpms![0]!), readFileSync(rpm.path));
    assert.match(log, /retry 1 in 20 ms: .*no data from http:\/\/127\.0\.0\.1:\d+\/packages\/pyfoo\/1\.0\/1\.fc40\/i686\/pyfoo-1\.0-1\.fc40\.i686\.rpm for 0\.3 s/);
  });

  test('two jobs on one host share the download cache: concurrent asks fetch each RPM once, later jobs fetch nothing', async () => {
    const shared = runnerConfig(world, { downloadRetry: FAST_RETRY });
    shared.downloadCache = { ...shared.downloadCache, dir: join(shared.root, 'host-cache') };
    const count = () => [...world.koji.gets.values()].reduce((a, b) => a + b, 0);
    const before = count();
    const [a, b] = await Promise.all([koji(shared, { arch: 'all' }), koji(shared, { arch: 'all' })]);
    const expected = binaries((x) => x !== 'src');
    assert.equal(count() - before, expected.length, 'each file crossed the network once');
    for (const job of [a, b]) {
      assert.deepEqual(job.output.downloaded_rpms!.map((p) => basename(p)).sort(), expected);
      for (const p of job.output.downloaded_rpms!) assert.deepEqual(readFileSync(p), readFileSync(world.pyfoo.find((r) => basename(r.path) === basename(p))!.path));
    }
    const third = await koji(shared, { arch: 'all' });
    assert.equal(count() - before, expected.length, 'the third job was served from the cache');
    assert.match(third.log, new RegExp(`cached .*${expected[0]!.replace(/\./g, '\\.')}`));
    assert.match(third.log, /\(3 from the cache, 0 retries\)/);
  });

  test('two runner processes filling one cache at once both get whole files, and the cache holds one whole copy of each', async () => {
    const shared = runnerConfig(world, { downloadRetry: FAST_RETRY });
    shared.downloadCache = { ...shared.downloadCache, dir: join(shared.root, 'cross-process-cache') };
    const job = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cache-process.ts'), JSON.stringify(shared)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`job process exited ${code}`))));
      });
    const [a, b] = await Promise.all([job(), job()]);
    const expected = fileNames(world.pyfoo, (r) => !r.name.endsWith('-debuginfo'));
    for (const paths of [a, b]) {
      assert.deepEqual(paths.map((p) => basename(p)).sort(), expected);
      for (const p of paths) assert.deepEqual(readFileSync(p), readFileSync(world.pyfoo.find((r) => basename(r.path) === basename(p))!.path));
    }
    const entries = readdirSync(shared.downloadCache.dir!);
    assert.equal(entries.length, expected.length, `no temporary files left, one entry per file: ${entries.join(', ')}`);
  });

  test('the cache stays within max_size, least recently used first', async () => {
    const tiny = runnerConfig(world, { downloadRetry: FAST_RETRY });
    const biggest = Math.max(...world.pyfoo.map((r) => r.size));
    tiny.downloadCache = { enabled: true, dir: join(tiny.root, 'tiny-cache'), maxSize: biggest + 10 };
    await koji(tiny, { arch: 'all' });
    const cached = readdirSync(tiny.downloadCache.dir!);
    assert.equal(cached.length, 1, `one file fits, got ${cached.join(', ')}`);
  });

  test('download_tag downloads the builds tagged into a tag; an unknown tag fails as NotFound', async () => {
    const { output } = await koji(config, { action: 'download_tag', koji_tag: 'f40-updates-candidate', arch: 'x86_64' });
    assert.deepEqual(output.downloaded_rpms!.map((p) => basename(p)).sort(), binaries((a) => a === 'x86_64' || a === 'noarch'));
    const error = await failure(koji(config, { action: 'download_tag', koji_tag: 'f99', arch: 'x86_64' }));
    assert.equal(error.type, FailureType.NotFound);
    assert.match(error.message, /Koji tag 'f99' does not exist/);
  });

  test('download_latest_stable takes the newest build of the package in fNN-updates and fNN, with its log', async () => {
    const { output, log } = await koji(config, { action: 'download_latest_stable', arch: 'x86_64', build_log: true });
    assert.deepEqual(output.downloaded_rpms!.map((p) => basename(p)).sort(), ['pyfoo-0.9-2.fc40.x86_64.rpm', 'python3-pyfoo-0.9-2.fc40.noarch.rpm']);
    assert.equal(readFileSync(output.downloaded_logs![0]!, 'utf8'), 'log 2.fc40\n');
    assert.match(log, /latest stable build of pyfoo: pyfoo-0\.9-2\.fc40/);
    const none = await koji(config, { action: 'download_latest_stable', koji_build: 'pyfoo-1.0-1.fc41', arch: 'x86_64' });
    assert.deepEqual(none.output, {}, 'no stable build: nothing to do');
  });

  test('bad parameters fail as InvalidParameters, naming the key', async () => {
    const noArch = await failure(runKojiAction(request(config, 'x', { action: 'download', koji_build: 'pyfoo-1.0-1.fc40' } as KojiParams), config));
    assert.equal(noArch.type, FailureType.InvalidParameters);
    assert.match(noArch.message, /action 'x': koji: 'arch' is required/);
    const badAction = await failure(koji(config, { action: 'fetch' as never, arch: 'all' }));
    assert.match(badAction.message, /'action' must be one of download, download_tag, download_latest_stable, got 'fetch'/);
  });

  test('progress (files and bytes) travels in the heartbeat details', async () => {
    const env = new MockActivityEnvironment();
    const beats: Record<string, unknown>[] = [];
    env.on('heartbeat', (details: Record<string, unknown>) => beats.push(details));
    const uncached = { ...config, downloadCache: { ...config.downloadCache, enabled: false } };
    const r = request(uncached, 'download', { action: 'download', koji_build: 'pyfoo-1.0-1.fc40', arch: 'all', src: true } as KojiParams);
    await env.run(runKojiAction, r, uncached);
    assert.ok(beats.length >= 1);
    assert.equal(beats[0]!.directive, 'koji');
    const last = beats.at(-1)!;
    const size = world.pyfoo.filter((x) => !x.name.endsWith('-debuginfo')).reduce((sum, x) => sum + x.size, 0);
    assert.deepEqual({ ...last, elapsedMs: 0 }, { directive: 'koji', filesTotal: 4, filesDone: 4, bytesTotal: size, bytesDone: size, filesCached: 0, retries: 0, elapsedMs: 0 });
  });
});
