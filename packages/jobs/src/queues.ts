/** Every queue and job name, in one place. Processors and producers import these, never strings. */
export const QUEUES = {
  echo: "echo",
  /** CPU runs (packages/engine-local); every worker consumes it */
  runsLocal: "runs-local",
  /** GPU runs (packages/trainer-hf); only workers that advertise the hf engine consume it */
  runsHf: "runs-hf",
  /** dataset imports (upload or Hub) and derived versions (filter, split); every worker consumes it */
  datasets: "datasets",
  /** adding a model: a Hub download, an uploaded folder, or a path on a worker; every worker consumes it */
  models: "models",
  /** generation jobs: prompts sent to a teacher endpoint (packages/teacher); every worker consumes it */
  generations: "generations",
  /** evaluations: a served model answers an eval set (packages/evals); every worker consumes it */
  evaluations: "evaluations",
  /** stored teacher logits of a dataset version (packages/engine-local); every worker consumes it */
  teacherLogits: "teacher-logits",
} as const;

export const JOBS = {
  echo: "echo",
  trainRun: "train-run",
  datasetImport: "dataset-import",
  /** repeated by a BullMQ job scheduler on the datasets queue: deletes uploads never imported */
  sweepDatasetUploads: "sweep-dataset-uploads",
  modelAdd: "model-add",
  generate: "generate",
  evaluate: "evaluate",
  teacherLogits: "teacher-logits",
} as const;

/** BullMQ job scheduler ids (upserted by every worker at start; one schedule per id fleet-wide) */
export const JOB_SCHEDULERS = {
  datasetUploadSweep: "dataset-upload-sweep",
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export type RunEngine = "local" | "hf";

/** Runs go to the queue of their engine, so an hf run never lands on a CPU-only worker. */
export function runQueueFor(engine: RunEngine): typeof QUEUES.runsLocal | typeof QUEUES.runsHf {
  return engine === "hf" ? QUEUES.runsHf : QUEUES.runsLocal;
}

/** Key prefix for every BullMQ key, so several deployments (or test files) share one Redis. */
export const DEFAULT_PREFIX = "distillery";
