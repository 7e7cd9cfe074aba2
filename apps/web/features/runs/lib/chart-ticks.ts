/**
 * Axis ticks people can read: round steps (1, 2, 2.5 or 5 × 10ⁿ) covering the data, and numbers
 * written as they would write them (12.5k, 0.0008, 2×10⁻⁷), never 1.25e+4 or 8.00e-4.
 */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // a hair of tolerance: 0.0008 / 4 is 2.0000000000000004 × 10⁻⁴ in floating point
  const f = raw / mag - 1e-9;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * mag;
}

/** Round the floating error of k × step (0.30000000000000004 → 0.3). */
const clean = (v: number) => Number(v.toPrecision(12));

export function niceTicks(min: number, max: number, count = 5, isInteger = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count, isInteger);
  }
  let step = niceStep(max - min, count);
  if (isInteger) step = Math.max(1, Math.round(step));
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(clean(v));
  if ((ticks.at(-1) ?? max) < max) ticks.push(clean((ticks.at(-1) ?? max) + step));
  return ticks;
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** 12500 → "12.5k", 2000000 → "2M", 0.0008 → "0.0008", 3e-7 → "3×10⁻⁷", 0.123456 → "0.1235". */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  const sign = v < 0 ? "-" : "";
  const trim = (x: number, digits: number) => String(Number(x.toPrecision(digits)));
  if (a >= 1e9) return `${sign}${trim(a / 1e9, 3)}B`;
  if (a >= 1e6) return `${sign}${trim(a / 1e6, 3)}M`;
  if (a >= 1e4) return `${sign}${trim(a / 1e3, 3)}k`;
  if (a >= 1e-5) {
    // plain decimals: enough digits for four significant ones, no exponent
    const decimals = Math.max(0, Math.min(10, 3 - Math.floor(Math.log10(a))));
    return `${sign}${String(Number(a.toFixed(decimals)))}`;
  }
  const exp = Math.floor(Math.log10(a));
  const mantissa = trim(a / 10 ** exp, 3);
  const power = String(exp)
    .split("")
    .map((c) => SUPERSCRIPT[c] ?? c)
    .join("");
  return `${sign}${mantissa === "1" ? "" : `${mantissa}×`}10${power}`;
}
