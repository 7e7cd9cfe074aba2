/** A point on the way: a step and when the engine reached it (ms since the epoch). */
export interface StepMark {
  step: number;
  ts: number;
}

/**
 * Seconds left, from the pace since the current attempt started training (`anchor`, its
 * training status event) to the latest metric. Null until two distinct steps are known.
 */
export function estimateEtaSeconds(
  anchor: StepMark | null,
  latest: StepMark | null,
  totalSteps: number | null,
): number | null {
  if (!anchor || !latest || !totalSteps) return null;
  const steps = latest.step - anchor.step;
  const ms = latest.ts - anchor.ts;
  if (steps <= 0 || ms <= 0) return null;
  return (Math.max(0, totalSteps - latest.step) * ms) / steps / 1000;
}
