import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook lengths` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('lengths')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('lengths: not implemented yet', 'E_TODO');
    });
}
