/**
 * Prompt interpolation: `${name}` inserts `vars.name`, `${env:NAME}` the environment variable NAME (which
 * therefore enters the shot key through the prompt), `$${` is a literal `${`. A lone `$` is just a `$`.
 *
 * Problems are reported at the exact `${` in the file. The prompt's *value* and its *source text* differ
 * for quoted and folded scalars (escapes, line folding), so positions come from scanning the source text of
 * the scalar for the same tokens; when the two scans do not agree (an escape spelled `\x24{`, say), the
 * problem is put at the start of the prompt instead of a wrong column.
 */
import { didYouMean } from './did-you-mean.ts';
import { envValue } from './env-value.ts';
import { ENV_NAME_PATTERN, VAR_NAME_PATTERN } from './manifest-schema.ts';

type Token =
  | { readonly kind: 'escape'; readonly start: number; readonly end: number }
  | { readonly kind: 'ref'; readonly start: number; readonly end: number; readonly inner: string }
  /** `${` not followed by a name and `}`: `found` is the character where the `}` was expected. */
  | {
      readonly kind: 'unclosed';
      readonly start: number;
      readonly end: number;
      readonly found: string | undefined;
    };

/** Characters of a name or `env:NAME`; the first other character must be the closing `}`. */
const NAME_CHAR = /[A-Za-z0-9_.:-]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = text.indexOf('$');
  while (i !== -1 && i < text.length) {
    if (text.startsWith('$${', i)) {
      tokens.push({ kind: 'escape', start: i, end: i + 3 });
      i = text.indexOf('$', i + 3);
    } else if (text.startsWith('${', i)) {
      let j = i + 2;
      while (j < text.length && NAME_CHAR.test(text[j]!)) j++;
      if (text[j] === '}' && j > i + 2) {
        tokens.push({ kind: 'ref', start: i, end: j + 1, inner: text.slice(i + 2, j) });
        i = text.indexOf('$', j + 1);
      } else {
        tokens.push({ kind: 'unclosed', start: i, end: j, found: text[j] });
        i = text.indexOf('$', j);
      }
    } else {
      i = text.indexOf('$', i + 1);
    }
  }
  return tokens;
}

export interface InterpolationProblem {
  readonly message: string;
  /** Offset into the scalar's source text (0 = the start of the prompt node). */
  readonly offset: number;
  readonly length: number;
}

export interface InterpolationInput {
  /** The prompt's value as YAML parsed it. */
  readonly value: string;
  /** The prompt's text in the file (the node's range), used only to find positions. */
  readonly source: string;
  /** Variables; a name mapped to `undefined` exists but has an invalid value (already reported). */
  readonly vars: ReadonlyMap<string, string | undefined>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * "Did you mean" costs a scan of every variable name: a budget shared by all prompts keeps ten thousand
   * unknown names against ten thousand variables linear. @default no limit
   */
  readonly suggestions?: { left: number };
}

export interface Interpolation {
  readonly text: string;
  readonly problems: readonly InterpolationProblem[];
  /** Environment variables read, in order of appearance (may repeat). */
  readonly envUsed: readonly string[];
}

const varName = new RegExp(VAR_NAME_PATTERN);
const envName = new RegExp(ENV_NAME_PATTERN);

export function interpolate(input: InterpolationInput): Interpolation {
  const tokens = tokenize(input.value);
  if (tokens.length === 0) return { text: input.value, problems: [], envUsed: [] };
  const sourceTokens = tokenize(input.source);
  const aligned =
    sourceTokens.length === tokens.length &&
    tokens.every((t, k) => {
      const s = sourceTokens[k]!;
      return s.kind === t.kind && input.source.slice(s.start, s.end) === input.value.slice(t.start, t.end);
    });
  const positionOf = (k: number): { offset: number; length: number } => {
    const s = aligned ? sourceTokens[k] : undefined;
    return s === undefined ? { offset: 0, length: 0 } : { offset: s.start, length: s.end - s.start };
  };

  const problems: InterpolationProblem[] = [];
  const envUsed: string[] = [];
  let text = '';
  let last = 0;
  tokens.forEach((t, k) => {
    text += input.value.slice(last, t.start);
    last = t.end;
    const problem = (message: string): void => {
      problems.push({ message, ...positionOf(k) });
    };
    switch (t.kind) {
      case 'escape':
        text += '${';
        return;
      case 'unclosed': {
        const written = input.value.slice(t.start, t.end);
        const found = t.found === undefined ? 'the end of the prompt' : JSON.stringify(t.found);
        problem(
          t.end === t.start + 2
            ? `Expected a variable name or env:NAME right after \`\${\`, but found ${found} (write \`$\${\` for a literal \`\${\`)`
            : `Expected \`}\` to close \`${written}\`, but found ${found}`,
        );
        return;
      }
      case 'ref': {
        const written = input.value.slice(t.start, t.end);
        if (t.inner.startsWith('env:')) {
          const name = t.inner.slice(4);
          if (!envName.test(name)) {
            problem(
              `Expected an environment variable name (letters, digits and \`_\`) in \`${written}\`, but found ${JSON.stringify(name)}`,
            );
            return;
          }
          envUsed.push(name);
          // Own properties only: `${env:toString}` must not find Object.prototype's function.
          const value = envValue(input.env, name);
          if (value === undefined) {
            problem(
              `Expected the environment variable ${name} to be set (for \`${written}\`), but it is not set`,
            );
            return;
          }
          text += value;
          return;
        }
        if (!varName.test(t.inner)) {
          problem(
            `Expected a variable name (letters, digits, \`_\` and \`-\`) or env:NAME in \`${written}\`, but found ${JSON.stringify(t.inner)}`,
          );
          return;
        }
        if (!input.vars.has(t.inner)) {
          if (input.vars.size === 0) {
            problem(
              `Expected \`${written}\` to name a variable under \`vars:\`, but the manifest has no \`vars:\``,
            );
            return;
          }
          const first: string[] = [];
          for (const name of input.vars.keys()) {
            if (first.length === 10) break;
            first.push(name);
          }
          const shown = input.vars.size > 10 ? `${first.join(', ')}, ...` : first.join(', ');
          const budget = input.suggestions;
          const suggestion =
            budget === undefined || budget.left-- > 0 ? didYouMean(t.inner, input.vars.keys()) : undefined;
          problem(
            `Expected \`${written}\` to name a variable under \`vars:\` (${shown}), but there is none by that name${suggestion === undefined ? '' : `; did you mean \`\${${suggestion}}\`?`}`,
          );
          return;
        }
        text += input.vars.get(t.inner) ?? '';
        return;
      }
    }
  });
  text += input.value.slice(last);
  return { text, problems, envUsed };
}
