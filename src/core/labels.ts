/**
 * Label names → ids. Ids follow sorted order so that the map does not depend on row order:
 * numerically when every label is a number (0/1 stay 0/1, 2 sorts before 10), otherwise by code
 * point. A label set given by the user keeps the user's order.
 */

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function isNumericLabel(s: string): boolean {
  return NUMBER.test(s);
}

/** Distinct label names in id order. */
export function sortLabels(names: Iterable<string>): string[] {
  const distinct = [...new Set(names)];
  if (distinct.every(isNumericLabel)) {
    return distinct.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Label cell → label name: surrounding spaces are not part of a label. */
export function normaliseLabel(cell: string): string {
  return cell.trim();
}

/** Name → id lookup for a label list. */
export function labelIndex(labels: readonly string[]): Map<string, number> {
  return new Map(labels.map((l, i) => [l, i]));
}

/**
 * Label names that are different text but the same number ("1" and "1.0", "0" and "00"): they
 * become separate classes, which is rarely what the data meant. Each group in id order.
 */
export function numericallyEqualLabels(labels: readonly string[]): string[][] {
  const byValue = new Map<number, string[]>();
  for (const l of labels) {
    if (!isNumericLabel(l)) continue;
    const group = byValue.get(Number(l));
    if (group) group.push(l);
    else byValue.set(Number(l), [l]);
  }
  return [...byValue.values()].filter((g) => g.length > 1);
}
