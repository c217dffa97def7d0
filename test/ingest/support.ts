// Shared by ingest's integration tests: an IngestService on a private task queue with the stand-in
// job workflow, and fedmsg publishing on loopback.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type IngestConfig } from '../../src/ingest/config.js';
import { FedmsgPublisher } from '../../src/bus/fedmsg.js';
import { pythonJsonDumps } from '../../src/bus/canonical-json.js';
import { IngestService, type IngestServiceOptions } from '../../src/ingest/service.js';
import type { Logger } from '../../src/ingest/stats.js';
import { testAddress, uniqueName } from '../support/temporal.js';

export const standInWorkflows = fileURLToPath(new URL('./workflows.ts', import.meta.url));

/**
 * The stand-in workflows for a test's own Worker.create: the bundle the harness built once for the
 * run (TASKOTRON_TRIGGER_BUNDLES, as IngestService looks it up) when there is one, since webpack
 * costs the file seconds of CPU; the source path otherwise.
 */
export function standInWorkflowsOption(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const prebuilt = (JSON.parse(process.env.TASKOTRON_TRIGGER_BUNDLES || '{}') as Record<string, string>)[standInWorkflows];
  return prebuilt ? { workflowBundle: { codePath: prebuilt } } : { workflowsPath: standInWorkflows };
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export interface TestIngest {
  service: IngestService;
  queue: string;
  endpoint: string;
  logs: string[];
}

export async function startTestIngest(
  rulesText: string,
  overrides: Partial<IngestConfig> = {},
  options: Partial<IngestServiceOptions> & { stateDir?: string; queue?: string } = {},
): Promise<TestIngest> {
  const stateDir = options.stateDir ?? scratchDir('ingest-state');
  const rulesFile = join(stateDir, 'trigger_rules.yml');
  writeFileSync(rulesFile, rulesText);
  const queue = options.queue ?? uniqueName('ingest-test');
  const logs: string[] = [];
  const log: Logger = (level, message) => logs.push(`${level}: ${message}`);
  const config: IngestConfig = {
    ...DEFAULT_CONFIG,
    validArches: ['x86_64', 'armhfp'],
    rulesFile,
    bind: ['tcp://127.0.0.1:0'],
    triggerQueue: queue,
    ingestQueue: queue,
    jobQueue: queue,
    // Tests that want KojiTagChanged debounced say so; the rest see its jobs at once.
    fuseDelaySeconds: 0,
    ...overrides,
  };
  const service = await IngestService.start({
    config,
    temporal: { address: testAddress(), namespace: 'default' },
    stateDir,
    log,
    // A test file is short-lived: its workflows run on its main thread (src/worker/workflow-thread.ts).
    worker: { workflowsPath: standInWorkflows, workflowsOnMainThread: true },
    ...options,
  });
  return { service, queue, endpoint: service.boundEndpoints[0] ?? '', logs };
}

/** Publishes envelopes to an endpoint the way an active fedmsg publisher does (connect, then send). */
export async function publishTo(endpoint: string, envelopes: Array<Record<string, unknown>>): Promise<void> {
  const publisher = await FedmsgPublisher.open({ connect: endpoint });
  try {
    if (!(await publisher.waitForSubscriber(5000))) throw new Error(`no subscriber on ${endpoint}`);
    for (const envelope of envelopes) await publisher.send(String(envelope.topic), pythonJsonDumps(envelope));
  } finally {
    await publisher.close();
  }
}

/**
 * How long an ingest test waits for something by default. Generous on purpose: it only matters when
 * something is wrong, and CI's loaded 2-core machine once took over 20 s for an ingest to start
 * consuming.
 */
export const INGEST_WAIT_MS = 60_000;

/** The newest counters a `taskotron ingest` child logged (`--stats-interval`: a field of its JSON log lines). */
export function lastCounters(output: string): Record<string, number> {
  const lines = output.split('\n').filter((l) => l.startsWith('{') && l.includes('"counters":{'));
  return lines.length === 0 ? {} : (JSON.parse(lines.at(-1)!) as { counters: Record<string, number> }).counters;
}
