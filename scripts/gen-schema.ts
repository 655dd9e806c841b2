// Regenerates media/trialbook-study.schema.json from the zod study schema:
//   node --import tsx scripts/gen-schema.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STUDY_SCHEMA_PATH, studyJsonSchemaText } from '../src/core/study-schema';

writeFileSync(join(__dirname, '..', STUDY_SCHEMA_PATH), studyJsonSchemaText());
console.log(`wrote ${STUDY_SCHEMA_PATH}`);
