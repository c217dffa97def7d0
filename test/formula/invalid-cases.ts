// Invalid formulas for invalid.test.ts: each case is a small runtask.yml with one mistake a task
// author could make, built from a valid header so positions are easy to read.
export const HEADER = ['name: demo', 'desc: a demo task', 'maintainer: someone', 'input:', '  args: [koji_build]', 'actions:'];
// Lines 1-6 are HEADER; a case's first action line is line 7.
export const withActions = (...lines: string[]): string => [...HEADER, ...lines, ''].join('\n');

export interface Expected {
  line: number;
  column: number;
  path: string;
  message: string;
}

export interface InvalidCase {
  name: string;
  yaml: string;
  errors: Expected[];
}
