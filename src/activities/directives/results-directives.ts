// Directives that read or produce ResultYAML on the runner host: exitcode, xunit, create_report.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
// fast-xml-parser is loaded by the xunit directive when it runs (xunitCases), not by every runner.
import type { XMLParser as XmlParser } from 'fast-xml-parser';
import { FailureType, stepFailure } from '../../common/failures.js';
import { EXIT_CODES, worstOutcome, type Outcome } from '../../common/job.js';
import { formatDiagnostic } from '../../formula/diagnostic.js';
import type { ResultEntry } from '../../results/model.js';
import { summary } from '../../results/model.js';
import { formatResultYaml, parseResultYaml } from '../../results/resultyaml.js';
import type { ActionOutput, ActionRequest } from './context.js';

/** Outcomes that count as success for runtask's exit code (the others give 100). */
const SUCCESS: readonly Outcome[] = ['PASSED', 'INFO'];

function parseResults(request: ActionRequest, text: string, key: string): ResultEntry[] {
  const parsed = parseResultYaml(text, { file: `action '${request.name}' ${key}`, artifactsDir: request.job.artifactsdir });
  if (!parsed.value) {
    throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': ${key} is not valid ResultYAML:\n${parsed.errors.map(formatDiagnostic).join('\n')}`);
  }
  return parsed.value.results;
}

/** Exactly one of two parameters, as the original directives demanded. */
function oneOf<K extends string>(request: ActionRequest<Partial<Record<K, unknown>>>, keys: readonly [K, K]): K {
  const present = keys.filter((k) => request.params[k] !== undefined);
  if (present.length !== 1) {
    throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': give exactly one of ${keys.map((k) => `'${k}'`).join(' or ')}`);
  }
  return present[0]!;
}

/** `exitcode`: 0 when the last (or worst) result passed, 100 when not; no results is success. */
export function runExitcodeAction(request: ActionRequest<{ result_last?: string; result_worst?: string }>): ActionOutput {
  const started = Date.now();
  const key = oneOf(request, ['result_last', 'result_worst'] as const);
  const results = parseResults(request, String(request.params[key] ?? ''), key);
  const outcome = results.length === 0 ? undefined : key === 'result_last' ? results[results.length - 1]!.outcome : worstOutcome(results.map((r) => r.outcome));
  const exitCode = outcome === undefined || SUCCESS.includes(outcome) ? EXIT_CODES.ok : EXIT_CODES.taskFailed;
  return { exitCode, ...(request.exported ? { output: exitCode } : {}), durationMs: Date.now() - started };
}

interface XunitParams {
  file: string;
  item: string;
  type: string;
  checkname: string;
  aggregation?: 'allpass' | 'none';
}

interface XunitCase {
  name: string;
  classname?: string;
  failed: boolean;
  skipped: boolean;
  message?: string;
}

function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function xunitCases(XMLParser: typeof XmlParser, xml: string): XunitCase[] {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'failure', 'error'].includes(name) });
  const doc = parser.parse(xml) as Record<string, unknown>;
  const suites: Record<string, unknown>[] = [];
  const collect = (node: unknown) => {
    for (const suite of asList(node as Record<string, unknown> | Record<string, unknown>[])) {
      suites.push(suite);
      collect(suite.testsuite);
    }
  };
  collect((doc.testsuites as Record<string, unknown> | undefined)?.testsuite ?? doc.testsuite);
  return suites.flatMap((suite) =>
    asList(suite.testcase as Record<string, unknown>[]).map((tc) => {
      const problems = [...asList(tc.failure as unknown[]), ...asList(tc.error as unknown[])];
      const first = problems[0] as Record<string, unknown> | string | undefined;
      const message = typeof first === 'string' ? first : (first?.message as string | undefined);
      return {
        name: String(tc.name ?? '?'),
        ...(tc.classname ? { classname: String(tc.classname) } : {}),
        failed: problems.length > 0,
        skipped: tc.skipped !== undefined,
        ...(message ? { message } : {}),
      };
    }),
  );
}

