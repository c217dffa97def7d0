// Reading recorded workflow histories (JSON as `temporal workflow show --output json` or
// historyToJSON writes them) without caring which of the two enum spellings a file uses.
import { readFileSync } from 'node:fs';

interface JsonEvent {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
}

export interface JsonHistory {
  events: JsonEvent[];
}

export function readHistory(path: string): JsonHistory {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonHistory;
}

function isType(event: JsonEvent, name: string): boolean {
  return event.eventType === `EVENT_TYPE_${name}` || event.eventType === name.replace(/(^|_)([A-Z])([A-Z]*)/g, (_m, _s, a: string, b: string) => a + b.toLowerCase());
}

/** The activity types a history scheduled, in order: what replay alone would not catch if renamed. */
export function scheduledActivityTypes(history: JsonHistory): string[] {
  return history.events
    .filter((event) => isType(event, 'ACTIVITY_TASK_SCHEDULED'))
    .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
}

export function workflowType(history: JsonHistory): string | undefined {
  return history.events.find((event) => isType(event, 'WORKFLOW_EXECUTION_STARTED'))?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}
