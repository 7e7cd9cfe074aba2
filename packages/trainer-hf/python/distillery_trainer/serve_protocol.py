"""The OpenAI-compatible protocol of the GPU server (serve.py), without torch: request parsing
with errors that name the field, stop strings, the `<think>` split into `reasoning_content`
(vLLM's R1 reasoning parser), response and SSE chunk shapes, and the vLLM command line.

It mirrors packages/inference (the studio's CPU serving): the same fields, limits, error
objects (`{"error": {message, type, param, code}}`) and extensions (`reasoning_format`,
`ignore_eos`), so a client cannot tell which one answered.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

MAX_BODY_BYTES = 4_000_000
MAX_N = 16
MAX_STOP = 4
MAX_TOP_LOGPROBS = 20
DEFAULT_MAX_TOKENS = 256
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


class OpenAIError(Exception):
    """An error in OpenAI's shape; `param` names the request field at fault."""

    def __init__(self, status: int, message: str, param: Optional[str] = None, code: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    @property
    def type(self) -> str:
        if self.status == 401:
            return "authentication_error"
        if self.status == 403:
            return "permission_error"
        if self.status >= 500:
            return "server_error"
        return "invalid_request_error"

    def body(self) -> Dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def _bad(param: str, message: str) -> OpenAIError:
    return OpenAIError(400, f"{param}: {message}", param, "invalid_value")


def parse_json_body(raw: bytes) -> Dict[str, Any]:
    if len(raw) > MAX_BODY_BYTES:
        raise OpenAIError(413, "request body is over 4 MB", None, "payload_too_large")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise OpenAIError(400, f"We could not parse the JSON body of your request: {e}", "body", "invalid_json")
    if not isinstance(value, dict):
        raise OpenAIError(400, "the request body must be a JSON object", "body", "invalid_json")
    return value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _opt_number(body: Dict[str, Any], key: str, low: float, high: float, *, low_open: bool = False) -> Optional[float]:
    v = body.get(key)
    if v is None:
        return None
    if not _is_number(v):
        raise _bad(key, "must be a number")
    if (v <= low if low_open else v < low) or v > high:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise _bad(key, f"must be {bound} and at most {high}")
    return float(v)


def _opt_int(body: Dict[str, Any], key: str, low: int, high: Optional[int] = None, message: Optional[str] = None) -> Optional[int]:
    v = body.get(key)
    if v is None:
        return None
    if not _is_int(v):
        raise _bad(key, "must be an integer")
    if v < low or (high is not None and v > high):
        raise _bad(key, message or (f"must be between {low} and {high}" if high is not None else f"must be at least {low}"))
    return int(v)


def _opt_bool(body: Dict[str, Any], key: str) -> Optional[bool]:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise _bad(key, "must be true or false")
    return v


@dataclass
class SamplingParams:
    max_tokens: Optional[int] = None
    temperature: float = 1.0
    top_p: float = 1.0
    n: int = 1
    seed: Optional[int] = None
    stop: List[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    ignore_eos: bool = False
    #: -1: no logprobs; 0..20: the sampled token's logprob and this many alternatives
    top_logprobs: int = -1


@dataclass
class ChatRequest:
    model: str
    messages: List[Dict[str, str]]
    params: SamplingParams
    reasoning_format: str = "parsed"


@dataclass
class CompletionRequest:
    model: str
    prompts: List[str]
    params: SamplingParams
    echo: bool = False


def _model(body: Dict[str, Any]) -> str:
    m = body.get("model")
    if not isinstance(m, str) or not m:
        raise _bad("model", "model is required")
    return m


def _sampling(body: Dict[str, Any]) -> SamplingParams:
    p = SamplingParams()
    max_tokens = _opt_int(body, "max_tokens", 1, message="max_tokens must be at least 1")
    if max_tokens is None:
        max_tokens = _opt_int(body, "max_completion_tokens", 1, message="max_completion_tokens must be at least 1")
    p.max_tokens = max_tokens
    t = _opt_number(body, "temperature", 0, 2)
    p.temperature = 1.0 if t is None else t
    tp = _opt_number(body, "top_p", 0, 1, low_open=True)
    p.top_p = 1.0 if tp is None else tp
    n = _opt_int(body, "n", 1, MAX_N)
    p.n = 1 if n is None else n
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        raise _bad("seed", "must be an integer")
    p.seed = seed
    stop = body.get("stop")
    if stop is None:
        p.stop = []
    elif isinstance(stop, str):
        p.stop = [stop] if stop else []
    elif isinstance(stop, list):
        if len(stop) > MAX_STOP:
            raise _bad("stop", f"at most {MAX_STOP} stop sequences")
        for i, s in enumerate(stop):
            if not isinstance(s, str):
                raise _bad(f"stop[{i}]", "must be a string")
        p.stop = [s for s in stop if s]
    else:
        raise _bad("stop", "must be a string or a list of strings")
    p.stream = bool(_opt_bool(body, "stream"))
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise _bad("stream_options", "must be an object")
        p.include_usage = bool(_opt_bool(options, "include_usage"))
    p.ignore_eos = bool(_opt_bool(body, "ignore_eos"))
    return p


def _message_text(m: Dict[str, Any], i: int) -> str:
    content = m.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise _bad(f"messages[{i}].content[{j}]", "only text parts are supported")
            parts.append(part["text"])
        return "".join(parts)
    raise _bad(f"messages[{i}].content", "must be a string or a list of text parts")


def parse_chat_request(body: Dict[str, Any]) -> ChatRequest:
    model = _model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or len(messages) == 0:
        raise _bad("messages", "messages must hold at least one message")
    out: List[Dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise _bad(f"messages[{i}]", "must be an object")
        role = m.get("role")
        if role not in ("system", "developer", "user", "assistant"):
            raise _bad(f"messages[{i}].role", "must be one of system, developer, user, assistant")
        out.append({"role": "system" if role == "developer" else role, "content": _message_text(m, i)})
    params = _sampling(body)
    logprobs = _opt_bool(body, "logprobs")
    top = _opt_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    params.top_logprobs = (top or 0) if logprobs else -1
    fmt = body.get("reasoning_format")
    if fmt is None:
        fmt = "parsed"
    if fmt not in ("parsed", "raw", "hidden"):
        raise _bad("reasoning_format", "must be parsed, raw or hidden")
    return ChatRequest(model=model, messages=out, params=params, reasoning_format=fmt)


def parse_completion_request(body: Dict[str, Any]) -> CompletionRequest:
    model = _model(body)
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, list) and 1 <= len(prompt) <= 16 and all(isinstance(p, str) for p in prompt):
        prompts = list(prompt)
    else:
        raise _bad("prompt", "must be a string or a list of 1 to 16 strings")
    params = _sampling(body)
    lp = _opt_int(body, "logprobs", 0, 5)
    params.top_logprobs = -1 if lp is None else lp
    return CompletionRequest(model=model, prompts=prompts, params=params, echo=bool(_opt_bool(body, "echo")))


def fit_max_tokens(prompt_tokens: int, max_tokens: Optional[int], context: int, param: str) -> int:
    """The tokens a sequence may generate: what was asked, within what the context leaves. A prompt
    that fills the context is refused, naming `messages` or `prompt`."""
    if prompt_tokens >= context:
        raise OpenAIError(
            400,
            f"This model's maximum context length is {context} tokens; your prompt has {prompt_tokens}.",
            param,
            "context_length_exceeded",
        )
    room = context - prompt_tokens
    return min(room, max_tokens if max_tokens is not None else min(DEFAULT_MAX_TOKENS, room))


class StopMatcher:
    """Text in, text out, holding back a tail that could still become a stop string (so a stop
    string never reaches the client, even split across tokens)."""

    def __init__(self, stops: Sequence[str]):
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return text
        buf = self.pending + text
        hit = -1
        for s in self.stops:
            at = buf.find(s)
            if at != -1 and (hit == -1 or at < hit):
                hit = at
        if hit != -1:
            self.stopped = True
            self.pending = ""
            return buf[:hit]
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(buf)), 0, -1):
                if buf.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        self.pending = buf[len(buf) - hold :] if hold else ""
        return buf[: len(buf) - hold]

    def flush(self) -> str:
        out = "" if self.stopped else self.pending
        self.pending = ""
        return out


