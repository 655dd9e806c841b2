import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook plan` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('plan')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('plan: not implemented yet', 'E_TODO');
    });
}
