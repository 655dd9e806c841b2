import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook tune` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('tune')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('tune: not implemented yet', 'E_TODO');
    });
}
