// The CLI behaves as its users' other tools do: one exit-code rule, JSON errors with --json,
// `version` / --version / -v, NO_COLOR, examples on every help page, and completion scripts that a
// real bash completes with.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../cli/commands-table.js';
import { addExamples, commandPath } from '../../cli/examples.js';
import { EXIT, exitCodeFor } from '../../cli/output.js';
import { HallmarkError } from '../../ledger/index.js';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

// `hallmark init` seals the home's keys under a passphrase; every command here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'conventions test passphrase';
vi.setConfig({ testTimeout: 300_000 });

const home = join(mkdtempSync(join(tmpdir(), 'hm-conv-')), 'home');
const jsonError = (stderr: string) => (JSON.parse(stderr.trim()) as { error: { code: string; message: string } }).error;

describe('exit codes: one rule', () => {
  class E extends HallmarkError<string> {}
  const cases: [string, number][] = [
    ['LEDGER_TAMPERED', EXIT.failed], ['EVIDENCE_MISMATCH', EXIT.failed], ['LEDGER_BAD_SIGNATURE', EXIT.failed], ['EVIDENCE_VERIFY_FAILED', EXIT.failed],
    ['FORMAT_UNKNOWN', EXIT.usage], ['FORMAT_CORRUPT', EXIT.usage], ['FORMAT_TRUNCATED', EXIT.usage], ['FORMAT_NOT_FOUND', EXIT.usage],
    ['HOME_NOT_FOUND', EXIT.usage], ['SECRET_BAD_PASSPHRASE', EXIT.usage], ['LEDGER_UNSUPPORTED_VERSION', EXIT.usage],
    ['VERIFY_REMOTE_UNREACHABLE', EXIT.error], ['VERIFY_REMOTE_TIMEOUT', EXIT.error], ['TSA_UNREACHABLE', EXIT.error], ['LEDGER_BUSY', EXIT.error],
  ];
  it.each(cases)('%s -> %i', (code, exit) => expect(exitCodeFor(new E(code, 'x'))).toBe(exit));

  it('maps node file errors and argument errors to the caller', () => {
    expect(exitCodeFor(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }))).toBe(EXIT.usage);
    expect(exitCodeFor(new RangeError('bad flag'))).toBe(EXIT.usage);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.error);
  });

  it('classifies every error code the code base declares into exactly the documented three', () => {
    const files = ['ledger/errors.ts', ...readdirSync(join(REPO, 'src')).map((d) => `src/${d}/errors.ts`)].filter((f) => existsSync(join(REPO, f)));
    const codes = new Set(files.flatMap((f) => [...readFileSync(join(REPO, f), 'utf8').matchAll(/'([A-Z]+_[A-Z_]+)'/g)].map((m) => m[1]!)));
    expect(codes.size).toBeGreaterThan(50);
    for (const code of codes) {
      const exit = exitCodeFor(new E(code, 'x'));
      if (/_(UNREACHABLE|TIMEOUT|BUSY)$/.test(code)) expect(exit, code).toBe(EXIT.error);
      if (/_(TAMPERED|BAD_SIGNATURE|MISMATCH)$/.test(code) && !/_SHAPE_MISMATCH$/.test(code)) expect(exit, code).toBe(EXIT.failed);
      if (/_(NOT_FOUND|CORRUPT|TRUNCATED|UNKNOWN|INVALID)$/.test(code)) expect(exit, code).toBe(EXIT.usage);
    }
  });

  it('a missing file and a file of the wrong type are both the caller\'s mistake (2), as one line', () => {
    const missing = hallmark(['model', 'inspect', join(home, 'nope.onnx')]);
    expect(missing.status).toBe(EXIT.usage);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const text = join(mkdtempSync(join(tmpdir(), 'hm-conv-f-')), 'notes.onnx');
    writeFileSync(text, 'these are my notes, not a model\n');
    const wrong = hallmark(['model', 'inspect', text]);
    expect(wrong.status).toBe(EXIT.usage);
    expect(wrong.stderr).toMatch(/^hallmark: FORMAT_[A-Z_]+: /);
  });
});

