/**
 * Every hyperparameter the engine understands, with its valid range: the names and values a
 * study's search space may use (checked when the study file loads) and a trial's params must have
 * (checked again when they are merged, for `train --params`).
 */
import { z } from 'zod';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.literal(0), z.literal(1), z.enum(['true', 'false'])]).transform((v) => v === true || v === 1 || v === 'true');

export const HYPERPARAMETERS = {
  learning_rate: z.number().gt(0),
  warmup_steps: int(0, 10_000_000),
  freeze_body: bool,
  dropout_rate: z.number().min(0).max(0.9),
  batch_size: int(1, 65_536),
  epochs: int(1, 10_000),
  max_seq_len: int(3, 512),
  seed: z.number().int(),
  weight_decay: z.number().min(0).max(1),
  max_grad_norm: z.number().positive(),
  patience: int(1, 10_000),
};

export type HyperparameterName = keyof typeof HYPERPARAMETERS;
export const HYPERPARAMETER_NAMES = Object.keys(HYPERPARAMETERS) as HyperparameterName[];

export function hyperparameter(name: string): z.ZodType | undefined {
  return Object.prototype.hasOwnProperty.call(HYPERPARAMETERS, name) ? (HYPERPARAMETERS as Record<string, z.ZodType>)[name] : undefined;
}

/** Does the hyperparameter take whole numbers only (batch size, warm-up steps)? */
export function isWholeNumber(name: string): boolean {
  const schema = hyperparameter(name);
  return schema instanceof z.ZodNumber && schema.isInt;
}

/** Why `value` is not a valid value of hyperparameter `name` (undefined when it is). */
export function hyperparameterProblem(name: string, value: unknown): string | undefined {
  const schema = hyperparameter(name);
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  if (typeof value === 'string' && issue?.code === 'invalid_type' && Number.isFinite(Number(value))) return `${JSON.stringify(value)} is text; write the number ${value} without quotes`;
  return `${JSON.stringify(value)}: ${(issue?.message ?? 'invalid value').replace(/^Invalid input: /, '').replace(/^Too (small|big): /, '')}`;
}
