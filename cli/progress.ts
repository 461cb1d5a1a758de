// Progress for long commands: a bar on stderr when stderr is a terminal, nothing in pipes or with
// --json (commands that stream JSON events, such as embed, do so themselves). Redraws at most
// ten times a second and erases itself when done, so the result below it reads cleanly.
export interface Progress {
  /** Done out of total (a phase name is shown before the bar). */
  update(done: number, total: number, note?: string): void;
  /** A line that stays (the bar is redrawn under it). */
  log(line: string): void;
  done(): void;
}

const WIDTH = 24;

export function progressEnabled(opts: { json?: boolean } = {}, stream: { isTTY?: boolean } = process.stderr): boolean {
  return !opts.json && stream.isTTY === true && process.env.TERM !== 'dumb';
}

export function renderBar(label: string, done: number, total: number, note = ''): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(frac * WIDTH);
  return `${label} [${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}] ${done}/${total}${note ? ` ${note}` : ''}`;
}

export function startProgress(label: string, opts: { json?: boolean } = {}, out: NodeJS.WriteStream = process.stderr): Progress {
  if (!progressEnabled(opts, out)) return { update() {}, log() {}, done() {} };
  let last = 0;
  let shown = false;
  const clear = () => {
    if (shown) out.write('\r\x1b[K');
    shown = false;
  };
  return {
    update(done, total, note) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      out.write(`\r${renderBar(label, done, total, note)}\x1b[K`);
      shown = true;
    },
    log(line) {
      clear();
      out.write(`${line}\n`);
    },
    done: clear,
  };
}
