// bodhi, distgit, yumrepoinfo and createrepo against their stand-ins (and the real createrepo_c),
// plus the pure parts they rest on: rpm version order, NVR parsing, the XML-RPC client's reading
// of Koji's answers.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { runBodhiAction, type BodhiParams } from '../../src/activities/directives/bodhi.js';
import { runCreaterepoAction } from '../../src/activities/directives/createrepo.js';
import { runDistgitAction, type DistgitParams } from '../../src/activities/directives/distgit.js';
import { runYumrepoinfoAction } from '../../src/activities/directives/yumrepoinfo.js';
import { KojiFault, KojiSession } from '../../src/activities/fedora/koji-hub.js';
import { compareEvr, fedoraTagOf, parseNvr, rpmvercmp } from '../../src/activities/fedora/nvr.js';
import { fedoraServicesFromEnv, parseSize, type RunnerConfig } from '../../src/activities/runner-config.js';
import { FailureType } from '../../src/common/failures.js';
import { corpusPath } from '../support/corpus.js';
import { startBodhiStandIn, startDistgitStandIn, type BodhiStandIn, type DistgitStandIn } from '../support/fedora-stand-ins.js';
import { fileNames, kojiWorld, request, runnerConfig, type KojiWorld } from './support.js';
import { applicationFailure } from '../support/failure.js';

const failure = (promise: Promise<unknown>) => applicationFailure(promise);

