import type { Db } from "@distillery/db";
import {
  computeTeacherLogitsFromEndpoint,
  createEndpointTeacher,
  estimateTeacherLogitsFromEndpoint,
  loadTokenizer,
  type TeacherLogitsEstimate,
  type TeacherLogitsManifest,
} from "@distillery/engine-local";
import { compareEndpointTokenizer, describeEndpointTokenizerDifference } from "@distillery/teacher";
import { loadTeacherEndpoint } from "@distillery/teacher/store";
import { RunSetupError } from "../runs/engine-launcher.ts";

/**
 * One phase of a TeacherLogits row whose teacher is an endpoint (vLLM's `prompt_logprobs`): run
 * in the worker itself (it is HTTP, not compute), with the key opened in memory only. The model
 * of the row supplies the tokenizer (and the template the rows were rendered with); the endpoint
 * must share it, checked through its /tokenize before anything is asked. Compute keeps finished
 * rows in `spoolPath`, so an interrupted job resumes there.
 */
export async function runEndpointTeacherLogits(options: {
  db: Db;
  secretKey: Buffer | undefined;
  row: {
    workspaceId: string;
    teacherEndpointId: string;
    teacherName: string;
    k: number;
    maxSeqLength: number;
    completionOnly: boolean;
  };
  phase: "estimate" | "compute";
  tokenizerDir: string;
  tokenizerName: string;
  dataPath: string;
  outDir: string;
  spoolPath: string;
  signal: AbortSignal;
  onProgress: (rowsDone: number, rows: number) => void;
}): Promise<{ estimate?: TeacherLogitsEstimate; manifest?: TeacherLogitsManifest }> {
  const { row } = options;
  const field = "teacherEndpointId";
  if (!options.secretKey)
    throw new RunSetupError("this worker cannot open teacher keys (no secret key configured)", field);
  const endpoint = await loadTeacherEndpoint(
    options.db,
    options.secretKey,
    row.workspaceId,
    row.teacherEndpointId,
  );
  if (!endpoint) throw new RunSetupError(`teacher endpoint ${row.teacherEndpointId} no longer exists`, field);
  const tokenizer = loadTokenizer(options.tokenizerDir);
  const difference = await compareEndpointTokenizer(endpoint, tokenizer, { signal: options.signal });
  if (difference)
    throw new RunSetupError(
      describeEndpointTokenizerDifference(difference, {
        student: options.tokenizerName,
        teacher: `endpoint "${endpoint.name}", model ${endpoint.model}`,
      }),
      field,
    );
  const teacher = createEndpointTeacher(
    { name: endpoint.name, baseUrl: endpoint.baseUrl, model: endpoint.model },
    row.k,
    // the key from the store, never from this process's environment
    { env: endpoint.apiKey ? { DISTILLERY_TEACHER_API_KEY: endpoint.apiKey } : {} },
  );
  const opts = {
    k: row.k,
    maxSeqLength: row.maxSeqLength,
    completionOnly: row.completionOnly,
    teacherName: row.teacherName,
    signal: options.signal,
    spoolPath: options.spoolPath,
    onProgress: options.onProgress,
  };
  if (options.phase === "estimate")
    return {
      estimate: await estimateTeacherLogitsFromEndpoint(
        teacher,
        options.tokenizerDir,
        options.dataPath,
        opts,
      ),
    };
  return {
    manifest: await computeTeacherLogitsFromEndpoint(
      teacher,
      options.tokenizerDir,
      options.dataPath,
      options.outDir,
      opts,
    ),
  };
}
