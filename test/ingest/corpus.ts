// Fixtures from ../shared/corpus: the real fedmsg samples and the real trigger rules, rendered the
// way Ansible deployed them (Jinja2 variables resolved) so ingest sees what production saw.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import type { Envelope } from '../../src/bus/envelope.js';
import { corpusDir } from '../support/corpus.js';

export { corpusDir };

export function corpusMessageFiles(): string[] {
  return readdirSync(join(corpusDir, 'fedmsg')).filter((f) => f.endsWith('.json')).sort();
}

export function corpusMessage(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(corpusDir, 'fedmsg', file), 'utf8')) as Record<string, unknown>;
}

/** A corpus sample as a bus envelope: fedmsg_meta's test samples often lack msg_id and timestamp. */
export function corpusEnvelope(file: string, msgId = `2026-${file.replace(/[^a-z0-9]/gi, '').slice(0, 24)}`): Envelope {
  const message = corpusMessage(file);
  return { timestamp: 1_500_000_000, ...message, msg_id: msgId } as Envelope;
}

export interface RenderVars {
  deployment_type?: string;
  trigger_distgit_repo_url?: string;
  trigger_abicheck_blacklist?: string[];
}

/** Renders a Jinja2 rules template from the corpus with the variables Fedora's Ansible inventory set. */
export function renderedCorpusRules(file: string, vars: RenderVars = {}): string {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  return env.renderString(readFileSync(join(corpusDir, 'trigger_rules', file), 'utf8'), {
    deployment_type: 'prod',
    trigger_distgit_repo_url: 'https://src.fedoraproject.org',
    trigger_abicheck_blacklist: ['firefox', 'thunderbird', 'kernel', 'kdelibs', 'kdepim', 'qt', 'mariadb', 'java-1.8.0-openjdk', 'libreoffice'],
    ...vars,
  });
}

/** The production trigger.cfg template, rendered with the paths Fedora's inventory used. */
export function renderedCorpusTriggerCfg(vars: Record<string, string> = {}): string {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  return env.renderString(readFileSync(join(corpusDir, 'config', 'trigger.cfg.2020-06_final.j2'), 'utf8'), {
    execdb_server: 'https://taskotron.fedoraproject.org/execdb',
    trigger_joblog_file: '/var/log/taskotron-trigger/jobs.csv',
    trigger_cache_dir: '/var/lib/taskotron-trigger/cache',
    trigger_rules_template_path: '/etc/taskotron/trigger_rules.yml',
    trigger_critpath_file: '/var/lib/taskotron-trigger/critpath_whitelist',
    deployment_type: 'prod',
    ...vars,
  });
}
