/** The train:val:test ratios, checked one way wherever they are written (split --ratios, a study's data.ratios). */
import { UserError } from './errors';

const DEFAULT_RATIOS = [8, 1, 1];

/**
 * Ratios as fractions summing to 1. Whole numbers are parts (8:1:1, 80:10:10, 1:1:1);
 * fractions must already sum to 1 (0.8:0.1:0.2 is a mistake, not something to guess about).
 */
export function parseRatios(value: string | readonly number[] | undefined, field = 'ratios'): [number, number, number] {
  // Written as the user wrote them: `8:1:1` on the command line, `[8, 1, 1]` in a study file.
  const show = (xs: readonly (number | string)[]): string => (typeof value === 'string' ? xs.join(':') : `[${xs.join(', ')}]`);
  const text = typeof value === 'string' ? value : value === undefined ? '' : show(value);
  const parts = typeof value === 'string' ? value.split(/[:,/]/).map((s) => s.trim()) : (value ?? DEFAULT_RATIOS).map(String);
  const nums = parts.map(Number);
  if (nums.length !== 3 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
    throw new UserError(`${field}: ${JSON.stringify(text)} is not three numbers train:val:test (e.g. 8:1:1 or 0.8:0.1:0.1)`, 'E_USAGE');
  }
  if (nums.some((n) => n <= 0)) {
    throw new UserError(`${field}: ${text}: every ratio must be positive (train, val and test all need rows)`, 'E_USAGE');
  }
  const sum = nums[0] + nums[1] + nums[2];
  if (!nums.every(Number.isInteger) && Math.abs(sum - 1) > 1e-6) {
    throw new UserError(`${field}: ${text} sums to ${+sum.toFixed(6)}, not 1; write fractions that sum to 1 (${show([0.8, 0.1, 0.1])}) or whole parts (${show([8, 1, 1])})`, 'E_USAGE');
  }
  // Rounded so that 8:1:1 and 0.8:0.1:0.1 give the same fingerprint.
  return nums.map((n) => Math.round((n / sum) * 1e9) / 1e9) as [number, number, number];
}
