import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook tokenize` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('tokenize')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('tokenize: not implemented yet', 'E_TODO');
    });
}
