import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook demo` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('demo: not implemented yet', 'E_TODO');
    });
}
