import type { Command } from 'commander';
import { UserError } from '../../core/errors';

/** `trialbook report` — not implemented yet. */
export function register(program: Command): void {
  program
    .command('report')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError('report: not implemented yet', 'E_TODO');
    });
}
