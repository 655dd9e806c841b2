import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incompleteBeta, logGamma, mean, std, studentTCdf, welchTTest } from '../../src/tuners/stats';

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

test('mean and sample std', () => {
  close(mean([2, 4, 4, 4, 5, 5, 7, 9]), 5, 1e-12, 'mean');
  // Sum of squares 32 over n − 1 = 7.
  close(std([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12, 'std');
  assert.ok(Number.isNaN(std([1])));
});

test('log-gamma and incomplete beta against closed forms', () => {
  close(logGamma(5), Math.log(24), 1e-12, 'lnΓ(5)');
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-12, 'lnΓ(½)');
  // I_x(1, b) = 1 − (1 − x)^b and I_x(a, 1) = x^a.
  close(incompleteBeta(0.3, 1, 4), 1 - 0.7 ** 4, 1e-12, 'I(1,4)');
  close(incompleteBeta(0.6, 3, 1), 0.6 ** 3, 1e-12, 'I(3,1)');
});

test('Student t CDF: closed forms for 1 and 2 degrees of freedom, table values, numeric integral', () => {
  for (const t of [-3, -0.7, 0, 0.4, 2.5, 12]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-10, `df=1 t=${t}`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-10, `df=2 t=${t}`);
  }
  // Two-sided 5 % critical values from the standard t table.
  for (const [df, crit] of [[5, 2.571], [10, 2.228], [30, 2.042]]) close(studentTCdf(crit, df), 0.975, 2e-4, `table df=${df}`);
  // Fractional df (as Welch's test produces): compare with a Simpson integral of the density.
  const df = 3.7;
  const c = Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2)) / Math.sqrt(df * Math.PI);
  const pdf = (x: number): number => c * (1 + (x * x) / df) ** (-(df + 1) / 2);
  const n = 20000;
  const h = 1.3 / n;
  let s = pdf(0) + pdf(1.3);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * pdf(i * h);
  close(studentTCdf(1.3, df), 0.5 + (s * h) / 3, 1e-8, 'df=3.7');
});

test("Welch's t-test reproduces the textbook example", () => {
  // Wikipedia, "Welch's t-test", example 1: t = −2.46, ν ≈ 24.99, p = 0.021.
  const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  const r = welchTTest(a, b);
  close(r.t, -2.46, 0.005, 't');
  close(r.df, 24.99, 0.01, 'df');
  close(r.p, 0.021, 0.0015, 'p');
  // Symmetric in the samples, with the sign of t flipped.
  const s = welchTTest(b, a);
  close(s.t, -r.t, 1e-12, 'sign');
  close(s.p, r.p, 1e-12, 'p symmetric');
  // Hand check of t and the Welch–Satterthwaite df on a small case.
  const x = [1, 2, 3];
  const y = [2, 4, 6, 8];
  const va = 1 / 3; // var 1 / n 3
  const vb = (20 / 3) / 4;
  const w = welchTTest(x, y);
  close(w.t, (2 - 5) / Math.sqrt(va + vb), 1e-12, 'small t');
  close(w.df, (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 3), 1e-12, 'small df');
});

test('Welch degenerate cases', () => {
  assert.equal(welchTTest([1, 1, 1], [1, 1]).p, 1);
  assert.equal(welchTTest([1, 1, 1], [2, 2]).p, 0);
  assert.ok(Number.isNaN(welchTTest([1], [2, 3]).p));
});
