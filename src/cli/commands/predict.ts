import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook predict` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('predict')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('predict: not implemented yet', 'E_TODO');
    });
}
