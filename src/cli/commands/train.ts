import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook train` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('train')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('train: not implemented yet', 'E_TODO');
    });
}
