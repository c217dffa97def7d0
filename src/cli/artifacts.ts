// `taskotron artifacts serve|clean`: the artifacts web server for a local stack (the compose stack
// runs the same command) and the retention sweep an operator runs from cron.
//
// What the actions need (the configuration loader, the HTTP server) is loaded when one runs, so
// `artifacts … --help` and a usage error answer without it.
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ARTIFACTS_LISTEN } from '../artifacts/url.js';

/** The `artifacts` settings of taskotron.yaml ($TASKOTRON_CONFIG or the usual places), the environment over them. */
async function artifactsSettings(env: NodeJS.ProcessEnv = process.env): Promise<{ dir: string; listen: string }> {
  const { configFile, readConfig } = await import('../config/load.js');
  const config = readConfig({ file: configFile(undefined, env), env });
  return { dir: config.artifacts.dir ?? join(config.runner.root, 'artifacts'), listen: config.artifacts.listen };
}

export function registerArtifacts(program: Command): void {
  const artifacts = program.command('artifacts');
  artifacts
    .command('serve')
    .description('serve the artifacts directory over HTTP: listings, logs shown as text, nothing outside it')
    .option('--dir <dir>', 'artifacts directory (env TASKOTRON_ARTIFACTS_DIR; default <runner root>/artifacts)')
    .option('--listen <host:port>', `address to listen on (env TASKOTRON_ARTIFACTS_LISTEN; default ${DEFAULT_ARTIFACTS_LISTEN})`)
    .action(async (options: { dir?: string; listen?: string }) => {
      // The configuration is read only for what the options leave open.
      const settings = options.dir && options.listen ? undefined : await artifactsSettings();
      const dir = options.dir ?? settings!.dir;
      const { mkdirSync } = await import('node:fs');
      const { serveArtifacts } = await import('../artifacts/server.js');
      const { logger } = await import('../logging/log.js');
      mkdirSync(dir, { recursive: true });
      const server = await serveArtifacts(dir, options.listen ?? settings!.listen);
      const log = logger('artifacts');
      log.info({ dir, url: server.url }, `taskotron artifacts: serving ${dir} on ${server.url}`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
    });
  artifacts
    .command('clean')
    .description("remove jobs' artifacts untouched for longer than the retention period")
    .requiredOption('--older-than <duration>', 'e.g. 120d, 2w, 36h (artifacts.retention)')
    .option('--dir <dir>', 'artifacts directory (env TASKOTRON_ARTIFACTS_DIR; default <runner root>/artifacts)')
    .option('--dry-run', 'only list what would be removed')
    .action(async (options: { olderThan: string; dir?: string; dryRun?: boolean }) => {
      const { cleanArtifacts, parseRetention } = await import('../artifacts/clean.js');
      const seconds = parseRetention(options.olderThan, '--older-than');
      const dir = options.dir ?? (await artifactsSettings()).dir;
      const result = cleanArtifacts(dir, seconds, { dryRun: Boolean(options.dryRun) });
      for (const path of result.removed) console.log(`${options.dryRun ? 'would remove' : 'removed'} ${path}`);
      console.log(`${result.removed.length} job artifact director${result.removed.length === 1 ? 'y' : 'ies'} ${options.dryRun ? 'to remove' : 'removed'}, ${result.kept} kept (${dir})`);
    });
}