/** `xunit`: turns an xUnit XML file into ResultYAML — one result (allpass) or one per testcase (none). */
export async function runXunitAction(request: ActionRequest<XunitParams>): Promise<ActionOutput> {
  const started = Date.now();
  const { file, item, type, checkname } = request.params;
  const path = isAbsolute(file) ? file : join(request.job.taskdir, file);
  if (!existsSync(path)) throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': xunit file ${path} does not exist`);
  const { XMLParser } = await import('fast-xml-parser');
  let cases: XunitCase[];
  try {
    cases = xunitCases(XMLParser, await readFile(path, 'utf8'));
  } catch (error) {
    throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': ${path} is not xUnit XML: ${(error as Error).message}`);
  }
  const artifact = path.startsWith(`${request.job.artifactsdir}/`) ? relative(request.job.artifactsdir, path) : undefined;
  const entry = (outcome: Outcome, name: string, note: string): ResultEntry => ({ item, type, outcome, checkname: name, note, keyvals: {}, ...(artifact ? { artifact } : {}) });
  let results: ResultEntry[];
  if ((request.params.aggregation ?? 'allpass') === 'allpass') {
    const failed = cases.filter((c) => c.failed).length;
    results = [entry(failed > 0 ? 'FAILED' : 'PASSED', checkname, `${cases.length - failed} of ${cases.length} tests passed`)];
  } else {
    results = cases.map((c) => entry(c.failed ? 'FAILED' : 'PASSED', `${checkname}.${c.name}`, c.failed ? (c.message ?? 'failed') : c.skipped ? 'skipped' : 'passed'));
  }
  return { ...(request.exported ? { output: formatResultYaml(results) } : {}), durationMs: Date.now() - started };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `create_report`: an HTML page of the results in the artifacts dir (the bundled layout; custom templates are not supported). */
export async function runCreateReportAction(
  request: ActionRequest<{ results?: string; file?: string; artifactsdir: string; path?: string; template?: string }>,
): Promise<ActionOutput> {
  const started = Date.now();
  if (request.params.template !== undefined) {
    throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': custom Jinja2 templates are not supported; omit 'template' to use the bundled report`);
  }
  const key = oneOf(request, ['results', 'file'] as const);
  const text = key === 'results' ? String(request.params.results) : await readFile(isAbsolute(request.params.file!) ? request.params.file! : join(request.job.taskdir, request.params.file!), 'utf8');
  const results = parseResults(request, text, key);
  const target = join(request.params.artifactsdir, request.params.path ?? 'report.html');
  const rows = results
    .map((r) => {
      const link = r.artifact ? `<a href="${escapeHtml(isAbsolute(r.artifact) ? relative(dirname(target), r.artifact) : r.artifact)}">log</a>` : '';
      return `<tr class="${r.outcome.toLowerCase()}"><td>${escapeHtml(r.checkname ?? request.job.task)}</td><td>${escapeHtml(r.item)}</td><td>${r.outcome}</td><td>${escapeHtml(r.note ?? '')}</td><td>${link}</td></tr>`;
    })
    .join('\n');
  const title = `${request.job.task} on ${request.job.item}`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif}td,th{padding:.2em .6em;text-align:left}.passed td:nth-child(3){color:#080}.failed td:nth-child(3),.crashed td:nth-child(3){color:#a00}.needs_inspection td:nth-child(3),.info td:nth-child(3){color:#a60}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(summary(results) || 'no results')} — ${escapeHtml(request.job.itemType)} ${escapeHtml(request.job.item)}, ${escapeHtml(request.job.arch)}, job ${escapeHtml(request.job.uuid)}</p>
<table><thead><tr><th>check</th><th>item</th><th>outcome</th><th>note</th><th>artifact</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, html);
  return { ...(request.exported ? { output: target } : {}), durationMs: Date.now() - started };
}
