// Untrusted message fields (NVRs, branch names) must never become shell syntax. These tests run
// the substituted commands through real shells and check two things: nothing the value tries to
// run has run, and the value reaches the program as exactly one, unchanged argument.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FormulaVariableError, substituteShell, type ShellCommand } from '../../src/formula/substitute.js';

const dir = mkdtempSync(join(tmpdir(), 'taskotron-injection-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const marker = (): string => join(dir, `pwned-${process.pid}-${++counter}`);

// Fedora's /bin/sh is bash; here it may be dash. Run both where they exist.
const shells = ['/bin/sh', '/bin/bash', '/usr/bin/bash'].filter((s, i, all) => existsSync(s) && all.indexOf(s) === i);

function payloads(m: string): string[] {
  return [
    `x; touch ${m}`,
    `$(touch ${m})`,
    `\`touch ${m}\``,
    `x\ntouch ${m}`,
    `x\n\`touch ${m}\`\n`,
    `'; touch ${m}; '`,
    `"; touch ${m}; "`,
    `'"$(touch ${m})"'`,
    `\\'; touch ${m}; #`,
    `x\\`,
    `$'\\x27'; touch ${m}`,
    `\${IFS}touch\${IFS}${m}`,
    `x && touch ${m} || touch ${m}`,
    `| touch ${m}`,
    `> ${m}`,
    `*`,
    `-n`,
    ``,
    `foo-1.0-1.fc40`,
    `ünïcödé ☃ \t tab`,
  ];
}

/** Runs a rendered command; returns the NUL-separated words printf received. */
function run(shell: string, command: ShellCommand): string[] {
  const output =
    command.kind === 'script'
      ? execFileSync(shell, ['-c', command.script], { encoding: 'utf8' })
      : execFileSync(command.argv[0] ?? '', command.argv.slice(1), { encoding: 'utf8' });
  return output.split('\0').slice(0, -1);
}

const CASE_END = '\x01';

/**
 * Runs many rendered scripts through one shell process, each in its own subshell, and returns each
 * one's words — a spawn per case made this file the slowest of the suite on a busy machine. When the
 * batch does not give exactly the expected words, every case is run again on its own so the failure
 * names its case: the individual runs stay the judge.
 */
function runEach(shell: string, commands: Extract<ShellCommand, { kind: 'script' }>[], expected: string[][], label: (i: number) => string): void {
  const script = commands.map((c) => `(\n${c.script}\n); printf '${CASE_END}'`).join('\n');
  let batch: string[][] | undefined;
  try {
    const output = execFileSync(shell, ['-c', script], { encoding: 'utf8' });
    batch = output.split(CASE_END).slice(0, -1).map((words) => words.split('\0').slice(0, -1));
  } catch {
    batch = undefined;
  }
  if (batch && batch.length === commands.length && batch.every((words, i) => JSON.stringify(words) === JSON.stringify(expected[i]))) return;
  commands.forEach((command, i) => assert.deepEqual(run(shell, command), expected[i], label(i)));
}

const substitute = (cmd: unknown, item: string): ShellCommand[] =>
  substituteShell([cmd], { item }, { action: 'inject', path: 'actions[0].shell' });

// The author's command string, and the single word printf must receive for a given item.
const contexts: { name: string; template: string; word: (item: string) => string }[] = [
  { name: 'a word of its own', template: "printf '%s\\0' ${item}", word: (v) => v },
  { name: 'unbraced $item', template: "printf '%s\\0' $item", word: (v) => v },
  { name: 'inside a word', template: "printf '%s\\0' --nvr=${item}.src", word: (v) => `--nvr=${v}.src` },
  { name: 'inside double quotes', template: 'printf \'%s\\0\' "pre ${item} post"', word: (v) => `pre ${v} post` },
  { name: 'inside single quotes', template: "printf '%s\\0' 'pre ${item} post'", word: (v) => `pre ${v} post` },
  {
    name: 'inside $(...) inside double quotes',
    template: 'printf \'%s\\0\' "$$(printf %s ${item})"',
    word: (v) => v.replace(/\n+$/, ''),
  },
  { name: 'after $$ for a shell variable', template: "X=1; printf '%s\\0' $$X${item}", word: (v) => `1${v}` },
];

describe('shell command strings: a substituted value is exactly one word and never runs', () => {
  for (const shell of shells) {
    for (const context of contexts) {
      it(`${shell}: ${context.name}`, () => {
        const cases = payloads(marker()).map((item) => {
          const m = marker();
          const value = item.replaceAll(/pwned-\d+-\d+/g, m.slice(dir.length + 1));
          const [command] = substitute(context.template, value);
          assert.ok(command?.kind === 'script');
          return { m, value, command };
        });
        runEach(shell, cases.map((c) => c.command), cases.map((c) => [context.word(c.value)]), (i) => `item ${JSON.stringify(cases[i]!.value)}`);
        for (const { m, value } of cases) assert.equal(existsSync(m), false, `item ${JSON.stringify(value)} created ${m}`);
      });
    }
  }

  it('random strings of shell metacharacters stay one intact word (300 seeded cases per shell)', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = ['\'', '"', '\\', '$', '`', '(', ')', '{', '}', ';', '&', '|', '<', '>', '\n', ' ', '*', '#', '!', 'a', '~', '='];
    for (const shell of shells) {
      const cases = Array.from({ length: 300 }, (_, n) => {
        const value = Array.from({ length: 1 + random(12) }, () => alphabet[random(alphabet.length)]).join('');
        const context = contexts[n % 5] ?? contexts[0]!;
        const [command] = substitute(context.template, value);
        assert.ok(command?.kind === 'script');
        return { value, context, command };
      });
      runEach(shell, cases.map((c) => c.command), cases.map((c) => [c.context.word(c.value)]), (i) => `${shell} ${cases[i]!.context.name} ${JSON.stringify(cases[i]!.value)}`);
    }
  });

  it('$$ gives the shell a literal $', () => {
    const [command] = substitute("HOME=/h; printf '%s\\0' $$HOME '$$' \"$${HOME}\"", 'x');
    assert.ok(command);
    assert.deepEqual(run('/bin/sh', command), ['/h', '$', '/h']);
  });
});

describe('argv commands never pass through a shell', () => {
  it('substitutes element-wise without quoting', () => {
    const m = marker();
    const item = `x; touch ${m} $(touch ${m}) 'q'`;
    const [command] = substitute(['printf', '%s\\0', '${item}', '--nvr=${item}'], item);
    assert.deepEqual(command, { kind: 'argv', argv: ['printf', '%s\\0', item, `--nvr=${item}`], ignoreReturn: false });
    assert.deepEqual(run('/bin/sh', command), [item, `--nvr=${item}`]);
    assert.equal(existsSync(m), false);
  });

  it('a command that is only a variable runs as argv, not as shell text', () => {
    const m = marker();
    assert.deepEqual(substitute('${item}', `touch ${m}`), [{ kind: 'argv', argv: [`touch ${m}`], ignoreReturn: false }]);
  });
});

describe('references where quoting cannot be guaranteed are refused', () => {
  const refused: [string, string][] = [
    ['echo `date` ${item}', 'after a backtick'],
    ['echo \\${item}', "right after a '\\'"],
    ['echo "\\${item}"', "right after a '\\'"],
    ['echo $$${item}', "right after a literal '$'"],
    ['cat <<EOF\n${item}\nEOF', 'after a here-document'],
    ['echo hi # ${item}', 'inside a shell comment'],
    ['echo $${HOME:-${item}}', 'inside a shell ${...} expansion'],
    ["echo $$'${item}'", "inside $'...'"],
    ['echo $$((${item} + 1))', 'inside $((...))'],
    ['echo $$(case x in x) echo ${item};; esac)', "after 'case' inside $(...)"],
  ];
  for (const [template, reason] of refused) {
    it(`${JSON.stringify(template)}: ${reason}`, () => {
      assert.throws(
        () => substitute(template, 'x'),
        (e: unknown) =>
          e instanceof FormulaVariableError &&
          e.variable === '${item}' &&
          e.action === 'inject' &&
          e.path === 'actions[0].shell[0]' &&
          e.message.includes(reason),
      );
    });
  }
});
