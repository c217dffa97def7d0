// The test runner process of `npm test` (scripts/test.ts starts it): Node's runner over the files in
// the order given — `node --test` sorts them by name, which would start the longest files last —
// with the spec reporter on stdout, and each file's wall time and outcome written to
// $TASKOTRON_TEST_RESULTS for the summary and the next run's order.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

interface TestEvent {
  type: string;
  data: { name?: string; nesting?: number; file?: string; details?: { duration_ms?: number; error?: unknown } };
}

const files = process.argv.slice(2).map((file) => resolve(file));
// The harness always sets it (scripts/test.ts says why five).
const concurrency = Number(process.env.TEST_CONCURRENCY ?? '5');
const resultsFile = process.env.TASKOTRON_TEST_RESULTS;
// A bound on each file's process. A test that throws between starting a service and the `try` that
// stops it leaves the service running, and its file never exits: without a bound the whole run
// would wait for it until CI's limit. The slowest file takes under a minute; past this one its
// process is killed and the file fails as timed out (tests with their own `timeout` keep theirs).
const fileTimeoutMs = Number(process.env.TASKOTRON_TEST_FILE_TIMEOUT_S ?? '600') * 1000;

const perFile = new Map<string, { wallMs: number; passed: boolean }>();
let failures = 0;
const stream = run({ files, concurrency, timeout: fileTimeoutMs });
stream.on('data', (event: TestEvent) => {
  if (event.type === 'test:fail') failures += 1;
  // The test Node creates for a whole file is named by the file's path.
  if (event.type === 'test:complete' && event.data.nesting === 0 && event.data.file && event.data.name === event.data.file) {
    perFile.set(event.data.file, { wallMs: Math.round(event.data.details?.duration_ms ?? 0), passed: event.data.details?.error === undefined });
  }
});
stream.compose(new spec()).pipe(process.stdout);
await new Promise<void>((done) => stream.once('end', done));
if (resultsFile) writeFileSync(resultsFile, JSON.stringify(Object.fromEntries(perFile)));
process.exitCode = failures > 0 ? 1 : 0;
