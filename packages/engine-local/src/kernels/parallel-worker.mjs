// The helper thread (plain JS so it loads without a TypeScript loader). It instantiates the same
// kernel over the shared linear memory and claims chunks of the current task; see parallel.ts for
// the control-block protocol.
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
const { runTask } = instance.exports;
const ctl = new Int32Array(control);
// control block slots (keep in sync with parallel.ts)
const SEQ = 0,
  NEXT = 1,
  DONE = 2,
  OP = 3,
  ARGS = 4,
  UNITS = 5,
  CHUNK = 6;
// Spin a little before sleeping on the futex: during training the next task follows within
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
  const op = ctl[OP],
    args = ctl[ARGS],
    units = ctl[UNITS],
    chunk = ctl[CHUNK];
  for (;;) {
    // claim the next chunk of this task only: the tag makes a late claim on a newer task fail
    const v = Atomics.load(ctl, NEXT);
    const i = v & 0xffff;
    if ((v & ~0xffff) !== tag || i === 0xffff) break;
    const start = i * chunk;
    if (start >= units) break;
    if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
    runTask(op, args, start, Math.min(units, start + chunk), 1);
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
