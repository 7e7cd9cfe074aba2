export interface ConfigDifference {
  /** dotted path, e.g. "training.learningRate" */
  path: string;
  /** the value in each compared config, in order (undefined where a config lacks it) */
  values: unknown[];
}

/** Flattens nested objects to dotted paths; arrays are leaves (compared as a whole). */
export function flattenConfig(
  value: unknown,
  prefix = "",
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fields where two or more run configs differ, sorted by path. */
export function diffConfigs(configs: readonly unknown[]): ConfigDifference[] {
  const flat = configs.map((c) => flattenConfig(c));
  const paths = new Set(flat.flatMap((f) => Object.keys(f)));
  const diffs: ConfigDifference[] = [];
  for (const path of [...paths].sort()) {
    const values = flat.map((f) => f[path]);
    if (values.some((v) => !same(v, values[0]))) diffs.push({ path, values });
  }
  return diffs;
}
