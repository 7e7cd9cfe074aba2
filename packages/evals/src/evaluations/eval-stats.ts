/**
 * Confidence intervals for evaluation metrics (pure, client-safe): Wilson's score interval for
 * a proportion (accuracy), and a seeded percentile bootstrap over tasks for means of per-task
 * values (pass@1 averaged over k samples).
 */
export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval for `successes` of `n` at ~95 % (z = 1.96). */
export function wilsonInterval(successes: number, n: number, z = 1.959964): Interval {
  if (n === 0) return { low: 0, high: 0 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** Percentile bootstrap (95 %) of the mean of `values`, resampling tasks; deterministic per seed. */
export function bootstrapMeanInterval(values: readonly number[], resamples = 2000, seed = 1): Interval {
  const n = values.length;
  if (n === 0) return { low: 0, high: 0 };
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)] as number;
    means[r] = s / n;
  }
  means.sort();
  return {
    low: means[Math.floor(0.025 * (resamples - 1))] as number,
    high: means[Math.ceil(0.975 * (resamples - 1))] as number,
  };
}

/** Unbiased pass@k from n samples with c correct (Chen et al., 2021). */
export function passAtK(n: number, c: number, k: number): number {
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}