class ReasoningSplitter:
    """Streamed text → ("reasoning" | "content", text) pieces, as vLLM's DeepSeek-R1 reasoning
    parser (and packages/inference's splitter) does: the text of a `<think> … </think>` block is
    reasoning, the rest content. A generation whose prompt already opened the block (templates
    that end with `<think>\n`) starts inside it. Tags split across pieces are held back until whole."""

    def __init__(self, starts_in_reasoning: bool = False):
        # "start": nothing but whitespace seen yet; "think": inside the block; "answer": after it
        self.state = "think" if starts_in_reasoning else "start"
        self.held = ""
        #: a `<think>` block was opened (by the prompt or the model)
        self.opened = starts_in_reasoning

    def _step(self) -> List[Tuple[str, str]]:
        out: List[Tuple[str, str]] = []
        while True:
            if self.state == "start":
                trimmed = self.held.lstrip()
                if trimmed.startswith(THINK_OPEN):
                    self.held = trimmed[len(THINK_OPEN) :]
                    self.state = "think"
                    self.opened = True
                    continue
                if trimmed == "" or THINK_OPEN.startswith(trimmed):
                    return out
                self.state = "answer"
                continue
            if self.state == "think":
                at = self.held.find(THINK_CLOSE)
                if at != -1:
                    if at:
                        out.append(("reasoning", self.held[:at]))
                    self.held = self.held[at + len(THINK_CLOSE) :]
                    self.state = "answer"
                    continue
                keep = 0
                for k in range(min(len(THINK_CLOSE) - 1, len(self.held)), 0, -1):
                    if self.held.endswith(THINK_CLOSE[:k]):
                        keep = k
                        break
                if len(self.held) - keep:
                    out.append(("reasoning", self.held[: len(self.held) - keep]))
                self.held = self.held[len(self.held) - keep :]
                return out
            if self.held:
                out.append(("content", self.held))
            self.held = ""
            return out

    def feed(self, text: str) -> List[Tuple[str, str]]:
        self.held += text
        return self._step()

    def flush(self) -> List[Tuple[str, str]]:
        out = self._step()
        if self.held:
            out.append(("reasoning" if self.state == "think" else "content", self.held))
        self.held = ""
        return out


