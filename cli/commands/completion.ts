// hallmark completion bash|zsh|fish: prints a completion script built from the real command tree.
import type { Command } from 'commander';
import { completionScript, SHELLS, type CommandNode, type Shell } from '../completion.js';
import { action } from '../output.js';

function toNode(cmd: Command): CommandNode {
  return {
    name: cmd.name(),
    description: cmd.description().split('\n')[0] ?? '',
    options: [...cmd.options.map((o) => o.long).filter((l): l is string => typeof l === 'string'), '--help'],
    children: cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map(toNode),
  };
}

export function registerCompletion(program: Command): void {
  program
    .command('completion <shell>')
    .description('print a shell completion script (bash, zsh or fish)')
    .action(action((shell: string) => {
      if (!SHELLS.includes(shell as Shell)) throw new RangeError(`<shell> must be one of ${SHELLS.join(', ')}, got "${shell}"`);
      process.stdout.write(completionScript(shell as Shell, toNode(program)));
    }));
}
