// `taskotron rules explain RULES.yml MESSAGE.json`: what ingest would do with one message and why.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { ingestConfig, readCritpath, type IngestConfig } from '../ingest/config.js';
import { envelopesFromJson } from '../bus/envelope.js';
import { SignatureChecker } from '../bus/signature-checker.js';
import type { SignatureVerdict } from '../bus/signatures.js';
import { CONFIG_OPTION_HELP } from './option-defs.js';
import { configFromOptions } from './options.js';
import { explainMessage, formatExplanation } from '../ingest/explain.js';
import { loadRules } from '../ingest/rules.js';

interface ExplainOptions {
  arches?: string;
  json?: boolean;
  config?: string;
  critpath?: string;
}

export function registerRules(program: Command): void {
  const rules = program.command('rules');
  rules
    .command('explain')
    .description('print the trigger data of MESSAGE, whether each rule matched and why, and the jobs that would start')
    .argument('<rules>', 'a trigger_rules.yml')
    .argument('<message>', 'a fedmsg envelope or a datagrepper record (JSON)')
    .option('--arches <list>', 'valid arches for rules that name none (default: the config\'s valid_arches, else x86_64)')
    .option('--config <file>', `${CONFIG_OPTION_HELP}: ingest.arches, ingest.critpath_file, ingest.rawhide_release; with validate_signatures, the signature verdict too`)
    .option('--critpath <file>', 'critical-path package names, one per line (feeds ${critpath_pkgs})')
    .option('--json', 'print {"data", "rules": [{"index", "matched", "reason"}], "jobs": [{"task", "arch", "item", "item_type"}]}')
    .action(async (rulesFile: string, messageFile: string, options: ExplainOptions) => {
      const config = ingestConfig(configFromOptions(options));
      const loaded = loadRules(readFileSync(rulesFile, 'utf8'), rulesFile);
      for (const d of [...loaded.errors, ...loaded.warnings]) console.error(formatDiagnostic(d));
      if (!loaded.value) {
        process.exitCode = 1;
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(readFileSync(messageFile, 'utf8'));
      } catch (error) {
        console.error(`${messageFile}: not JSON: ${(error as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const validArches = options.arches ? options.arches.split(',').map((a) => a.trim()).filter(Boolean) : config.validArches;
      const critpathPkgs = readCritpath(options.critpath ?? config.critpathFile);
      const result = explainMessage(message, loaded.value, { validArches, context: { critpathPkgs, ...(config.rawhideRelease ? { rawhideRelease: config.rawhideRelease } : {}) } });
      // With validate_signatures configured, ingest checks the signature first: say what it would decide.
      const signature = config.validateSignatures ? await explainSignature(config, message, readFileSync(messageFile, 'utf8')) : undefined;
      if (options.json) console.log(JSON.stringify(signature ? { signature, ...result.explanation } : result.explanation, null, 2));
      else console.log(`${signature ? `${formatSignature(signature)}\n` : ''}${formatExplanation(result)}`);
      if (result.note && options.json) console.error(result.note);
    });
}

/** The verdict ingest's signature check gives MESSAGE under the configured CA, CRL, crl_stale and routing_policy. */
async function explainSignature(config: IngestConfig, message: unknown, text: string): Promise<SignatureVerdict> {
  if (!config.caCert) return { ok: false, reason: 'untrusted', detail: 'validate_signatures without ca_cert' };
  const checker = await SignatureChecker.open({
    ca: config.caCert,
    ...(config.crl ? { crl: config.crl } : {}),
    crlStale: config.crlStale,
    routingPolicy: config.routingPolicy,
    routingNitpicky: config.routingNitpicky,
    // A one-off look: problems fetching show up in the verdict (crl-unavailable), not as log lines.
    log: () => {},
  });
  try {
    const [envelope] = envelopesFromJson(message);
    // The file's own text is what was signed when it is one envelope or record (its number lexemes matter).
    const single = typeof message === 'object' && message !== null && 'signature' in message;
    return checker.check((envelope ?? {}) as Record<string, unknown>, single ? text : undefined);
  } finally {
    checker.close();
  }
}

function formatSignature(verdict: SignatureVerdict): string {
  if (!verdict.ok) return `signature: REFUSED (${verdict.reason}): ${verdict.detail}; ingest drops it as rejected.bad-signature`;
  return `signature: accepted, signed by ${verdict.signer || '(no CN)'}${verdict.warning ? ` (crl_stale: warn: ${verdict.warning.detail})` : ''}`;
}