def route_piece(kind: str, text: str, reasoning_format: str) -> Dict[str, str]:
    """Where a piece goes in a delta or message, by `reasoning_format`."""
    if kind == "content":
        return {"content": text}
    if reasoning_format == "parsed":
        return {"reasoning_content": text}
    if reasoning_format == "raw":
        return {"content": text}
    return {}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def usage(prompt_tokens: int, completion_tokens: int) -> Dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def chat_message(content: str, reasoning: str, reasoning_format: str, opened: bool) -> Dict[str, Any]:
    if reasoning_format == "raw" and opened:
        return {"role": "assistant", "content": f"{THINK_OPEN}{reasoning}{THINK_CLOSE}\n\n{content}"}
    msg: Dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning_format == "parsed":
        msg["reasoning_content"] = reasoning if opened else None
    return msg


def chat_response(
    request_id: str, model: str, choices: List[Dict[str, Any]], prompt_tokens: int, completion_tokens: int
) -> Dict[str, Any]:
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens),
    }


def chat_chunk(
    request_id: str,
    model: str,
    index: int,
    delta: Dict[str, Any],
    finish_reason: Optional[str] = None,
    logprobs: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    choice: Dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish_reason}
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
    }


def usage_chunk(request_id: str, model: str, prompt_tokens: int, completion_tokens: int) -> Dict[str, Any]:
    return {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode("utf-8")


SSE_DONE = b"data: [DONE]\n\n"


def token_logprob(token: str, logprob: float, top: Sequence[Tuple[str, float]]) -> Dict[str, Any]:
    """One token's entry of a chat `logprobs.content` list."""
    return {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode("utf-8")),
        "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode("utf-8"))} for t, lp in top],
    }


def models_response(model_id: str, status: str = "ready") -> Dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": model_id,
                "object": "model",
                "created": int(time.time()),
                "owned_by": "distillery",
                "kind": "hf",
                "status": status,
            }
        ],
    }


def pick_engine(requested: str, has_vllm: bool) -> str:
    """"auto": vLLM when it is installed, else transformers; asking for vLLM without it is an error."""
    if requested == "vllm" and not has_vllm:
        raise ValueError("--engine vllm: vllm is not installed on this worker")
    if requested == "auto":
        return "vllm" if has_vllm else "transformers"
    return requested


def vllm_command(
    python: str,
    model: str,
    served_name: str,
    host: str,
    port: int,
    *,
    api_key: Optional[str] = None,
    max_model_len: Optional[int] = None,
    dtype: str = "auto",
    adapter: Optional[str] = None,
    gpu_memory_utilization: Optional[float] = None,
) -> List[str]:
    """vLLM's own OpenAI server for the same model, with the R1 reasoning parser (its
    `reasoning_content` is ours). An adapter is served as a LoRA module under the served name.
    `gpu_memory_utilization`: the share of the GPU vLLM takes (its default, 0.9, leaves no room
    for a second model that a worker serves beside it)."""
    argv = [
        python,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        model,
        "--host",
        host,
        "--port",
        str(port),
        "--dtype",
        dtype,
        "--reasoning-parser",
        "deepseek_r1",
    ]
    if adapter:
        argv += ["--enable-lora", "--lora-modules", f"{served_name}={adapter}"]
    else:
        argv += ["--served-model-name", served_name]
    if max_model_len:
        argv += ["--max-model-len", str(max_model_len)]
    if gpu_memory_utilization:
        if not 0 < gpu_memory_utilization <= 1:
            raise ValueError(f"--gpu-memory-fraction must be in (0, 1], got {gpu_memory_utilization}")
        argv += ["--gpu-memory-utilization", f"{gpu_memory_utilization:.3f}"]
    # the key is not an argument (a process list shows those): vLLM reads VLLM_API_KEY, which
    # serve.main sets; `api_key` only says whether one is required
    return argv
