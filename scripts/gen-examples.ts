// Regenerates examples/demo/ (the workspace `trialbook demo` writes, committed for browsing and
// for the editor's end-to-end tests):  node --import tsx scripts/gen-examples.ts
import { join } from 'node:path';
import { writeDemoWorkspace } from '../src/core/demo';
import { DEMO_DEFAULTS } from '../src/core/demo';

writeDemoWorkspace(join(__dirname, '..', 'examples', 'demo'), DEMO_DEFAULTS);
console.log('wrote examples/demo');
