// Types of dist-freshness.mjs for the TypeScript that imports it (the test harness).
export function distStaleReason(root: string): string | undefined;
export function staleBundles(root: string): Array<readonly ['workflows' | 'triggers', string]>;
