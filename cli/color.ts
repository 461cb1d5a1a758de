// Colour only where it carries meaning (OWNED / NOT SHOWN, ok / FAILED), only on a terminal, and
// never when NO_COLOR is set (https://no-color.org) or TERM=dumb. FORCE_COLOR=1 forces it on.
export type Tone = 'good' | 'bad' | 'warn' | 'dim';

const CODES: Record<Tone, [string, string]> = {
  good: ['\x1b[32m', '\x1b[39m'],
  bad: ['\x1b[31m', '\x1b[39m'],
  warn: ['\x1b[33m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
};

export function colorEnabled(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** The text wrapped in the tone's colour when colour is enabled for stdout. */
export function paint(tone: Tone, text: string, enabled: boolean = colorEnabled()): string {
  if (!enabled) return text;
  const [on, off] = CODES[tone];
  return `${on}${text}${off}`;
}

const VERDICTS: [RegExp, Tone][] = [
  [/^(OWNED)\b/, 'good'],
  [/^(NOT SHOWN)\b/, 'warn'],
  [/^(ok)\b/, 'good'],
  [/^(FAILED|TAMPERED|MISMATCH)\b/, 'bad'],
];

/** Colours the verdict word that starts a line of a human summary; every other character is kept. */
export function paintVerdicts(text: string, enabled: boolean = colorEnabled()): string {
  if (!enabled) return text;
  return text.split('\n').map((line) => {
    const indent = /^\s*/.exec(line)![0];
    const rest = line.slice(indent.length);
    for (const [re, tone] of VERDICTS) if (re.test(rest)) return indent + rest.replace(re, (w) => paint(tone, w, true));
    return line;
  }).join('\n');
}
