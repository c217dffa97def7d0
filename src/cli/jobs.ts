// `taskotron jobs`: what an operator does with jobs without opening the Web UI — list them by the
// search attributes every job carries, show one job's story from its history, re-run it (a reset to
// its first workflow task, exactly the UI's Reset), force a new one (the original's force-scheduler)
// and cancel one. Everything goes through Temporal's own APIs; there is no other job database.
//
// This module is the subcommands' options; what they do (jobs-run.ts: the Temporal client) is loaded
// once the options have been parsed, so `jobs … --help` and a usage error answer without it.
import { Option, type Command } from 'commander';
import { ITEM_TYPES } from '../formula/model.js';
import { addTemporalOptions, positiveInt } from './option-defs.js';

/** The action of `jobs <name>`, from jobs-run.ts. */
function subcommand(name: 'list' | 'show' | 'rerun' | 'run' | 'cancel') {
  return async (...args: unknown[]): Promise<void> => {
    const { JOBS_SUBCOMMANDS } = await import('./jobs-run.js');
    await (JOBS_SUBCOMMANDS[name] as (...a: unknown[]) => Promise<void>)(...args);
  };
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs');
  addTemporalOptions(
    jobs
      .command('list')
      .description('jobs matching the filters (running first, then most recently closed): task, item, arch, outcome, host, duration')
      .option('--task <name>', 'task name (search attribute TaskName)')
      .option('--item <item>', 'item, e.g. foo-1.0-1.fc40 (Item)')
      .option('--type <type>', 'item type, e.g. koji_build (ItemType)')
      .option('--arch <arch>', 'architecture (Arch)')
      .option('--outcome <outcome>', 'PASSED, INFO, FAILED, NEEDS_INSPECTION, ABORTED or CRASHED (JobOutcome)')
      .option('--since <when>', 'started within this long (30m, 2h, 3d) or since this date (2026-11-30)')
      .option('--limit <n>', 'at most this many jobs', positiveInt, 50)
      .option('--json', 'an array of {workflowId, task, item, itemType, arch, outcome, host, status, startTime, closeTime}'),
  ).action(subcommand('list'));
  addTemporalOptions(
    jobs
      .command('show')
      .description("one job's story: steps with durations, outcome, reason, log tail, artifacts")
      .argument('<workflow-id>', 'the job workflow ID (see `jobs list`)')
      .option('--run <run-id>', 'a particular run (default: the latest, e.g. after a rerun)')
      .option('--json', 'steps and the job result as JSON'),
  ).action(subcommand('show'));
  addTemporalOptions(
    jobs
      .command('rerun')
      .description("run a job again from the start: a reset to its first workflow task, like the Web UI's Reset")
      .argument('<workflow-id>', 'the job workflow ID')
      .option('--reason <text>', 'recorded with the reset (default: who re-ran it)')
      .option('--force', 'also restart a job that is still running (its current run is terminated)'),
  ).action(subcommand('rerun'));
  addTemporalOptions(
    jobs
      .command('run')
      .description("start a job by hand, as the original's force-scheduler did; its ID starts with forced-")
      .requiredOption('--task <name>', 'task name, resolved through the task sources (ingest task_repo)')
      .requiredOption('--item <item>', 'item under test, e.g. foo-1.0-1.fc40')
      .addOption(new Option('--type <type>', 'item type').choices([...ITEM_TYPES]).makeOptionMandatory())
      .option('--arch <arch>', 'architecture(s), comma-separated (default: the configured valid arches)')
      .option('--task-repo <template>', "where tasks live: '${task}' is replaced; 'local:/path/${task}' for a directory on the runners")
      .option('--task-ref <ref>', 'branch, tag or commit of the task repository (default master)')
      .option('--job-queue <queue>', 'task queue of job workflows (default "taskotron")')
      .option('--wait', 'wait for the jobs to finish and print their outcomes (exit 1 unless all PASSED/INFO)'),
  ).action(subcommand('run'));
  addTemporalOptions(
    jobs.command('cancel').description('cancel a running job: its command is killed, it ends ABORTED').argument('<workflow-id>', 'the job workflow ID'),
  ).action(subcommand('cancel'));
}
