// Turning a job's ResultYAML into ResultsDB results (reference §4.5), exactly once.
//
// ResultsDB has no idempotency key: POSTing the same result twice stores it twice. So before posting,
// the reporter collects what is already there for this job and posts only the rest:
//  1. results an earlier attempt recorded as posted (the caller keeps them, e.g. in heartbeats);
//  2. results already in the job's group (uuid = job uuid) that are identical in every reported
//     field (testcase, outcome, note, ref_url, data). This catches a POST that was stored but whose
//     answer was lost, and a report repeated after a workflow reset.
// Consequence, by design: within one job, two results identical in every field count as one.
// Knows nothing of Temporal: the activity in src/activities/report.ts wires it up.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Outcome } from '../common/job.js';
import { formatDiagnostic, formatPath, type Diagnostic } from '../formula/diagnostic.js';
import { InvalidResultYaml, NamespaceNotAllowed, ResultsFileMissing } from './errors.js';
import type { ResultEntry } from './model.js';
import { authorise, type NamespacePolicy } from './namespaces.js';
import { DEFAULT_NAMESPACE, testcaseName } from './names.js';
import type { NewGroup, NewResult, RdbResult, ResultsDBClient } from './resultsdb.js';
import { appendToResultYaml, artifactOutside, parseResultYaml, resultToYamlObject } from './resultyaml.js';

/** The job facts reporting needs. Field names match the runner's JobPaths, so `{...job}` fits. */
export interface ReportJob {
  uuid: string;
  /** The formula `name`: the check name of results that name none. */
  task: string;
  item: string;
  itemType: string;
  arch: string;
  /** The formula `namespace`; `scratch` when it has none. */
  namespace?: string;
  /** The task repository's URL, as the job checked it out: what the namespace whitelist matches. */
  taskRepo?: string;
  /** Where a relative `file:` is looked up (the task's working copy); default artifactsdir. */
  taskdir?: string;
  /** This job's artifacts directory on the host. */
  artifactsdir: string;
  /** Public URL of the artifacts root; the job's are at `<artifactsBaseUrl>/<uuid>/`. */
  artifactsBaseUrl?: string;
  /** The job's page (Temporal UI): the ResultsDB group's ref_url. */
  jobUrl?: string;
}

/** One result ready to post. */
export interface PlannedResult {
  /** Position in the ResultYAML `results` list. */
  index: number;
  /** `<namespace>.<checkname>`. */
  testcase: string;
  /** The result's checkname, or the formula name when it has none. */
  checkname: string;
  entry: ResultEntry;
  payload: NewResult;
  /** Identifies the payload's content: equal keys mean ResultsDB would store the same thing. */
  key: string;
}

/** What was reported for one result. */
export interface ReportedResult {
  testcase: string;
  item: string;
  type: string;
  outcome: Outcome;
  note?: string;
  refUrl?: string;
  /** ResultsDB's id (absent when results went to a file). */
  id?: number;
}

export interface PlanOptions {
  /** Enforced when given (reporting to ResultsDB); the development file target passes none. */
  namespaces?: NamespacePolicy;
  /** Outcomes the ResultsDB instance accepts; others are refused before anything is posted. */
  acceptedOutcomes?: readonly string[];
  /** Where that list came from, for the message (e.g. the server's URL). */
  acceptedFrom?: string;
  /** Shown in diagnostics when the text did not come from a file. */
  label?: string;
}

export interface Plan {
  planned: PlannedResult[];
  group: NewGroup;
  warnings: Diagnostic[];
}

/** Reads the `results:` text or the `file:` a resultsdb action names (exactly one of them). */
export async function readResultsInput(input: { results?: string; file?: string }, job: ReportJob): Promise<{ text: string; label: string }> {
  if ((input.results === undefined) === (input.file === undefined)) {
    throw new InvalidResultYaml('the resultsdb directive takes either `results` or `file`, not both and not neither', []);
  }
  if (input.results !== undefined) return { text: input.results, label: '<results>' };
  const path = isAbsolute(input.file!) ? input.file! : resolve(job.taskdir ?? job.artifactsdir, input.file!);
  try {
    return { text: await readFile(path, 'utf8'), label: path };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ResultsFileMissing(`cannot read the results file ${path}: ${reason} (did the task write its results?)`, path);
  }
}

