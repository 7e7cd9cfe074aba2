// A second matmul thread (plain JS so it loads without a TypeScript loader). It instantiates the
// same kernel over the shared linear memory and helps with the row chunks of the current
// product; see matmul-wasm.ts for the control-block protocol.
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { workerData } from "node:worker_threads";

const { memory, wasmPath, relaxed, control } = workerData;
if (relaxed) setFlagsFromString("--experimental-wasm-relaxed-simd");
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), {
  env: {
    memory,
    abort: () => {
      throw new Error("wasm abort");
    },
  },
});
const { matmulStrided } = instance.exports;
const ctl = new Int32Array(control);
// control block slots (keep in sync with matmul-wasm.ts)
const SEQ = 0,
  NEXT = 1,
  DONE = 2,
  A = 3,
  B = 4,
  C = 5,
  M = 6,
  K = 7,
  N = 8,
  ACC = 9,
  CHUNK = 10,
  ROW_A = 11,
  STEP_A = 12;
// Spin a little before sleeping on the futex: during training the next product follows within
// that window, and waking a sleeping thread costs up to ~0.7 ms on these VMs.
const SPIN_MS = 2;
let seen = 0;
for (;;) {
  const until = performance.now() + SPIN_MS;
  let spins = 0;
  while (Atomics.load(ctl, SEQ) === seen) {
    if ((++spins & 1023) === 0 && performance.now() > until) break;
  }
  if (Atomics.load(ctl, SEQ) === seen) Atomics.wait(ctl, SEQ, seen);
  seen = Atomics.load(ctl, SEQ);
  const tag = (seen & 0x7fff) << 16;
  const a = ctl[A],
    b = ctl[B],
    c = ctl[C],
    rows = ctl[M],
    k = ctl[K],
    n = ctl[N],
    acc = ctl[ACC],
    chunk = ctl[CHUNK],
    rowA = ctl[ROW_A],
    stepA = ctl[STEP_A];
  for (;;) {
    // claim the next chunk of this product only: the tag makes a late claim on a newer product fail
    const v = Atomics.load(ctl, NEXT);
    const i = v & 0xffff;
    if ((v & ~0xffff) !== tag || i === 0xffff) break;
    const r0 = i * chunk;
    if (r0 >= rows) break;
    if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
    matmulStrided(a + r0 * rowA, b, c + r0 * n * 4, Math.min(chunk, rows - r0), k, n, acc, rowA, stepA);
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
