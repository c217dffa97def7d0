// The custom search attributes a job carries, in one place: the dev server registers them at start
// (`--search-attribute`), workflows set them, and operators query them in the UI or with
// `temporal workflow list --query 'Item="foo-1.0-1.fc40"'`. All are Keyword: the dev server's SQLite
// visibility store has 10 Keyword slots per namespace (reference/temporal.md §1), we use 8.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TaskName = defineSearchAttributeKey('TaskName', SearchAttributeType.KEYWORD);
export const Item = defineSearchAttributeKey('Item', SearchAttributeType.KEYWORD);
export const ItemType = defineSearchAttributeKey('ItemType', SearchAttributeType.KEYWORD);
export const Arch = defineSearchAttributeKey('Arch', SearchAttributeType.KEYWORD);
export const JobOutcome = defineSearchAttributeKey('JobOutcome', SearchAttributeType.KEYWORD);
export const RunnerHost = defineSearchAttributeKey('RunnerHost', SearchAttributeType.KEYWORD);
export const MessageType = defineSearchAttributeKey('MessageType', SearchAttributeType.KEYWORD);
export const MsgId = defineSearchAttributeKey('MsgId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  TaskName,
  Item,
  ItemType,
  Arch,
  JobOutcome,
  RunnerHost,
  MessageType,
  MsgId,
] as const;