describe('--json errors', () => {
  it('are one JSON object on stderr with code and message, and nothing on stdout', () => {
    const r = hallmark(['ledger', 'show', '3', '--json'], { home: join(home, 'missing') });
    expect(r.status).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(jsonError(r.stderr)).toMatchObject({ code: 'HOME_NOT_FOUND' });
    const usage = hallmark(['ledger', 'frobnicate', '--json']);
    expect(usage.status).toBe(EXIT.usage);
    expect(jsonError(usage.stderr).code).toBe('USAGE');
    const badFlag = hallmark(['ledger', 'prove', '--index', 'x', '--json'], { home: join(home, 'missing') });
    expect(jsonError(badFlag.stderr).code).toMatch(/INVALID_ARGUMENT|HOME_NOT_FOUND/);
  });
});

describe('install and npx', () => {
  it('`npx hallmark --version` prints nothing but Hallmark\'s own output (no npm warnings)', () => {
    const r = spawnSync('npm', ['exec', '--', 'hallmark', '--version'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^hallmark \d+\.\d+\.\d+ \(commit /);
    expect(existsSync(join(REPO, '.npmrc'))).toBe(false);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
  }, 150_000);
});

describe('version', () => {
  it('--version, -v, -V and `version` say the same, with the commit, Node, backend and onnxruntime', () => {
    const outs = [['--version'], ['-v'], ['-V'], ['version']].map((a) => hallmark(a));
    for (const o of outs) expect(o.status, o.stderr).toBe(0);
    expect(new Set(outs.map((o) => o.stdout)).size).toBe(1);
    const commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const ort = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
    expect(outs[0]!.stdout).toContain(`commit ${commit}`);
    expect(outs[0]!.stdout).toContain(`node ${process.version}`);
    expect(outs[0]!.stdout).toContain(`onnxruntime-node ${ort}`);
    expect(outs[0]!.stdout).toMatch(/training backend \(auto\): (wasm|tensorflow|cpu|webgpu)/);
    const j = JSON.parse(hallmark(['version', '--json']).stdout) as Record<string, any>;
    expect(j).toMatchObject({ hallmark: JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version, commit, node: process.version, onnxruntime: ort });
    expect(['wasm', 'tensorflow', 'cpu', 'webgpu']).toContain(j.backend.name);
  });
});

describe('colour', () => {
  it('colours verdicts only on request of the terminal, never with NO_COLOR, never in pipes', () => {
    const h = join(mkdtempSync(join(tmpdir(), 'hm-col-')), 'home');
    expect(hallmark(['init', '--home', h]).status).toBe(0);
    const piped = hallmark(['ledger', 'verify'], { home: h });
    expect(piped.stdout).toMatch(/^ok: /);
    expect(piped.stdout).not.toContain('\x1b[');
    const forced = hallmark(['ledger', 'verify'], { home: h, env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain('\x1b[32mok\x1b[39m');
    const noColor = hallmark(['ledger', 'verify'], { home: h, env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain('\x1b[');
  });
});

describe('help and completion', () => {
  async function program(): Promise<Command> {
    const p = new Command().name('hallmark');
    for (const [, loaders] of COMMANDS) for (const load of loaders) (await load())(p);
    addExamples(p);
    return p;
  }
  const all = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...all(s)]);

  it('every command\'s help page has at least one example that names the command', async () => {
    const p = await program();
    const cmds = all(p);
    expect(cmds.length).toBeGreaterThan(30);
    for (const c of cmds) {
      let text = '';
      c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      c.outputHelp();
      expect(text, commandPath(c)).toMatch(/\nExamples:\n {2}\S/);
      const examples = text.slice(text.indexOf('Examples:'));
      expect(examples, commandPath(c)).toContain(`hallmark ${commandPath(c).split(' ')[0]}`);
    }
  }, 120_000);

  function complete(script: string, line: string): string[] {
    const words = line.split(' ');
    const r = spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hallmark; printf '%s\\n' "\${COMPREPLY[@]}"`, 'x', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash completes commands, subcommands and options with the real bash', () => {
    const r = hallmark(['completion', 'bash']);
    expect(r.status).toBe(0);
    const script = join(mkdtempSync(join(tmpdir(), 'hm-comp-')), 'hallmark.bash');
    writeFileSync(script, r.stdout);
    expect(complete(script, 'hallmark led')).toEqual(['ledger']);
    expect(complete(script, 'hallmark ledger che')).toEqual(['checkpoint']);
    expect(complete(script, 'hallmark ledger ver')).toEqual(['verify', 'verify-proof']);
    expect(complete(script, 'hallmark ledger verify --js')).toEqual(['--json']);
    expect(complete(script, 'hallmark e')).toEqual(['embed', 'evidence']);
    expect(complete(script, 'hallmark evidence export --ver')).toEqual(['--verification']);
  });

  it('zsh and fish scripts name every command; shells that are installed accept their syntax', () => {
    for (const shell of ['zsh', 'fish']) {
      const r = hallmark(['completion', shell]);
      expect(r.status).toBe(0);
      for (const [name] of COMMANDS) expect(r.stdout, `${shell}: ${name}`).toContain(name);
      const bin = `/usr/bin/${shell}`;
      if (existsSync(bin)) {
        const f = join(mkdtempSync(join(tmpdir(), 'hm-comp-')), `hallmark.${shell}`);
        writeFileSync(f, r.stdout);
        const check = spawnSync(bin, ['-n', f], { encoding: 'utf8' });
        expect(check.status, check.stderr).toBe(0);
      }
    }
    expect(hallmark(['completion', 'powershell']).status).toBe(EXIT.usage);
  });
});

describe('progress', () => {
  // `script` gives the command a real pseudo-terminal, as a user's shell would.
  const inTerminal = (args: string[], h: string) => spawnSync('script', ['-qec', [process.execPath, join(REPO, 'dist/cli/main.js'), ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
    encoding: 'utf8', env: { ...process.env, HALLMARK_HOME: h, TERM: 'xterm' }, timeout: 120_000,
  });
  const haveScript = existsSync('/usr/bin/script');

  it.skipIf(!haveScript)('shows a bar on a terminal for ledger verify and dataset register, none in pipes or with --json', () => {
    const h = join(mkdtempSync(join(tmpdir(), 'hm-prog-')), 'home');
    expect(hallmark(['init', '--home', h]).status).toBe(0);
    const folder = mkdtempSync(join(tmpdir(), 'hm-prog-data-'));
    const img = new PNG({ width: 8, height: 8 });
    img.data.fill(200);
    const png = PNG.sync.write(img);
    for (const cls of ['a', 'b']) {
      execFileSync('mkdir', ['-p', join(folder, cls)]);
      for (let i = 0; i < 30; i++) writeFileSync(join(folder, cls, `${i}.png`), png);
    }
    const tty = inTerminal(['ledger', 'verify'], h);
    expect(tty.stdout).toMatch(/auditing \[[#-]{24}\]/);
    const reg = inTerminal(['dataset', 'register', folder, '--name', 'tiny'], h);
    expect(reg.stdout).toMatch(/hashing files \[[#-]{24}\] \d+\/60/);
    expect(reg.stdout).toMatch(/registered dataset "tiny"/);
    const piped = hallmark(['ledger', 'verify'], { home: h });
    expect(piped.stderr).toBe('');
    const json = inTerminal(['ledger', 'verify', '--json'], h);
    expect(json.stdout).not.toMatch(/auditing \[/);
    expect(JSON.parse(json.stdout.replace(/\r/g, '')).ok).toBe(true);
  });
});