describe('Fedora directives', () => {
  let world: KojiWorld;
  let bodhi: BodhiStandIn;
  let distgit: DistgitStandIn;
  let config: RunnerConfig;

  before(async () => {
    world = await kojiWorld();
    bodhi = await startBodhiStandIn();
    distgit = await startDistgitStandIn();
    const base = runnerConfig(world, { downloadRetry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 50 } });
    config = { ...base, services: { ...base.services, bodhiUrl: bodhi.url, distgitUrl: distgit.url, distgitUrlForced: false, yumrepoinfo: corpusPath('config', 'yumrepoinfo.conf') } };
  });
  after(async () => {
    await world.koji.close();
    await bodhi.close();
    await distgit.close();
  });

  test("bodhi: download fetches every build of the update through Koji, noarch added; an unknown update fails naming it", async () => {
    bodhi.addUpdate('FEDORA-2024-0123456789', ['pyfoo-1.0-1.fc40']);
    const r = request(config, 'download update', { action: 'download', update_id: 'FEDORA-2024-0123456789', arch: 'x86_64' } as BodhiParams);
    const result = await runBodhiAction(r, config);
    const rpms = (result.output as { downloaded_rpms: string[] }).downloaded_rpms;
    assert.deepEqual(rpms.map((p) => basename(p)).sort(), fileNames(world.pyfoo, (x) => (x.arch === 'x86_64' || x.arch === 'noarch') && !x.name.endsWith('-debuginfo')));
    assert.deepEqual(bodhi.requests, ['GET /updates/FEDORA-2024-0123456789']);

    const src = await runBodhiAction(request(config, 'srpm', { action: 'download', update_id: 'FEDORA-2024-0123456789', arch: [], src: true } as BodhiParams), config);
    assert.deepEqual((src.output as { downloaded_rpms: string[] }).downloaded_rpms.map((p) => basename(p)), ['pyfoo-1.0-1.fc40.src.rpm']);

    const missing = await failure(runBodhiAction(request(config, 'nope', { action: 'download', update_id: 'FEDORA-2024-ffffffffff', arch: 'all' } as BodhiParams), config));
    assert.equal(missing.type, FailureType.NotFound);
    assert.match(missing.message, /Update with ID 'FEDORA-2024-ffffffffff' wasn't found in Bodhi/);
    const nothing = await failure(runBodhiAction(request(config, 'empty', { action: 'download', update_id: 'FEDORA-2024-0123456789', arch: [] } as BodhiParams), config));
    assert.equal(nothing.type, FailureType.InvalidParameters);
  });

  test('distgit: files by package or nvr from pagure raw URLs, localpath, ignore_missing; a missing file fails naming it', async () => {
    distgit.addFile('rpms', 'pyfoo', 'f40', 'pyfoo.spec', 'Name: pyfoo\n');
    distgit.addFile('rpms', 'pyfoo', 'f40', 'tests/tests.yml', '- hosts: localhost\n');
    distgit.addFile('modules', 'mymod', 'master', 'mymod.yaml', 'document: modulemd\n');
    const byNvr = await runDistgitAction(
      request(config, 'spec', { nvr: 'pyfoo-1.0-1.fc40', path: ['pyfoo.spec', 'tests/tests.yml', 'sources'], localpath: ['pyfoo.spec', 'download/tests.yml', 'sources'], ignore_missing: true } as DistgitParams),
      config,
    );
    const files = (byNvr.output as { downloaded_files: string[] }).downloaded_files;
    assert.equal(files.length, 2);
    assert.equal(readFileSync(files[0]!, 'utf8'), 'Name: pyfoo\n');
    assert.match(files[1]!, /\/download\/tests\.yml$/);
    assert.ok(distgit.requests.includes('/rpms/pyfoo/raw/f40/f/tests/tests.yml'));

    // The corpus's rawhide is f29: its NVRs map to master.
    const missing = await failure(runDistgitAction(request(config, 'rawhide', { nvr: 'pyfoo-1.0-1.fc29', path: ['pyfoo.spec'] } as DistgitParams), config));
    assert.equal(missing.type, FailureType.NotFound);
    assert.match(missing.message, /dist-git file rpms\/pyfoo@master:pyfoo\.spec does not exist \(HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/rpms\/pyfoo\/raw\/master\/f\/pyfoo\.spec\)/);

    // TASKOTRON_DISTGIT_URL wins over a formula's own baseurl (the real checkmodulemd formula names src.fedoraproject.org).
    const forced = { ...config, services: { ...config.services, distgitUrlForced: true } };
    const module = await runDistgitAction(
      request(forced, 'modulemd', { package: 'mymod', gitref: 'master', namespace: 'modules', baseurl: 'https://src.fedoraproject.org', path: ['mymod.yaml'] } as DistgitParams),
      forced,
    );
    assert.equal(readFileSync((module.output as { downloaded_files: string[] }).downloaded_files[0]!, 'utf8'), 'document: modulemd\n');
  });

  test('yumrepoinfo: repo URLs of a tag and its parents for each arch, from the corpus yumrepoinfo.conf unchanged', async () => {
    const result = await runYumrepoinfoAction(request(config, 'repos', { koji_tag: 'f27-updates-testing-pending', arch: ['x86_64', 'ppc64', 'noarch'] }), config);
    assert.deepEqual(result.output, {
      'f27-updates-testing': {
        x86_64: 'http://download.fedoraproject.org/pub/fedora/linux/updates/testing/27/x86_64',
        ppc64: 'http://download.fedoraproject.org/pub/fedora-secondary/updates/testing/27/ppc64',
      },
      'f27-updates': {
        x86_64: 'http://download.fedoraproject.org/pub/fedora/linux/updates/27/x86_64',
        ppc64: 'http://download.fedoraproject.org/pub/fedora-secondary/updates/27/ppc64',
      },
      f27: {
        x86_64: 'http://download.fedoraproject.org/pub/fedora/linux/releases/27/Everything/x86_64/os',
        ppc64: 'http://download.fedoraproject.org/pub/fedora-secondary/releases/27/Everything/ppc64/os',
      },
    });
    const rawhide = await runYumrepoinfoAction(request(config, 'rawhide', { koji_tag: 'f29', arch: 'x86_64' }), config);
    assert.deepEqual(rawhide.output, { rawhide: { x86_64: 'http://download.fedoraproject.org/pub/fedora/linux/development/rawhide/Everything/x86_64/os' } });
    const meta = await failure(runYumrepoinfoAction(request(config, 'meta', { koji_tag: 'f28', arch: ['all', 'src'] }), config));
    assert.equal(meta.type, FailureType.InvalidParameters);
    const unknown = await failure(runYumrepoinfoAction(request(config, 'unknown', { koji_tag: 'f12', arch: 'x86_64' }), config));
    assert.match(unknown.message, /no repository for tag 'f12' in .*yumrepoinfo\.conf/);
  });

  test('createrepo: createrepo_c turns downloaded RPMs into a repository and its stdout is the output', async () => {
    const r = request(config, 'make a repo', { repodir: 'repo' });
    mkdirSync(join(r.job.taskdir, 'repo'), { recursive: true });
    const env = new MockActivityEnvironment();
    // Real RPMs first, through the koji path; then the real createrepo_c, supervised.
    const { runKojiAction } = await import('../../src/activities/directives/koji.js');
    await runKojiAction({ ...r, params: { action: 'download', koji_build: 'pyfoo-1.0-1.fc40', arch: 'all', target_dir: 'repo' } as never }, config);
    const result = (await env.run(runCreaterepoAction, r, config)) as { output?: unknown };
    assert.ok(existsSync(join(r.job.taskdir, 'repo', 'repodata', 'repomd.xml')));
    assert.match(String(result.output), /Pool finished|Directory walk|Loaded information/);
    const missing = await failure(runCreaterepoAction(request(config, 'no dir', { repodir: 'nowhere' }), config));
    assert.equal(missing.type, FailureType.InvalidParameters);
  });

  test('the Koji client reads faults, nil, i8 and multiCall entries the way the hub writes them', async () => {
    const session = new KojiSession(world.koji.hubUrl, { retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 } });
    assert.equal(await session.call('getBuild', ['nosuch-1-1.fc40']), null, '<nil/> is null');
    await assert.rejects(session.call('getBuild', ['nosuch-1-1.fc40'], { strict: true }), (e: unknown) => e instanceof KojiFault && e.faultCode === 1000 && e.faultString === "No such build: 'nosuch-1-1.fc40'");
    await assert.rejects(session.call('getBuild', ['x'], { bogus: 1 }), (e: unknown) => e instanceof KojiFault && e.faultCode === 1019);
    await assert.rejects(session.call('frobnicate'), (e: unknown) => e instanceof KojiFault && e.faultString === 'Invalid method: frobnicate');
    const answers = await session.multiCall([
      { method: 'getBuild', args: ['pyfoo-1.0-1.fc40'] },
      { method: 'listTagged', args: ['f99'] },
    ]);
    const [found, missing] = answers;
    assert.equal(found?.ok && (found.value as { nvr: string }).nvr, 'pyfoo-1.0-1.fc40');
    assert.equal(missing && !missing.ok && missing.fault.faultString, "No such tagInfo: 'f99'");
    const response = await fetch(world.koji.hubUrl);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
  });

  test('rpm version order, NVRs and dist tags', () => {
    for (const [a, b, want] of [
      ['1.0', '1.0', 0],
      ['1.0', '1.1', -1],
      ['1.10', '1.9', 1],
      ['1.0~rc1', '1.0', -1],
      ['1.0^git1', '1.0', 1],
      ['1.0a', '1.0', 1],
      ['1.0', '1.0.1', -1],
      ['2.fc40', '10.fc40', -1],
      ['001', '1', 0],
      ['a', '1', -1],
    ] as const) {
      assert.equal(rpmvercmp(a, b), want, `${a} vs ${b}`);
    }
    assert.deepEqual(parseNvr('python-foo-bar-1.0-1.fc40'), { name: 'python-foo-bar', version: '1.0', release: '1.fc40' });
    assert.deepEqual(parseNvr('2:foo-1.0-1.fc40'), { name: 'foo', version: '1.0', release: '1.fc40', epoch: 2 });
    assert.equal(parseNvr('foo'), undefined);
    assert.equal(fedoraTagOf('1.fc29'), 'f29');
    assert.equal(fedoraTagOf('1.el8'), undefined);
    assert.equal(compareEvr({ name: 'a', version: '1', release: '1', epoch: 1 }, { name: 'a', version: '2', release: '1' }), 1);
  });

  test('service locations: Fedora defaults, TASKOTRON_* overrides; sizes in K/M/G', () => {
    assert.deepEqual(fedoraServicesFromEnv({}), {
      kojiUrl: 'https://koji.fedoraproject.org/kojihub',
      pkgUrl: 'https://kojipkgs.fedoraproject.org/packages',
      bodhiUrl: 'https://bodhi.fedoraproject.org',
      distgitUrl: 'https://src.fedoraproject.org',
      distgitUrlForced: false,
      yumrepoinfo: '/etc/taskotron/yumrepoinfo.conf',
    });
    const env = { TASKOTRON_KOJI_URL: 'http://127.0.0.1:1/kojihub', TASKOTRON_PKG_URL: 'http://127.0.0.1:1/packages/', TASKOTRON_BODHI_URL: 'http://127.0.0.1:2', TASKOTRON_DISTGIT_URL: 'http://127.0.0.1:3', TASKOTRON_YUMREPOINFO: '/tmp/y.conf' };
    assert.deepEqual(fedoraServicesFromEnv(env), { kojiUrl: 'http://127.0.0.1:1/kojihub', pkgUrl: 'http://127.0.0.1:1/packages', bodhiUrl: 'http://127.0.0.1:2', distgitUrl: 'http://127.0.0.1:3', distgitUrlForced: true, yumrepoinfo: '/tmp/y.conf' });
    assert.equal(parseSize('500M'), 500 * 2 ** 20);
    assert.equal(parseSize('10GiB'), 10 * 2 ** 30);
    assert.equal(parseSize(4096), 4096);
    assert.throws(() => parseSize('lots'), /download_cache\.max_size: 'lots' is not a size/);
  });
});
