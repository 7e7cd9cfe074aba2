/** A chart point: [step, value]. */
export type Point = readonly [number, number];

/**
 * Largest-Triangle-Three-Buckets: keeps `threshold` points that preserve a curve's visual shape
 * (spikes survive, flat stretches thin out). First and last points are always kept, so a
 * downsampled series still starts and ends where the run did. Input must be sorted by step.
 */
export function downsampleLttb(points: readonly Point[], threshold: number): Point[] {
  const n = points.length;
  if (threshold >= n || threshold < 3) return points.slice();
  const out: Point[] = [points[0] as Point];
  const bucketSize = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // average of the next bucket: the third corner of the triangle
    const nextStart = Math.floor((i + 1) * bucketSize) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * bucketSize) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += (points[j] as Point)[0];
      avgY += (points[j] as Point)[1];
    }
    const len = Math.max(1, nextEnd - nextStart);
    avgX /= len;
    avgY /= len;
    const start = Math.floor(i * bucketSize) + 1;
    const end = Math.floor((i + 1) * bucketSize) + 1;
    const [ax, ay] = points[a] as Point;
    let maxArea = -1;
    let chosen = start;
    for (let j = start; j < end; j++) {
      const [x, y] = points[j] as Point;
      const area = Math.abs((ax - avgX) * (y - ay) - (ax - x) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        chosen = j;
      }
    }
    out.push(points[chosen] as Point);
    a = chosen;
  }
  out.push(points[n - 1] as Point);
  return out;
}
