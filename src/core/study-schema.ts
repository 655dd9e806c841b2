/**
 * JSON Schema of the study file, generated from the zod schema (input side, so keys with
 * defaults are optional). The extension contributes it for `*.trialbook.json` so the editor
 * completes and checks study files; `scripts/gen-schema.ts` writes it to media/.
 */
import { z } from 'zod';
import { StudySpec } from './study';

export const STUDY_SCHEMA_PATH = 'media/trialbook-study.schema.json';

export function studyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(StudySpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'Trialbook study', description: 'A Trialbook study: data, tokenizer, model, search space, tuner, budget and notes.' };
}

export function studyJsonSchemaText(): string {
  return JSON.stringify(studyJsonSchema(), null, 2) + '\n';
}
