/** package.json's contributions agree with what the extension sets at run time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { contributes: { viewsWelcome: Array<{ view: string; when: string }> } };

test('the "no study yet" welcome waits until the workspace has been searched (no flash while studies load)', () => {
  const welcome = manifest.contributes.viewsWelcome.find((w) => w.view === 'trialbook.trials')!;
  assert.match(welcome.when, /\btrialbook\.studiesLoaded\b/);
  assert.match(welcome.when, /!trialbook\.hasStudy\b/);
  // The context key is set once the study search is done, and only then.
  const features = readFileSync(join(repoRoot, 'src', 'extension', 'features.ts'), 'utf8');
  assert.match(features, /studies\.ready\(\)\.then\(\(\) => \{[^}]*setContext', 'trialbook\.studiesLoaded', true\)/);
});
