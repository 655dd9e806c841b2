import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook worker` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('worker')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('worker: not implemented yet', 'E_TODO');
    });
}
