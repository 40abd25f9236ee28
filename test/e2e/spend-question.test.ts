/**
 * The spending question on a real terminal: `build` runs under `script`, which gives it a pseudo-terminal,
 * so stdin and stdout are TTYs exactly as for a person. The question must be on screen, and stay there
 * untouched, until it is answered; only then does the live table start, showing the same estimate.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, createRequests, makeProject } from './harness.ts';
import type { Project } from './harness.ts';

const STORYBOARD = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
  harbor: { prompt: Wide establishing shot of a misty harbor at dawn. }
  pier: { prompt: A wooden pier in fog. }
`;

const QUESTION = 'Generate 2 shots with provider local for about $0.80, taking about ';

interface Terminal {
  /** Everything the program wrote to the terminal so far (escape sequences included). */
  readonly output: () => string;
  type(text: string): void;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exit: Promise<number | null>;
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

function onTerminal(project: Project, args: readonly string[]): Terminal {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(OPENAI_|AZURE_|GITHUB_|SORA_BUILD_|CI$)/.test(k)) env[k] = v;
  }
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: project.dir,
    env: {
      ...env,
      OPENAI_API_KEY: 'sk-test-SECRET-4f1c2e9a7b',
      SORA_BUILD_CLOCK: project.clockSpec,
      NO_COLOR: '1',
      TERM: 'xterm',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    for (const w of waiters.splice(0)) {
      if (output.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    output: () => output,
    type: (text) => child.stdin.write(text),
    waitFor: (text, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        if (output.includes(text)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`no ${JSON.stringify(text)} on the terminal; it shows:\n${output}`)),
          timeoutMs,
        );
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    exit: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  };
}

/** The terminal's bytes after `marker`, with the echo of what was typed. */
const after = (output: string, marker: string): string =>
  output.slice(output.indexOf(marker) + marker.length);

describe('build asks before spending, on a terminal', () => {
  let project: Project | undefined;
  afterEach(async () => {
    await project?.close();
    project = undefined;
  });

  it('keeps the question on screen until it is answered, then shows the estimate in the live view', async () => {
    project = await makeProject();
    await project.write('storyboard.yaml', STORYBOARD);
    const term = onTerminal(project, ['build']);
    await term.waitFor('[y/N] ');
    const asked = term.output();
    expect(asked).toMatch(
      /Generate 2 shots with provider local for about \$0\.80, taking about (\d+m )?\d+s\? \[y\/N\] $/,
    );
    // Nothing is drawn over it while it waits, and nothing is sent.
    await new Promise((r) => setTimeout(r, 700));
    expect(term.output()).toBe(asked);
    expect(asked).not.toContain('\u001b[');
    expect(createRequests(project.emulator)).toEqual([]);

    term.type('y\r');
    expect(await term.exit).toBe(0);
    const rest = after(term.output(), '[y/N] ');
    expect(rest).toMatch(/^y\r?\n/);
    // The live table, with what the question promised under the running totals.
    expect(rest).toContain('shot    state');
    expect(rest).toMatch(/estimated \$0\.80, about (\d+m )?\d+s/);
    expect(rest).toContain('built 2 · fresh 0 · cached 0 · failed 0 · blocked 0 · $0.80');
    expect(term.output().indexOf(QUESTION)).toBeLessThan(term.output().indexOf('shot    state'));
    expect(createRequests(project.emulator)).toHaveLength(2);
  });

  it('sends nothing when the answer is no', async () => {
    project = await makeProject();
    await project.write('storyboard.yaml', STORYBOARD);
    const term = onTerminal(project, ['build']);
    await term.waitFor('[y/N] ');
    term.type('n\r');
    expect(await term.exit).toBe(3);
    expect(after(term.output(), '[y/N] ')).toMatch(/^n\r?\nsora-build build: nothing was sent\.\r?\n$/);
    expect(createRequests(project.emulator)).toEqual([]);
  });
});
