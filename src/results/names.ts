// Check names and namespaces (reference §1.8). A ResultsDB testcase is `<namespace>.<checkname>`;
// dots also separate sub-checks (`dist.python-versions.two_three`). Pure: no imports.

/** Namespace of a job whose formula names none: the one anybody may post into. */
export const DEFAULT_NAMESPACE = 'scratch';

// Testcase names end up in URLs (`/testcases/<name>`) and in queries (`testcases:like=dist.*`), so
// keep to what real Taskotron checks used: no spaces, slashes, `*`, `,` or `:`.
const PART = '[A-Za-z0-9_+-]+';
const NAME = new RegExp(`^${PART}(?:\\.${PART})*$`);

/** Why `name` cannot be a check name or namespace, or undefined when it can. */
export function checkNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    return `'${name}' has an empty part: dots separate parts, as in 'python-versions.two_three'`;
  }
  if (!NAME.test(name)) {
    return `'${name}' may only contain letters, digits, '_', '-' and '+', with '.' between parts`;
  }
  return undefined;
}

/** The ResultsDB testcase a result is reported under. */
export function testcaseName(namespace: string, checkname: string): string {
  return `${namespace}.${checkname}`;
}
