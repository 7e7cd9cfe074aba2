export const formatPercent = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? "—" : `${(100 * x).toFixed(1)}%`;
export const formatInterval = (ci: { low: number; high: number } | undefined) =>
  ci ? `[${(100 * ci.low).toFixed(1)}, ${(100 * ci.high).toFixed(1)}]` : "";
export const formatNumber = (x: number | undefined, digits = 1) =>
  x === undefined ? "—" : x.toFixed(digits);
