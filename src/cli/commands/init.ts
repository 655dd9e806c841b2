import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook init` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('init')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('init: not implemented yet', 'E_TODO');
    });
}
