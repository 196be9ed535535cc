/**
 * Which REGEX rule patterns PostgreSQL may run on every new transaction's payee and notes.
 *
 * PostgreSQL's engine (Spencer's, in `~*`) answers a yes/no match without back references by one
 * pass of a lazily built DFA over the text: time linear in the text, times a factor that grows with
 * the size of the pattern's automaton. Two constructs leave that path: back references (`\1`..`\9`)
 * make it backtrack, exponentially in the worst case (`^(.*)(.*)(.*)(.*)(.*)\5\4\3\2\1x$` takes
 * seconds on a 120-character payee), and lookahead/lookbehind constraints (`(?=`, `(?!`, `(?<=`,
 * `(?<!`) run a sub-automaton from each position, quadratic in the text. Both are refused, as are
 * the embedded options and directors (`(?b)`, `***=`) that switch to another flavour, so that
 * this reading of the pattern is the one the engine uses. Bounded repetition (`{m,n}`) copies its
 * atom into the automaton, so the pattern's size after those copies ("weight") is bounded as well.
 * A statement that still runs long is cancelled by the pool's statement_timeout.
 */

export const MAX_PATTERN_LENGTH = 200;
/** The pattern's size with every `{m,n}` expanded: about the size of the automaton PostgreSQL builds. */
export const MAX_PATTERN_WEIGHT = 1000;

/** Null when the pattern is safe to store, else why not (a sentence for the user). */
export function unsafeRegexReason(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `a pattern has at most ${MAX_PATTERN_LENGTH} characters`;
  if (pattern.startsWith('***')) return 'directors (***= or ***:) are not supported';
  // One entry per open group: the weight of its content so far, and of its last atom.
  const stack: { total: number; last: number }[] = [{ total: 0, last: 0 }];
  const atom = (weight: number) => {
    const top = stack[stack.length - 1]!;
    top.total += weight;
    top.last = weight;
  };
  const repeat = (times: number) => {
    const top = stack[stack.length - 1]!;
    top.total += top.last * (times - 1);
    top.last *= times;
  };
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next)) return `back references such as \\${next} are not supported (they make matching exponential); to match the digit, write [${next}]`;
      atom(1);
      i += 2;
      continue;
    }
    if (c === '[') {
      // A bracket expression is one atom: find its end (a "]" right after "[" or "[^" is literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') {
        if (pattern[j] === '[' && /[:.=]/.test(pattern[j + 1] ?? '')) {
          const close = pattern.indexOf(`${pattern[j + 1]}]`, j + 2);
          j = close === -1 ? pattern.length : close + 2;
        } else if (pattern[j] === '\\') j += 2;
        else j++;
      }
      atom(1);
      i = j + 1;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] !== ':') {
          return /^\(\?<?[=!]/.test(pattern.slice(i)) ? 'lookahead and lookbehind constraints are not supported' : 'embedded options such as (?b) are not supported';
        }
        i += 3;
      } else i += 1;
      stack.push({ total: 0, last: 0 });
      continue;
    }
    if (c === ')') {
      if (stack.length > 1) {
        const group = stack.pop()!;
        atom(group.total);
      }
      i += 1;
      continue;
    }
    if (c === '{') {
      const bound = /^\{(\d{1,3})(?:(,)(\d{0,3}))?\}/.exec(pattern.slice(i));
      if (bound) {
        const low = Number(bound[1]);
        const high = bound[3] ? Number(bound[3]) : bound[2] ? low + 1 : low;
        repeat(Math.max(1, low, high));
        i += bound[0].length;
        continue;
      }
    }
    if (c === '*' || c === '+' || c === '?' || c === '|') {
      // Unbounded repetition is a loop in the automaton, not a copy; alternation adds nothing.
      i += 1;
      continue;
    }
    atom(1);
    i += 1;
  }
  const weight = stack.reduce((sum, group) => sum + group.total, 0);
  if (weight > MAX_PATTERN_WEIGHT) return `the pattern is too large once its repetitions {m,n} are counted out (${weight}; at most ${MAX_PATTERN_WEIGHT})`;
  return null;
}
