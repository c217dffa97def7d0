// One "job" in a process of its own for the cross-process cache test: runs the koji directive with
// the runner configuration given as JSON on argv[2] and prints the downloaded paths as JSON.
import { runKojiAction, type KojiOutput, type KojiParams } from '../../src/activities/directives/koji.js';
import type { RunnerConfig } from '../../src/activities/runner-config.js';
import { request } from './support.js';

const config = JSON.parse(process.argv[2]!) as RunnerConfig;
const result = await runKojiAction(request(config, 'download', { action: 'download', koji_build: 'pyfoo-1.0-1.fc40', arch: 'all', src: true } as KojiParams), config);
console.log(JSON.stringify((result.output as KojiOutput).downloaded_rpms));
