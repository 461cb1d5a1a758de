// Shell completion scripts generated from the command tree commander holds, so they never drift
// from the real commands: subcommand names at each level, then that command's long options.
export interface CommandNode {
  readonly name: string;
  readonly description: string;
  readonly options: readonly string[];
  readonly children: readonly CommandNode[];
}

export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

interface Flat {
  readonly path: string[];
  readonly node: CommandNode;
}

function flatten(node: CommandNode, path: string[] = []): Flat[] {
  return [{ path, node }, ...node.children.flatMap((c) => flatten(c, [...path, c.name]))];
}

const words = (n: CommandNode) => [...n.children.map((c) => c.name), ...n.options].join(' ');
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(root: CommandNode): string {
  const cases = flatten(root).map(({ path, node }) => `    ${shq(path.join(' '))}) opts=${shq(words(node))} ;;`);
  return `# bash completion for hallmark: eval "$(hallmark completion bash)" (or save it under /etc/bash_completion.d/)
_hallmark() {
  local cur cmdpath="" i w opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${cmdpath:+$cmdpath }$w" in
${flatten(root).filter((f) => f.path.length > 0).map((f) => `      ${shq(f.path.join(' '))}) cmdpath="\${cmdpath:+$cmdpath }$w" ;;`).join('\n')}
    esac
  done
  case "$cmdpath" in
${cases.join('\n')}
    *) opts="" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 0 && "$cur" != -* ]] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -o filenames -F _hallmark hallmark
`;
}

function zsh(root: CommandNode): string {
  const cases = flatten(root).map(({ path, node }) => `    ${shq(path.join(' '))}) opts=(${node.children.map((c) => shq(`${c.name}:${c.description.replace(/:/g, '\\:')}`)).join(' ')}); flags=(${node.options.map(shq).join(' ')}) ;;`);
  return `#compdef hallmark
# zsh completion for hallmark: hallmark completion zsh > "\${fpath[1]}/_hallmark" (or eval "$(hallmark completion zsh)")
_hallmark() {
  local -a opts flags
  local cmdpath="" w i
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    [[ "$w" == -* ]] && continue
    case "\${cmdpath:+$cmdpath }$w" in
${flatten(root).filter((f) => f.path.length > 0).map((f) => `      ${shq(f.path.join(' '))}) cmdpath="\${cmdpath:+$cmdpath }$w" ;;`).join('\n')}
    esac
  done
  case "$cmdpath" in
${cases.join('\n')}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then compadd -a flags; return; fi
  (( \${#opts} )) && _describe 'command' opts || _files
}
compdef _hallmark hallmark
`;
}

function fish(root: CommandNode): string {
  const lines = ['# fish completion for hallmark: hallmark completion fish > ~/.config/fish/completions/hallmark.fish', 'complete -c hallmark -f'];
  for (const { path, node } of flatten(root)) {
    const cond = path.length === 0 ? '__fish_use_subcommand' : `__fish_hallmark_path ${path.map(shq).join(' ')}`;
    for (const c of node.children) lines.push(`complete -c hallmark -n ${shq(cond)} -a ${shq(c.name)} -d ${shq(c.description)}`);
    for (const o of node.options) lines.push(`complete -c hallmark -n ${shq(cond)} -l ${shq(o.replace(/^--/, ''))}`);
    if (node.children.length === 0 && path.length > 0) lines.push(`complete -c hallmark -n ${shq(cond)} -F`);
  }
  return `# the words after "hallmark" that are not options, compared with the given path
function __fish_hallmark_path
  set -l words (commandline -opc)[2..-1]
  set -l path
  for w in $words
    string match -q -- '-*' $w; and continue
    set -a path $w
  end
  test "$path" = "$argv"
end
${lines.join('\n')}
`;
}

export function completionScript(shell: Shell, root: CommandNode): string {
  if (shell === 'bash') return bash(root);
  if (shell === 'zsh') return zsh(root);
  return fish(root);
}
