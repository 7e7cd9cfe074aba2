import type { PromptTokenScore } from "./score-prompt.ts";

/** Messages between the serving parent and a model process (child_process IPC, JSON). */
export interface LoadMessage {
  type: "load";
  modelDir: string;
  adapterDir?: string;
  /** KV slots = most sequences decoded together */
  slots: number;
  /** positions per slot (defaults to the model's context) */
  capacity?: number;
  /** matmul threads in the model process */
  threads?: number;
  /** "ort": onnxruntime-node on the ONNX export (plain models); "engine" (default) */
  backend?: "engine" | "ort";
}

export interface AddMessage {
  type: "add";
  id: string;
  promptIds: number[];
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** -1: none; else how many alternatives per token */
  topLogprobs: number;
  stopTokenIds: number[];
  /**
   * vLLM's `prompt_logprobs`: k alternatives for every prompt token after the first (sent in one
   * "prompt" message before any token); absent or -1: none
   */
  promptLogprobs?: number;
}

export interface CancelMessage {
  type: "cancel";
  id: string;
}

export type ToModel = LoadMessage | AddMessage | CancelMessage;

export interface TokenEvent {
  id: string;
  token: number;
  logprob?: number;
  top?: [number, number][];
}

export type FinishReason = "stop" | "length" | "cancelled";

export type FromModel =
  | {
      type: "ready";
      backend: "engine" | "ort";
      vocabSize: number;
      maxPositions: number;
      slots: number;
      capacity: number;
    }
  | { type: "tokens"; events: TokenEvent[] }
  | { type: "prompt"; id: string; scores: PromptTokenScore[] }
  | { type: "done"; id: string; reason: FinishReason; promptTokens: number; completionTokens: number }
  | { type: "error"; id?: string; message: string };
