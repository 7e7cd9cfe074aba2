import { type GenerationPayload, ZGenerationPayload } from "@distillery/jobs";
import { executeGenerationJob, type GenerationDeps } from "@distillery/teacher/jobs";
import { claimGenerationJob } from "@distillery/teacher/store";
import type { Job } from "bullmq";

/** The BullMQ processor: parse, claim in Postgres (a redelivery finds it taken and skips), run. */
export function createGenerationProcessor(deps: GenerationDeps) {
  return async (job: Job) => {
    const payload: GenerationPayload = ZGenerationPayload.parse(job.data);
    const lease = await claimGenerationJob(deps.db, payload.generationJobId, deps.workerId);
    if (!lease) return { status: "skipped" };
    return executeGenerationJob(deps, lease, payload);
  };
}