/** Validates ResultYAML text and works out, for every result, exactly what will be posted. */
export function planReport(text: string, job: ReportJob, options: PlanOptions = {}): Plan {
  const namespace = job.namespace || DEFAULT_NAMESPACE;
  const file = options.label ?? '<results>';
  const parsed = parseResultYaml(text, { file, artifactsDir: job.artifactsdir, namespace });
  const errors = [...parsed.errors];
  const warnings = [...parsed.warnings];
  const entries = parsed.value?.results ?? [];
  const at = (path: (string | number)[], message: string): Diagnostic => ({ severity: 'error', file, ...parsed.locate(path), path: formatPath(path), message });
  const base = job.artifactsBaseUrl ? `${job.artifactsBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(job.uuid)}` : undefined;

  const planned: PlannedResult[] = [];
  entries.forEach((entry, index) => {
    const checkname = entry.checkname ?? job.task;
    const testcase = testcaseName(namespace, checkname);
    if (options.acceptedOutcomes && !options.acceptedOutcomes.includes(entry.outcome)) {
      const from = options.acceptedFrom ? ` (${options.acceptedFrom})` : '';
      errors.push(at(['results', index, 'outcome'], `ResultsDB does not accept ${entry.outcome}: it takes ${options.acceptedOutcomes.join(', ')}${from}`));
    }
    let refUrl = base;
    if (entry.artifact !== undefined) {
      const artifact = resolveArtifact(job.artifactsdir, entry.artifact);
      if ('error' in artifact) errors.push(at(['results', index, 'artifact'], artifact.error));
      else if ('missing' in artifact) warnings.push({ ...at(['results', index, 'artifact'], artifact.missing), severity: 'warning' });
      else if (base) refUrl = `${base}/${artifact.relative.split(sep).map(encodeURIComponent).join('/')}`;
    }
    const data: Record<string, string | string[]> = { item: entry.item, type: entry.type };
    if (!('arch' in entry.keyvals)) data.arch = job.arch;
    Object.assign(data, entry.keyvals);
    const payload: NewResult = {
      testcase,
      outcome: entry.outcome,
      note: entry.note || null,
      ...(refUrl ? { ref_url: refUrl } : {}),
      data,
    };
    planned.push({ index, testcase, checkname, entry, payload, key: resultKey(testcase, payload.outcome, payload.note, payload.ref_url, data) });
  });
  if (errors.length > 0) {
    throw new InvalidResultYaml(errors.map(formatDiagnostic).join('\n'), errors);
  }

  if (options.namespaces) {
    for (const p of planned) {
      const verdict = authorise(options.namespaces, p.testcase, job.taskRepo);
      if (!verdict.allowed) throw new NamespaceNotAllowed(`results[${p.index}]: ${verdict.reason}; nothing was posted`, p.testcase, `results[${p.index}]`);
    }
  }

  const group: NewGroup = { uuid: job.uuid, description: `Taskotron job on ${job.itemType} ${job.item}`, ...(job.jobUrl ? { ref_url: job.jobUrl } : {}) };
  for (const p of planned) p.payload.groups = [group];
  return { planned, group, warnings };
}

/** A result an attempt has posted: what heartbeat details carry between attempts. */
export interface PostedRecord {
  index: number;
  id: number;
  key: string;
}

export interface PostOptions {
  /** Records from earlier attempts; trusted only where index and content key still match. */
  earlier?: readonly PostedRecord[];
  /** Called after every result that is known to be stored (posted now, or found already there). */
  onStored?: (record: PostedRecord) => void;
  /** ref_url for a testcase that does not exist yet. */
  testcaseRefUrl: (name: string) => string;
}

export interface PostSummary {
  /** Index in the ResultYAML → ResultsDB id, for every planned result. */
  ids: Map<number, number>;
  /** POSTs this call made. */
  posted: number;
  /** Results already stored (earlier attempt, or found in the job's group) and not posted again. */
  skipped: number;
}

