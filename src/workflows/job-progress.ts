// Everything a job tells the outside while it runs — search attributes, memo, the UI's current
// details — in one place, so what operators see is decided here and not scattered through the story.
// (Issue 11 adds Temporal user metadata, summary and details, here.)
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { JobInput, Outcome } from '../common/job.js';
import { Arch, Item, ItemType, JobOutcome, RunnerHost, TaskName } from '../common/search-attributes.js';

/** What the job is, for `temporal workflow list --query` and the UI's list. */
export function describeJob(input: JobInput): void {
  upsertSearchAttributes([
    { key: TaskName, value: input.task },
    { key: Item, value: input.item },
    { key: ItemType, value: input.itemType },
    { key: Arch, value: input.arch },
  ]);
}

/** A line of Markdown the UI shows as the job's current details. */
export function reportProgress(details: string): void {
  setCurrentDetails(details);
}

export function reportHost(hostname: string): void {
  upsertSearchAttributes([{ key: RunnerHost, value: hostname }]);
}

export function reportWorkspace(workspace: { hostname: string; taskdir: string; artifactsdir: string; repo?: string; commit?: string }, rerunOf?: string): void {
  upsertMemo({
    taskRepo: workspace.repo ?? workspace.taskdir,
    ...(workspace.commit ? { commit: workspace.commit } : {}),
    artifacts: `${workspace.hostname}:${workspace.artifactsdir}`,
    ...(rerunOf ? { rerunOf } : {}),
  });
}

export function reportOutcome(outcome: Outcome, details: string): void {
  upsertSearchAttributes([{ key: JobOutcome, value: outcome }]);
  setCurrentDetails(details);
}
