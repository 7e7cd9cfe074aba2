/**
 * A model process: owns one model (optionally + adapter) for its whole life and runs the
 * continuous batching loop. Each turn of the loop admits waiting sequences into free KV slots
 * (prefill), then decodes one token for every active sequence in one batched step, sends the
 * new tokens to the parent in one message, and yields to the event loop so that new requests
 * and cancellations arrive between steps. Evicting the model is ending this process.
 */
import { setMatmulThreads } from "@distillery/engine-local";
import type { AddMessage, FromModel, LoadMessage, TokenEvent, ToModel } from "./protocol.ts";
import { createEngineRunner, createOrtRunner, type Runner } from "./runners.ts";
import { createRng, type SampledToken, sampleNext } from "./sample-next.ts";
import { type PromptTokenScore, scorePosition } from "./score-prompt.ts";

interface Sequence {
  req: AddMessage;
  slot: number;
  rng: () => number;
  generated: number;
  stops: Set<number>;
  last: number;
}

const send = (m: FromModel) => process.send?.(m);
let session: Runner | null = null;
let vocab = 0;
const waiting: AddMessage[] = [];
const active = new Map<string, Sequence>();
const freeSlots: number[] = [];
let scheduled = false;

/** "done" messages of the current turn: sent after its tokens, so a sequence's last token comes first */
let turnDone: FromModel[] | null = null;

function finish(seq: Sequence, reason: "stop" | "length" | "cancelled") {
  active.delete(seq.req.id);
  session?.reset(seq.slot);
  freeSlots.push(seq.slot);
  const done: FromModel = {
    type: "done",
    id: seq.req.id,
    reason,
    promptTokens: seq.req.promptIds.length,
    completionTokens: seq.generated,
  };
  if (turnDone) turnDone.push(done);
  else send(done);
}

/** records a sampled token; false when the sequence ended with it */
function accept(seq: Sequence, picked: SampledToken, out: TokenEvent[]): boolean {
  if (seq.stops.has(picked.id)) {
    finish(seq, "stop");
    return false;
  }
  seq.generated++;
  seq.last = picked.id;
  out.push({ id: seq.req.id, token: picked.id, logprob: picked.logprob, top: picked.top });
  const full = session ? session.length(seq.slot) + 1 > session.capacity : true;
  if (seq.generated >= seq.req.maxTokens || full) {
    finish(seq, "length");
    return false;
  }
  return true;
}

/**
 * Prefill that also scores the prompt (vLLM's `prompt_logprobs`): one position at a time, each
 * step's next-token logits scoring the following prompt token. Returns the last position's
 * logits (the first generated token's distribution), as a prefill does.
 */
async function scorePrompt(runner: Runner, slot: number, req: AddMessage): Promise<Float32Array> {
  const ids = req.promptIds;
  const k = req.promptLogprobs ?? 0;
  const scores: PromptTokenScore[] = [];
  let logits = await runner.prefill(slot, ids.slice(0, 1));
  for (let i = 1; i < ids.length; i++) {
    const token = ids[i] as number;
    scores.push(scorePosition(logits, vocab, token, k));
    const [next] = await runner.decode([slot], [token]);
    logits = next as Float32Array;
  }
  send({ type: "prompt", id: req.id, scores });
  return logits;
}

function settingsOf(req: AddMessage) {
  return { temperature: req.temperature, topP: req.topP, topLogprobs: req.topLogprobs };
}

async function turn() {
  if (!session) return;
  const out: TokenEvent[] = [];
  const done: FromModel[] = [];
  turnDone = done;
  try {
    // admit: prefill waiting sequences into free slots (one prefill per turn keeps decoding
    // of the others going while a long prompt arrives)
    const req = freeSlots.length > 0 ? waiting.shift() : undefined;
    if (req) {
      const slot = freeSlots.pop() as number;
      const seq: Sequence = {
        req,
        slot,
        rng: createRng(req.seed),
        generated: 0,
        stops: new Set(req.stopTokenIds),
        last: -1,
      };
      active.set(req.id, seq);
      try {
        const logits =
          req.promptLogprobs !== undefined && req.promptLogprobs >= 0
            ? await scorePrompt(session, slot, req)
            : await session.prefill(slot, req.promptIds);
        // cancelled while the prompt was read: finish() has already freed the slot
        if (active.get(req.id) === seq) accept(seq, sampleNext(logits, vocab, settingsOf(req), seq.rng), out);
      } catch (e) {
        active.delete(req.id);
        session.reset(slot);
        freeSlots.push(slot);
        send({ type: "error", id: req.id, message: (e as Error).message });
      }
    }
    // decode: one batched step for every sequence that already has a token to feed
    const batch = [...active.values()].filter((s) => s.last >= 0 && s.req !== req);
    if (batch.length > 0) {
      const logits = await session.decode(
        batch.map((s) => s.slot),
        batch.map((s) => s.last),
      );
      batch.forEach((s, i) => {
        // a sequence cancelled while the step ran is gone (its slot already freed)
        if (active.get(s.req.id) !== s) return;
        accept(s, sampleNext(logits[i] as Float32Array, vocab, settingsOf(s.req), s.rng), out);
      });
    }
  } catch (e) {
    send({ type: "error", message: (e as Error).stack ?? String(e) });
  }
  turnDone = null;
  if (out.length > 0) send({ type: "tokens", events: out });
  for (const d of done) send(d);
  scheduled = false;
  schedule();
}

function schedule() {
  if (scheduled) return;
  if (active.size === 0 && (waiting.length === 0 || freeSlots.length === 0)) return;
  scheduled = true;
  setImmediate(() => void turn());
}

async function load(m: LoadMessage) {
  try {
    if (m.threads) setMatmulThreads(m.threads);
    // onnxruntime serves plain models; an adapter on its base runs on the engine
    session =
      m.backend === "ort" && !m.adapterDir
        ? await createOrtRunner({
            modelDir: m.modelDir,
            slots: m.slots,
            capacity: m.capacity,
            threads: m.threads,
          })
        : createEngineRunner({
            modelDir: m.modelDir,
            adapterDir: m.adapterDir,
            slots: m.slots,
            capacity: m.capacity,
          });
    vocab = session.vocabSize;
    for (let s = m.slots - 1; s >= 0; s--) freeSlots.push(s);
    send({
      type: "ready",
      backend: session.name,
      vocabSize: vocab,
      maxPositions: session.capacity,
      slots: m.slots,
      capacity: session.capacity,
    });
  } catch (e) {
    send({ type: "error", message: `could not load the model: ${(e as Error).message}` });
    process.exitCode = 1;
    process.disconnect?.();
  }
}

process.on("message", (m: ToModel) => {
  if (m.type === "load") {
    void load(m);
    return;
  }
  if (m.type === "add") {
    waiting.push(m);
    schedule();
    return;
  }
  if (m.type === "cancel") {
    const i = waiting.findIndex((w) => w.id === m.id);
    if (i >= 0) {
      const [req] = waiting.splice(i, 1);
      send({
        type: "done",
        id: m.id,
        reason: "cancelled",
        promptTokens: req?.promptIds.length ?? 0,
        completionTokens: 0,
      });
      return;
    }
    const seq = active.get(m.id);
    if (seq) finish(seq, "cancelled");
  }
});
// the parent went away: nothing left to serve
process.on("disconnect", () => process.exit(0));