export async function postResults(client: ResultsDBClient, plan: Plan, options: PostOptions): Promise<PostSummary> {
  // Content key → stored id. Results identical in every reported field are one result (by design,
  // see the header), so every planned result with a known key maps onto the one stored id.
  const known = new Map<string, number>();
  const ids = new Map<number, number>();
  for (const record of options.earlier ?? []) {
    const p = plan.planned[record.index];
    if (p && p.key === record.key && !known.has(p.key)) known.set(p.key, record.id);
  }
  const settle = (p: PlannedResult): boolean => {
    const id = known.get(p.key);
    if (id === undefined) return false;
    ids.set(p.index, id);
    return true;
  };
  let pending = plan.planned.filter((p) => !settle(p));

  if (pending.length > 0 && plan.group.uuid) {
    for await (const result of client.allResults({ groups: [plan.group.uuid] })) {
      const key = storedResultKey(result);
      if (!known.has(key)) known.set(key, result.id);
    }
    pending = pending.filter((p) => {
      if (!settle(p)) return true;
      options.onStored?.({ index: p.index, id: ids.get(p.index)!, key: p.key });
      return false;
    });
  }

  const ensured = new Set<string>();
  let posted = 0;
  for (const p of pending) {
    // An identical result earlier in this same file was just posted: it is the same result.
    if (settle(p)) {
      options.onStored?.({ index: p.index, id: ids.get(p.index)!, key: p.key });
      continue;
    }
    if (!ensured.has(p.testcase)) {
      // As the original: a testcase ResultsDB does not know gets a placeholder ref_url.
      if (!(await client.getTestcase(p.testcase))) await client.createTestcase({ name: p.testcase, ref_url: options.testcaseRefUrl(p.testcase) });
      ensured.add(p.testcase);
    }
    const created = await client.createResult(p.payload);
    posted += 1;
    known.set(p.key, created.id);
    ids.set(p.index, created.id);
    options.onStored?.({ index: p.index, id: created.id, key: p.key });
  }
  return { ids, posted, skipped: plan.planned.length - posted };
}

/**
 * The development target: append to `${artifactsdir}/taskotron/results.yml` what would have been
 * posted (each result with its check name filled in). Results already in the file, identical in
 * every field, are not appended again, so a retried step does not double them.
 */
export async function appendResultsFile(path: string, plan: Plan): Promise<{ appended: number; skipped: number }> {
  let existing = '';
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const parsed = parseResultYaml(existing, { file: path });
  if (!parsed.value) throw new InvalidResultYaml(parsed.errors.map(formatDiagnostic).join('\n'), parsed.errors);

  // As with ResultsDB: a result identical in every field to one already there is the same result.
  const present = new Set(parsed.value.results.map(entryKey));
  const toWrite: ResultEntry[] = [];
  for (const p of plan.planned) {
    const entry: ResultEntry = { ...p.entry, checkname: p.checkname };
    const key = entryKey(entry);
    if (present.has(key)) continue;
    present.add(key);
    toWrite.push(entry);
  }
  if (toWrite.length > 0) {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, appendToResultYaml(existing, toWrite));
    await rename(temporary, path);
  }
  return { appended: toWrite.length, skipped: plan.planned.length - toWrite.length };
}

export function reportedResult(p: PlannedResult, id?: number): ReportedResult {
  return {
    testcase: p.testcase,
    item: p.entry.item,
    type: p.entry.type,
    outcome: p.entry.outcome,
    ...(p.entry.note ? { note: p.entry.note } : {}),
    ...(p.payload.ref_url ? { refUrl: p.payload.ref_url } : {}),
    ...(id !== undefined ? { id } : {}),
  };
}

/** Where an artifact is, relative to artifactsdir, after resolving symlinks; or why it cannot be used. */
function resolveArtifact(artifactsdir: string, artifact: string): { relative: string } | { missing: string } | { error: string } {
  const target = isAbsolute(artifact) ? artifact : join(artifactsdir, artifact);
  if (!existsSync(target)) {
    // As the original: a missing artifact is ignored and the result links the artifacts root.
    return { missing: `artifact '${artifact}' does not exist: the result links the job's artifacts instead` };
  }
  const root = existsSync(artifactsdir) ? realpathSync(artifactsdir) : resolve(artifactsdir);
  const real = realpathSync(target);
  if (artifactOutside(root, real)) return { error: `'${artifact}' resolves to ${real}, outside the artifacts directory: only files in it are published` };
  return { relative: relative(root, real) };
}

function resultKey(testcase: string, outcome: string, note: string | null | undefined, refUrl: string | null | undefined, data: Record<string, string | string[]>): string {
  const normalised = Object.keys(data)
    .sort()
    .map((k) => [k, (Array.isArray(data[k]) ? [...(data[k] as string[])] : [data[k] as string]).sort()]);
  const text = JSON.stringify([testcase, outcome.trim().toUpperCase(), note ?? null, refUrl ?? null, normalised]);
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

function storedResultKey(result: RdbResult): string {
  return resultKey(result.testcase.name, result.outcome, result.note, result.ref_url, result.data);
}

function entryKey(entry: ResultEntry): string {
  const { _internal: _ignored, ...plain } = resultToYamlObject(entry);
  return JSON.stringify(Object.keys(plain).sort().map((k) => [k, plain[k]]));
}
