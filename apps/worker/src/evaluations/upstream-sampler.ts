import { inlineReasoning, type Sample, type Sampler } from "@distillery/evals/evaluations";
import type { Upstreams } from "@distillery/inference";
import { estimateTokens } from "@distillery/teacher";

/**
 * An evaluation's sampler for a model on a GPU server: the same routing as the studio's /v1
 * (the GPU registry: a load requested when needed, the request waiting while it loads, each
 * request a use for the LRU). k samples are one request with `n: k`; the reasoning comes back
 * inline (`reasoning_format: "raw"`; vLLM's server splits it anyway, so a `reasoning_content`
 * is put back inline), as a CPU model's does. Token counts are estimated from
 * the text (the model's tokenizer lives on the GPU worker); the request's own total is exact.
 * Null when the model is not served on a GPU (the CPU pool answers it).
 */
export async function createUpstreamSampler(upstreams: Upstreams, modelId: string): Promise<Sampler | null> {
  if (!(await upstreams.lookup(modelId))) return null;
  const count = (text: string) => (text ? estimateTokens(text) : 0);
  return {
    count,
    async sample(problem, settings, seed, signal): Promise<Sample[]> {
      // looked up again each time: the server may have been evicted and started elsewhere
      const server = await upstreams.lookup(modelId);
      if (!server) throw new Error(`model: ${modelId} is no longer served on a GPU worker`);
      const res = await upstreams.forward(
        modelId,
        server,
        "/v1/chat/completions",
        {
          model: modelId,
          messages: problem.messages.map((m) => ({ role: m.role, content: m.content })),
          max_tokens: settings.maxTokens,
          temperature: settings.temperature,
          top_p: settings.topP,
          n: settings.k,
          seed,
          reasoning_format: "raw",
        },
        signal,
      );
      const text = await res.text();
      if (!res.ok) {
        let message = text.slice(0, 500);
        try {
          message = (JSON.parse(text) as { error: { message: string } }).error.message;
        } catch {
          // not an error object: its text
        }
        throw new Error(`model ${modelId} on its GPU server answered ${res.status}: ${message}`);
      }
      const body = JSON.parse(text) as {
        choices: {
          message: { content: string | null; reasoning_content?: string | null };
          finish_reason: string | null;
        }[];
      };
      return body.choices.map((c) => {
        const out = inlineReasoning(c.message.reasoning_content ?? null, c.message.content ?? "");
        return { text: out, finishReason: c.finish_reason ?? "stop", completionTokens: count(out) };
      });
    },
  };
}
