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
