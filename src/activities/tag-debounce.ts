// The trigger workflow of a KojiTagChanged message forwards it to its tag's debounce workflow with
// signal-with-start: Temporal starts that workflow if the tag has none running, else signals it.
// An activity, because workflow code cannot signal-with-start.
import type { Client } from '@temporalio/client';
import { Item, ItemType, MessageType } from '../common/search-attributes.js';
import { TAG_DEBOUNCE_WORKFLOW, tagChangedSignal, tagDebounceWorkflowId, type TriggerInput } from '../workflows/trigger.js';

export function createTagDebounceActivities(options: { client: Client; taskQueue: string }) {
  return {
    async forwardTagChange(input: TriggerInput): Promise<string> {
      const tag = input.debounce!.tag;
      const workflowId = tagDebounceWorkflowId(tag);
      await options.client.workflow.signalWithStart(TAG_DEBOUNCE_WORKFLOW, {
        workflowId,
        taskQueue: options.taskQueue,
        args: [tag],
        signal: tagChangedSignal,
        signalArgs: [input],
        typedSearchAttributes: [
          { key: MessageType, value: input.messageType },
          { key: Item, value: tag },
          { key: ItemType, value: 'koji_tag' },
        ],
      });
      return workflowId;
    },
  };
}

export type TagDebounceActivities = ReturnType<typeof createTagDebounceActivities>;
