"""GPU serving of an `hf` model: `python -m distillery_trainer.serve --model DIR [--adapter DIR]`.

An OpenAI-compatible server (`POST /v1/chat/completions`, `POST /v1/completions`,
`GET /v1/models`) for one model on this worker's GPU, with the same fields, extensions and
error objects as the studio's CPU serving (packages/inference; the protocol is
serve_protocol.py). `--engine auto` (the default) hands the model to vLLM's own OpenAI server
when vllm is installed (R1 reasoning parser on); otherwise transformers runs it here:

- the model loads once (bf16 on GPUs that have it, else fp16; fp32 on CPU), an adapter is
  merged into its base (peft `merge_and_unload`);
- a scheduler thread batches every waiting sequence (n > 1 is n sequences) into one
  left-padded batch: one prefill, then one forward per step for all rows, the KV cache kept
  by the model (`past_key_values`). Rows that end (EOS, max_tokens, a stop string, a client
  gone) leave the batch at once (`batch_select_indices` on the cache), so a disconnected client
  frees its row before the next step. Requests that arrive during a batch wait for the next
  one (wave batching, not vLLM's continuous batching);
- sampling per row: greedy at temperature 0, else temperature and top-p with a per-row
  torch.Generator (seeded: `seed + choice index`); logprobs from the unscaled distribution.

NOTE: written without a GPU or transformers on the machine it was written on, so this file has
never run; serve_protocol.py (everything without torch) is unit-tested in tests/test_serve_protocol.py.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from .serve_protocol import (
    SSE_DONE,
    ChatRequest,
    CompletionRequest,
    OpenAIError,
    ReasoningSplitter,
    SamplingParams,
    StopMatcher,
    THINK_OPEN,
    chat_chunk,
    chat_message,
    chat_response,
    fit_max_tokens,
    models_response,
    new_id,
    parse_chat_request,
    parse_completion_request,
    parse_json_body,
    pick_engine,
    route_piece,
    sse,
    token_logprob,
    usage,
    usage_chunk,
    vllm_command,
)


@dataclass
class TokenEvent:
    token_id: int
    logprob: Optional[float] = None
    top: List[Tuple[int, float]] = field(default_factory=list)


@dataclass
class Sequence:
    """One choice being generated; the scheduler writes its events to `out`."""

    prompt_ids: List[int]
    params: SamplingParams
    max_new: int
    choice_seed: Optional[int]
    out: "queue.Queue[Any]" = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    generated: int = 0


DONE_LENGTH = ("done", "length")
DONE_STOP = ("done", "stop")


class Runner:
    """The model and its scheduler thread."""

    def __init__(self, model_dir: str, adapter: Optional[str], dtype: str, device: Optional[str], max_batch: int):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            if self.device.startswith("cuda"):
                torch_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            else:
                torch_dtype = torch.float32
        else:
            torch_dtype = getattr(torch, dtype)
        self.tokenizer = AutoTokenizer.from_pretrained(adapter or model_dir)
        self.tokenizer.padding_side = "left"
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch_dtype)
        if adapter:
            from peft import PeftModel

            if len(self.tokenizer) > model.get_input_embeddings().weight.shape[0]:
                model.resize_token_embeddings(len(self.tokenizer))
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        self.model = model.to(self.device).eval()
        config = self.model.config
        self.context = int(
            getattr(config, "max_position_embeddings", None) or getattr(self.tokenizer, "model_max_length", 4096)
        )
        eos = config.eos_token_id if config.eos_token_id is not None else self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        if gen_eos is not None:
            self.eos_ids |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos])
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (next(iter(self.eos_ids)) if self.eos_ids else 0)
        self.max_batch = max_batch
        self.waiting: "queue.Queue[Sequence]" = queue.Queue()
        self.active = 0
        self.thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self.thread.start()

    # --- prompts -------------------------------------------------------------------------------

    def render_chat(self, messages: List[Dict[str, str]]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        # a base model without a template: plain turns
        text = "".join(f"{m['role']}: {m['content']}\n" for m in messages)
        return f"{text}assistant: "

    def encode(self, text: str) -> List[int]:
        # the template writes every special token it wants (as the trainer tokenizes)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: List[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    # --- scheduling ----------------------------------------------------------------------------

    def submit(self, seqs: List[Sequence]) -> None:
        for s in seqs:
            self.waiting.put(s)

    def _loop(self) -> None:
        while True:
            first = self.waiting.get()
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            batch = [s for s in batch if not s.cancelled.is_set()]
            if not batch:
                continue
            try:
                self.active = len(batch)
                self._run_batch(batch)
            except Exception as e:  # a failed batch fails its sequences, not the server
                for s in batch:
                    s.out.put(("error", f"{type(e).__name__}: {e}"))
            finally:
                self.active = 0

    def _sample(self, logits, rows: List[Sequence], gens) -> Tuple[List[int], List[TokenEvent]]:
        torch = self.torch
        logits = logits.float()
        logprobs_all = torch.log_softmax(logits, dim=-1)
        ids: List[int] = []
        events: List[TokenEvent] = []
        for i, s in enumerate(rows):
            p = s.params
            row = logits[i]
            if p.temperature == 0:
                tok = int(torch.argmax(row).item())
            else:
                probs = torch.softmax(row / p.temperature, dim=-1)
                if p.top_p < 1:
                    sorted_probs, order = torch.sort(probs, descending=True)
                    cum = torch.cumsum(sorted_probs, dim=-1)
                    # keep the smallest prefix whose mass reaches top_p (the first token always)
                    cut = cum - sorted_probs >= p.top_p
                    sorted_probs[cut] = 0
                    probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
                    probs = probs / probs.sum()
                tok = int(torch.multinomial(probs, 1, generator=gens[i]).item())
            ev = TokenEvent(tok)
            if p.top_logprobs >= 0:
                ev.logprob = float(logprobs_all[i, tok].item())
                if p.top_logprobs > 0:
                    vals, idx = torch.topk(logprobs_all[i], p.top_logprobs)
                    ev.top = [(int(t), float(v)) for t, v in zip(idx.tolist(), vals.tolist())]
            ids.append(tok)
            events.append(ev)
        return ids, events

    def _run_batch(self, rows: List[Sequence]) -> None:
        torch = self.torch
        width = max(len(s.prompt_ids) for s in rows)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, s in enumerate(rows):
            n = len(s.prompt_ids)
            input_ids[i, width - n :] = torch.tensor(s.prompt_ids, dtype=torch.long)
            mask[i, width - n :] = 1
        input_ids = input_ids.to(self.device)
        mask = mask.to(self.device)
        gens = []
        for s in rows:
            g = torch.Generator(device=self.device)
            g.manual_seed(s.choice_seed if s.choice_seed is not None else int.from_bytes(os.urandom(4), "little"))
            gens.append(g)
        with torch.inference_mode():
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True)
            past = out.past_key_values
            logits = out.logits[:, -1, :]
            while rows:
                ids, events = self._sample(logits, rows, gens)
                keep: List[int] = []
                for i, (s, tok, ev) in enumerate(zip(rows, ids, events)):
                    if s.cancelled.is_set():
                        continue  # the client is gone: its row leaves now
                    if tok in self.eos_ids and not s.params.ignore_eos:
                        s.out.put(DONE_STOP)  # the end-of-sequence token is not sent nor counted
                        continue
                    s.generated += 1
                    s.out.put(("token", ev))
                    if s.generated >= s.max_new:
                        s.out.put(DONE_LENGTH)
                        continue
                    keep.append(i)
                if not keep:
                    return
                if len(keep) < len(rows):
                    index = torch.tensor(keep, dtype=torch.long, device=self.device)
                    rows = [rows[i] for i in keep]
                    gens = [gens[i] for i in keep]
                    ids = [ids[i] for i in keep]
                    mask = mask.index_select(0, index)
                    past = select_cache_rows(past, index)
                next_ids = torch.tensor(ids, dtype=torch.long, device=self.device).unsqueeze(1)
                mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=self.device)], dim=1)
                position_ids = (mask.sum(-1, keepdim=True) - 1).clamp(min=0)
                out = self.model(
                    input_ids=next_ids,
                    attention_mask=mask,
                    position_ids=position_ids,
                    past_key_values=past,
                    use_cache=True,
                )
                past = out.past_key_values
                logits = out.logits[:, -1, :]
                # a stop string decided by the request thread ends the row through `cancelled`


def select_cache_rows(past, index):
    """Keeps the cache rows in `index` (transformers' Cache objects, or the legacy tuples)."""
    if hasattr(past, "batch_select_indices"):
        past.batch_select_indices(index)
        return past
    return tuple(tuple(t.index_select(0, index) for t in layer) for layer in past)


class Generation:
    """The request side of one sequence: tokens → text (incremental, stop strings, think split)."""

    def __init__(self, runner: Runner, seq: Sequence, starts_in_reasoning: bool, reasoning_format: str):
        self.runner = runner
        self.seq = seq
        self.ids: List[int] = []
        self.text_sent = ""
        self.stop = StopMatcher(seq.params.stop)
        # "raw" (and legacy completions) keep the text as the model wrote it: no split
        self.split: Optional[ReasoningSplitter] = (
            None if reasoning_format == "raw" else ReasoningSplitter(starts_in_reasoning)
        )
        self.reasoning_format = reasoning_format
        self.lp_sent = 0
        self.finish: Optional[str] = None
        self.content = ""
        self.reasoning = ""
        self.logprobs: List[Dict[str, Any]] = []
        self.ended = False

    def _pieces(self, text: str) -> List[Tuple[str, str]]:
        if self.split is None:
            self.content += text
            return [("content", text)] if text else []
        pieces = self.split.feed(text)
        for kind, t in pieces:
            if kind == "content":
                self.content += t
            else:
                self.reasoning += t
        return pieces

    def next_pieces(self, timeout: float = 600.0) -> List[Tuple[str, str]]:
        """The next text pieces (maybe none); `ended` turns true with the last ones, and `finish`
        says why. Raises queue.Empty when nothing came within `timeout`."""
        if self.ended:
            return []
        item = self.seq.out.get(timeout=timeout)
        kind = item[0]
        if kind == "error":
            self.ended = True
            raise OpenAIError(500, f"generation failed: {item[1]}", None, "internal_error")
        if kind == "done":
            self.ended = True
            self.finish = item[1]
            tail = self.stop.flush()
            return (self._pieces(tail) if tail else []) + self._flush_split()
        ev: TokenEvent = item[1]
        self.ids.append(ev.token_id)
        if ev.logprob is not None:
            tok = self.runner.tokenizer.convert_ids_to_tokens(ev.token_id)
            top = [(self.runner.tokenizer.convert_ids_to_tokens(t), lp) for t, lp in ev.top]
            self.logprobs.append(token_logprob(str(tok), ev.logprob, [(str(t), lp) for t, lp in top]))
        full = self.runner.decode(self.ids)
        if full.endswith("\ufffd"):
            return []  # an incomplete UTF-8 character: wait for the next token
        # decoding the whole output again can change earlier text (rare, with some tokenizers):
        # only what extends the text already sent goes out
        new = full[len(self.text_sent) :] if full.startswith(self.text_sent) else ""
        if full.startswith(self.text_sent):
            self.text_sent = full
        out = self.stop.feed(new)
        if self.stop.stopped:
            self.ended = True
            self.finish = "stop"
            self.seq.cancelled.set()  # the scheduler drops the row before its next step
            return self._pieces(out) + self._flush_split()
        return self._pieces(out)

    def _flush_split(self) -> List[Tuple[str, str]]:
        if self.split is None:
            return []
        pieces = self.split.flush()
        for kind, t in pieces:
            if kind == "content":
                self.content += t
            else:
                self.reasoning += t
        return pieces

    def drain(self) -> None:
        while not self.ended:
            self.next_pieces()


class Server:
    def __init__(self, runner: Runner, model_id: str, api_key: Optional[str]):
        self.runner = runner
        self.model_id = model_id
        self.api_key = api_key

    def check_model(self, model: str) -> None:
        if model != self.model_id:
            raise OpenAIError(404, f"The model `{model}` does not exist.", "model", "model_not_found")

    def start(self, prompt_ids: List[int], params: SamplingParams, param: str) -> List[Sequence]:
        max_new = fit_max_tokens(len(prompt_ids), params.max_tokens, self.runner.context, param)
        seqs = [
            Sequence(
                prompt_ids=prompt_ids,
                params=params,
                max_new=max_new,
                choice_seed=None if params.seed is None else params.seed + i,
            )
            for i in range(params.n)
        ]
        self.runner.submit(seqs)
        return seqs


def make_handler(server: Server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet: one line per request on stderr
            sys.stderr.write(f"[serve] {self.command} {self.path} {fmt % args}\n")

        def _json(self, status: int, body: Dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if not server.api_key:
                return True
            if self.headers.get("authorization") == f"Bearer {server.api_key}":
                return True
            self._json(401, OpenAIError(401, "Incorrect API key provided.", None, "invalid_api_key").body())
            return False

        def do_GET(self) -> None:
            if not self._authorised():
                return
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._json(200, models_response(server.model_id))
            elif self.path == "/health":
                self._json(200, {"ok": True, "active": server.runner.active})
            else:
                self._json(404, OpenAIError(404, f"no route {self.path}", None, "not_found").body())

        def do_POST(self) -> None:
            if not self._authorised():
                return
            try:
                length = int(self.headers.get("content-length") or 0)
                if length > 4_000_000:
                    raise OpenAIError(413, "request body is over 4 MB", None, "payload_too_large")
                body = parse_json_body(self.rfile.read(length))
                path = self.path.rstrip("/")
                if path == "/v1/chat/completions":
                    self._chat(parse_chat_request(body))
                elif path == "/v1/completions":
                    self._completions(parse_completion_request(body))
                else:
                    raise OpenAIError(404, f"no route {self.path}", None, "not_found")
            except OpenAIError as e:
                self._json(e.status, e.body())
            except (BrokenPipeError, ConnectionResetError):
                pass

        # --- chat ---------------------------------------------------------------------------

        def _chat(self, req: ChatRequest) -> None:
            server.check_model(req.model)
            runner = server.runner
            prompt = runner.render_chat(req.messages)
            prompt_ids = runner.encode(prompt)
            opened = prompt.rstrip().endswith(THINK_OPEN)
            seqs = server.start(prompt_ids, req.params, "messages")
            gens = [Generation(runner, s, opened, req.reasoning_format) for s in seqs]
            # raw keeps the block inline; a block the prompt opened gets its tag back
            prefix = THINK_OPEN if opened and req.reasoning_format == "raw" else ""
            rid = new_id("chatcmpl")
            if req.params.stream:
                self._stream_chat(rid, req, gens, len(prompt_ids), prefix)
                return
            try:
                for g in gens:
                    g.drain()
            finally:
                for s in seqs:
                    s.cancelled.set()
            choices = []
            for i, g in enumerate(gens):
                choice: Dict[str, Any] = {
                    "index": i,
                    "message": (
                        {"role": "assistant", "content": prefix + g.content}
                        if g.split is None
                        else chat_message(g.content, g.reasoning, req.reasoning_format, g.split.opened)
                    ),
                    "finish_reason": g.finish or "stop",
                }
                if req.params.top_logprobs >= 0:
                    choice["logprobs"] = {"content": g.logprobs}
                choices.append(choice)
            completion = sum(s.generated for s in seqs)
            self._json(200, chat_response(rid, req.model, choices, len(prompt_ids), completion))

        def _start_sse(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("cache-control", "no-cache, no-transform")
            self.send_header("x-accel-buffering", "no")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True

        def _send(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        def _send_quietly(self, data: bytes) -> None:
            try:
                self._send(data)
            except OSError:
                pass

        def _stream_chat(
            self, rid: str, req: ChatRequest, gens: List[Generation], prompt_tokens: int, prefix: str
        ) -> None:
            self._start_sse()
            with_lp = req.params.top_logprobs >= 0
            try:
                for i in range(len(gens)):
                    self._send(sse(chat_chunk(rid, req.model, i, {"role": "assistant", "content": prefix})))
                # choices interleave as their tokens come (each has its own queue)
                live = list(range(len(gens)))
                while live:
                    for i in list(live):
                        g = gens[i]
                        try:
                            pieces = g.next_pieces(timeout=0.02)
                        except queue.Empty:
                            continue
                        for kind, text in pieces:
                            delta = route_piece(kind, text, req.reasoning_format)
                            if delta:
                                # a chunk carries the logprobs of the tokens since the last one
                                lp = {"content": g.logprobs[g.lp_sent :]} if with_lp else None
                                g.lp_sent = len(g.logprobs)
                                self._send(sse(chat_chunk(rid, req.model, i, delta, None, lp)))
                        if g.ended:
                            lp = {"content": g.logprobs[g.lp_sent :]} if with_lp else None
                            g.lp_sent = len(g.logprobs)
                            self._send(sse(chat_chunk(rid, req.model, i, {}, g.finish or "stop", lp)))
                            live.remove(i)
                if req.params.include_usage:
                    completion = sum(g.seq.generated for g in gens)
                    self._send(sse(usage_chunk(rid, req.model, prompt_tokens, completion)))
                self._send(SSE_DONE)
            except OpenAIError as e:  # after the headers: the error is the stream's last event
                self._send_quietly(sse(e.body()))
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # the client went away
            finally:
                for g in gens:
                    g.seq.cancelled.set()

        # --- legacy completions -------------------------------------------------------------

        def _completions(self, req: CompletionRequest) -> None:
            server.check_model(req.model)
            runner = server.runner
            rid = new_id("cmpl")
            all_seqs: List[Sequence] = []
            choices = []
            prompt_tokens = 0
            try:
                jobs = []
                for p in req.prompts:
                    ids = runner.encode(p)
                    prompt_tokens += len(ids)
                    seqs = server.start(ids, req.params, "prompt")
                    all_seqs += seqs
                    jobs.append((p, [Generation(runner, s, False, "raw") for s in seqs]))
                if req.params.stream:
                    self._stream_completions(rid, req, [g for _, gs in jobs for g in gs], prompt_tokens)
                    return
                for p, gens in jobs:
                    for g in gens:
                        g.drain()
                        choice: Dict[str, Any] = {
                            "index": len(choices),
                            "text": (p if req.echo else "") + g.reasoning + g.content,
                            "finish_reason": g.finish or "stop",
                            "logprobs": None,
                        }
                        if req.params.top_logprobs >= 0:
                            choice["logprobs"] = {
                                "tokens": [x["token"] for x in g.logprobs],
                                "token_logprobs": [x["logprob"] for x in g.logprobs],
                                "top_logprobs": [
                                    {t["token"]: t["logprob"] for t in x["top_logprobs"]} for x in g.logprobs
                                ],
                            }
                        choices.append(choice)
            finally:
                for s in all_seqs:
                    s.cancelled.set()
            completion = sum(s.generated for s in all_seqs)
            self._json(
                200,
                {
                    "id": rid,
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": req.model,
                    "choices": choices,
                    "usage": usage(prompt_tokens, completion),
                },
            )

        def _stream_completions(self, rid: str, req: CompletionRequest, gens: List[Generation], prompt_tokens: int) -> None:
            self._start_sse()

            def chunk(i: int, text: str, finish: Optional[str]) -> Dict[str, Any]:
                return {
                    "id": rid,
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": req.model,
                    "choices": [{"index": i, "text": text, "finish_reason": finish, "logprobs": None}],
                }

            try:
                live = list(range(len(gens)))
                while live:
                    for i in list(live):
                        g = gens[i]
                        try:
                            pieces = g.next_pieces(timeout=0.02)
                        except queue.Empty:
                            continue
                        text = "".join(t for _, t in pieces)
                        if text:
                            self._send(sse(chunk(i, text, None)))
                        if g.ended:
                            self._send(sse(chunk(i, "", g.finish or "stop")))
                            live.remove(i)
                if req.params.include_usage:
                    completion = sum(g.seq.generated for g in gens)
                    self._send(
                        sse({"id": rid, "object": "text_completion", "choices": [], "usage": usage(prompt_tokens, completion)})
                    )
                self._send(SSE_DONE)
            except OpenAIError as e:
                self._send_quietly(sse(e.body()))
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            finally:
                for g in gens:
                    g.seq.cancelled.set()

    return Handler


def has_vllm() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distillery_trainer.serve")
    parser.add_argument("--model", required=True, help="model directory (safetensors + tokenizer) or hub id")
    parser.add_argument("--adapter", help="a PEFT adapter directory, merged into the model")
    parser.add_argument("--served-name", help="the model id clients ask for (default: the model path)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    # "scripted": serve_scripted.ScriptedRunner (no torch, no model: tests of the process itself)
    parser.add_argument("--engine", default="auto", choices=["auto", "transformers", "vllm", "scripted"])
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    parser.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda when there is one)")
    parser.add_argument("--max-batch", type=int, default=8, help="sequences decoded together")
    parser.add_argument("--max-model-len", type=int, help="vLLM: the context it reserves for")
    parser.add_argument(
        "--gpu-memory-fraction", type=float, help="vLLM: the share of the GPU it takes (default vLLM's 0.9)"
    )
    parser.add_argument("--script", default="", help="scripted: the answer to every request")
    parser.add_argument("--script-delay", type=float, default=0.0, help="scripted: seconds per token")
    parser.add_argument("--script-load-seconds", type=float, default=0.0, help="scripted: how long loading takes")
    args = parser.parse_args(argv)
    api_key = os.environ.get("DISTILLERY_SERVE_API_KEY") or None
    served = args.served_name or args.model
    # a server started by a worker ends when that worker is gone (DISTILLERY_PARENT_PID set);
    # (vLLM's server replaces this process below: execv ends the watchdog thread, so an orphaned
    # vLLM server is not stopped by it; the worker stops its servers' process groups on shutdown)
    from .parent_watchdog import start_parent_watchdog

    start_parent_watchdog()
    engine = pick_engine(args.engine, has_vllm())
    if engine == "vllm":
        argv_vllm = vllm_command(
            sys.executable,
            args.model,
            served,
            args.host,
            args.port,
            api_key=api_key,
            max_model_len=args.max_model_len,
            dtype=args.dtype,
            adapter=args.adapter,
            gpu_memory_utilization=args.gpu_memory_fraction,
        )
        if api_key:
            os.environ["VLLM_API_KEY"] = api_key  # execv keeps the environment; never on argv
        sys.stderr.write(f"[serve] vLLM: {' '.join(argv_vllm)}\n")
        sys.stderr.flush()
        os.execv(shutil.which(sys.executable) or sys.executable, argv_vllm)
    if engine == "scripted":
        from .serve_scripted import ScriptedRunner

        if not os.path.isdir(args.model):
            raise SystemExit(f"--model {args.model}: not a directory")
        time.sleep(max(0.0, args.script_load_seconds))  # as a model takes time to load
        runner: Any = ScriptedRunner(args.script, delay=max(0.0, args.script_delay))
    else:
        runner = Runner(args.model, args.adapter, args.dtype, args.device, max(1, args.max_batch))
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(Server(runner, served, api_key)))
    httpd.daemon_threads = True
    sys.stderr.write(
        f"[serve] {served} on http://{args.host}:{httpd.server_address[1]}/v1 "
        f"({engine}, {runner.device}, context {runner.context}, batch {runner.max_batch})\n"
    )
    sys.stderr.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
