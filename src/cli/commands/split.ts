import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook split` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('split')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('split: not implemented yet', 'E_TODO');
    });
}
