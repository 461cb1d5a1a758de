// C2SP tlog-policy: "log <vkey> [<url>]", "witness <name> <vkey> [<url>]",
// "group <name> all|any|<k> <member>...", exactly one "quorum <name>" (or "quorum none"); names
// must be defined on earlier lines, each member listed once per group, no duplicate keys;
// comments (#) and blank lines ignored; whitespace is spaces and tabs only.
import { newVerifier, type NoteVerifier } from '../../ledger/index.js';
import { parseCosignatureVkey, type CosignatureVerifier } from './cosignature.js';
import { WitnessError } from './errors.js';

export interface PolicyWitness extends CosignatureVerifier {
  readonly policyName: string;
  readonly url?: string;
}

interface Group {
  readonly k: number;
  readonly members: readonly string[];
}

export interface Policy {
  readonly logs: readonly { readonly verifier: NoteVerifier; readonly vkey: string; readonly url?: string }[];
  readonly witnesses: ReadonlyMap<string, PolicyWitness>;
  readonly groups: ReadonlyMap<string, Group>;
  /** 'none' or a witness or group name. */
  readonly quorum: string;
  /** The file's text, carried in bundles. */
  readonly text: string;
}

const MAX_LINES = 4096;
const bad = (line: number, m: string) => new WitnessError('WITNESS_BAD_POLICY', `policy line ${line}: ${m}`);

function checkUrl(u: string | undefined, line: number): string | undefined {
  if (u === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw bad(line, `${JSON.stringify(u)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(line, 'URLs must be http or https');
  return u;
}

export function parsePolicy(text: string): Policy {
  if (typeof text !== 'string' || text.length > 1 << 20) throw new WitnessError('WITNESS_BAD_POLICY', 'a policy must be a text of at most 1 MiB');
  // Only tab and newline among the control characters.
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) throw new WitnessError('WITNESS_BAD_POLICY', 'policy holds control characters other than tab and newline');
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw new WitnessError('WITNESS_BAD_POLICY', `policy has over ${MAX_LINES} lines`);
  const logs: Policy['logs'][number][] = [];
  const witnesses = new Map<string, PolicyWitness>();
  const groups = new Map<string, Group>();
  const keys = new Set<string>();
  let quorum: string | undefined;
  lines.forEach((raw, i) => {
    const n = i + 1;
    const f = raw.trim().split(/[ \t]+/).filter((x) => x !== '');
    if (f.length === 0 || f[0]!.startsWith('#')) return;
    const [kw, ...args] = f as [string, ...string[]];
    const defined = (name: string) => name === 'none' || witnesses.has(name) || groups.has(name);
    if (kw === 'log') {
      if (args.length < 1 || args.length > 2) throw bad(n, 'want: log <vkey> [<url>]');
      let verifier: NoteVerifier;
      try {
        verifier = newVerifier(args[0]!);
      } catch (err) {
        throw bad(n, `log key: ${(err as Error).message}`);
      }
      const k = Buffer.from(verifier.publicKey).toString('hex');
      if (keys.has(k)) throw bad(n, 'duplicate key');
      keys.add(k);
      const url = checkUrl(args[1], n);
      logs.push({ verifier, vkey: args[0]!, ...(url ? { url } : {}) });
    } else if (kw === 'witness') {
      if (args.length < 2 || args.length > 3) throw bad(n, 'want: witness <name> <vkey> [<url>]');
      const [name, vkey, u] = args as [string, string, string?];
      if (defined(name)) throw bad(n, `name ${name} is already defined`);
      let v: CosignatureVerifier;
      try {
        v = parseCosignatureVkey(vkey);
      } catch (err) {
        throw bad(n, `witness key: ${(err as Error).message}`);
      }
      const k = Buffer.from(v.publicKey).toString('hex');
      if (keys.has(k)) throw bad(n, 'duplicate key');
      keys.add(k);
      const url = checkUrl(u, n);
      witnesses.set(name, { ...v, policyName: name, ...(url ? { url } : {}) });
    } else if (kw === 'group') {
      if (args.length < 3) throw bad(n, 'want: group <name> all|any|<k> <member>...');
      const [name, kSpec, ...members] = args as [string, string, ...string[]];
      if (defined(name)) throw bad(n, `name ${name} is already defined`);
      if (new Set(members).size !== members.length) throw bad(n, 'a member is listed twice');
      for (const m of members) if (m === 'none' || !defined(m)) throw bad(n, `member ${m} is not defined on an earlier line`);
      const k = kSpec === 'all' ? members.length : kSpec === 'any' ? 1 : /^[1-9][0-9]*$/.test(kSpec) ? Number(kSpec) : NaN;
      if (!(k >= 1 && k <= members.length)) throw bad(n, `threshold ${kSpec} must be all, any or 1..${members.length}`);
      groups.set(name, { k, members });
    } else if (kw === 'quorum') {
      if (args.length !== 1) throw bad(n, 'want: quorum <name>');
      if (quorum !== undefined) throw bad(n, 'a second quorum line');
      if (!defined(args[0]!)) throw bad(n, `quorum ${args[0]} is not defined on an earlier line`);
      quorum = args[0]!;
    } else {
      throw bad(n, `unknown keyword ${JSON.stringify(kw)}`);
    }
  });
  if (quorum === undefined) throw new WitnessError('WITNESS_BAD_POLICY', 'the policy has no quorum line');
  return { logs, witnesses, groups, quorum, text };
}

/** Whether the witnesses (by policy name) that cosigned satisfy the quorum. */
export function quorumMet(p: Policy, cosigned: ReadonlySet<string>): boolean {
  const holds = (name: string): boolean => {
    if (name === 'none') return true;
    if (p.witnesses.has(name)) return cosigned.has(name);
    const g = p.groups.get(name)!;
    return g.members.filter(holds).length >= g.k;
  };
  return holds(p.quorum);
}
