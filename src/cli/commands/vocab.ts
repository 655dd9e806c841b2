import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook vocab` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('vocab')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('vocab: not implemented yet', 'E_TODO');
    });
}
