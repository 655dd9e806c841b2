import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook migrate` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('migrate')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('migrate: not implemented yet', 'E_TODO');
    });
}
