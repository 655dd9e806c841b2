import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook evaluate` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('evaluate')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('evaluate: not implemented yet', 'E_TODO');
    });
}
