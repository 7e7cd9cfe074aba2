/**
 * Every knob of the demo in one place (README.md says how each value was chosen). The task is
 * sized so that a tiny model reaches ≥ 0.9 with the teacher's reasoning in a few CPU minutes
 * while answering directly stays far below.
 */
export const DEMO_TASK = {
  /** digits of each operand */
  digits: 2,
  // of the 8100 ordered pairs of 2-digit numbers, held-out ones are drawn first and never trained on
  trainSize: 3800,
  heldoutSize: 200,
} as const;

/** The tiny student (Llama architecture); byte-level vocabulary: every character is one token. */
export const DEMO_MODEL = {
  // 256 bytes + the Phi-3 special tokens: no merges, so each trace line has a fixed token width
  vocabSize: 256,
  hiddenSize: 64,
  // each distinct copy distance (operand digits per line, carry, answer digits) wants a head of
  // its own: 3 layers × 4 heads; 2 × 2 learned the first line and mis-copied the second
  numLayers: 3,
  numHeads: 4,
  maxPositions: 128,
} as const;

/** Model ids the run configs refer to: the untrained student and what the base run makes of it. */
export const DEMO_MODEL_IDS = {
  init: "distillery/tiny-arith-init",
  base: "distillery/tiny-arith-student",
} as const;

/** Dataset version ids the run configs refer to, unless the caller gives its own. */
export const DEMO_VERSION_IDS = {
  direct: "demo-arith-direct",
  traces: "demo-arith-traces",
  heldout: "demo-arith-heldout",
} as const;
