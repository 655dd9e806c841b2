import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook seqlen` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('seqlen')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('seqlen: not implemented yet', 'E_TODO');
    });
}
