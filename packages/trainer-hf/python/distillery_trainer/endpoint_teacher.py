"""A teacher endpoint as the distillation teacher: vLLM's OpenAI-compatible `/v1/completions` with
the `prompt_logprobs` extension (the studio's own serving speaks it too).

One request per example: the example's token ids as the prompt, `max_tokens: 1`,
`prompt_logprobs: k`. The answer's `choices[0].prompt_logprobs` has one entry per prompt token,
the first null, entry j a JSON object {token id (string): {logprob, rank, decoded_token}} holding
the top-k of the distribution of token j given tokens < j, plus token j itself when it is not in
the top-k. So position t of the example (which predicts token t + 1) reads entry t + 1: its k best
by rank are the teacher's top-k (T = 1, the loss adds the tail bucket), and its entry for the
actual token is the teacher's log-probability of that token.

stdlib only (urllib, threads), so it is tested here against a real local HTTP server. 429 and 5xx
answers and connection failures are retried with `Retry-After` (seconds or an HTTP date) or an
exponential backoff. The API key comes from the environment or a file (never argv) and is never
put in a log, an event or an error.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Sequence

from .errors import TrainerError

# as engine-local's endpoint teacher (src/train/distillation-endpoint.ts): the field, and the codes
# config_invalid (not a teacher: no prompt_logprobs) and teacher_failed (HTTP / network)
FIELD = "distillation.teacherEndpoint"
ENDPOINT_FIELD = FIELD
KEY_ENV = "DISTILLERY_TEACHER_API_KEY"
RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}


def read_api_key(env: dict, key_file: Optional[str] = None) -> Optional[str]:
    """The endpoint's key: the file the job names (keyFile, a 0600 file the worker writes), else
    $DISTILLERY_TEACHER_API_KEY, else None (an endpoint without auth). Never from argv."""
    if key_file:
        try:
            mode = os.stat(key_file).st_mode & 0o777
            if mode & 0o077:
                raise TrainerError(
                    f"the teacher key file {key_file} is readable by others (mode {mode:o}): it must be 0600",
                    code="config_invalid",
                    field=ENDPOINT_FIELD,
                )
            with open(key_file, encoding="utf-8") as f:
                return f.read().strip() or None
        except OSError as e:
            raise TrainerError(
                f"the teacher endpoint's key file cannot be read: {e.strerror}",
                code="environment",
                field=ENDPOINT_FIELD,
            ) from e
    key = env.get(KEY_ENV)
    return key.strip() if key else None


def retry_after_seconds(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Retry-After as seconds: a number of seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class EndpointTeacher:
    """Top-k log-probabilities of token sequences from an OpenAI-compatible completions endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        name: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 120.0,
        max_attempts: int = 6,
        max_backoff: float = 30.0,
        concurrency: int = 8,
        requests_per_minute: Optional[int] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = base_url.rstrip("/")
        # accept the server root or its /v1
        self.url = (base if base.endswith("/v1") else base + "/v1") + "/completions"
        self.model = model
        self.name = name or model
        self._key = api_key
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.max_backoff = max_backoff
        self.concurrency = max(1, concurrency)
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        # requestsPerMinute: request starts spaced by 60 / rpm seconds, across the threads
        self._interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next_start = 0.0
        self._lock = threading.Lock()

    def _pace(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        if start > now:
            self.sleep(start - now)

    def __repr__(self) -> str:  # never the key
        return f"EndpointTeacher({self.name!r}, {self.url!r})"

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "[key]") if self._key else text

    def _post(self, body: dict) -> dict:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            wait: Optional[float] = None
            req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            self._pace()
            with self._lock:
                self.requests += 1
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    raw = res.read()
                try:
                    return json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise TrainerError(
                        f"teacher endpoint {self.name} ({self.url}) answered with something that is not JSON ({e})",
                        code="teacher_failed",
                        field=FIELD,
                    ) from e
            except urllib.error.HTTPError as e:
                detail = self._scrub(e.read(500).decode("utf-8", "replace")).strip()
                last = f"HTTP {e.code}{': ' + detail[:300] if detail else ''}"
                if e.code not in RETRY_STATUSES:
                    raise TrainerError(
                        f"teacher endpoint {self.name} ({self.url}) refused the scoring request: {last}",
                        code="teacher_failed",
                        field=FIELD,
                        hint="check the teacher endpoint's API key in the studio" if e.code in (401, 403) else None,
                    ) from e
                wait = retry_after_seconds(e.headers.get("Retry-After") if e.headers else None)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                reason = getattr(e, "reason", e)
                last = self._scrub(f"{type(e).__name__}: {reason}")
            if attempt == self.max_attempts:
                break
            with self._lock:
                self.retries += 1
            if wait is None:
                wait = min(self.max_backoff, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            self.sleep(min(wait, self.max_backoff))
        raise TrainerError(
            f"teacher endpoint {self.name} ({self.url}) failed after {self.max_attempts} attempts: {last}",
            code="teacher_failed",
            field=FIELD,
        )

    def score(self, token_ids: Sequence[int], k: int) -> list:
        """Per position t of token_ids (t < len - 1): (top-k [(id, logprob)] best first, the
        log-probability of token t + 1). Fails naming the teacher and `prompt_logprobs` when the
        answer has none."""
        ids = [int(x) for x in token_ids]
        body = {
            "model": self.model,
            "prompt": ids,
            "max_tokens": 1,
            "temperature": 0,
            "prompt_logprobs": int(k),
        }
        answer = self._post(body)
        choices = answer.get("choices") if isinstance(answer, dict) else None
        plp = choices[0].get("prompt_logprobs") if choices and isinstance(choices[0], dict) else None
        if not isinstance(plp, list) or len(plp) < len(ids):
            got = "no prompt_logprobs" if not isinstance(plp, list) else f"{len(plp)} prompt_logprobs entries for {len(ids)} tokens"
            raise TrainerError(
                f"teacher endpoint {self.name} ({self.url}) returned {got}: logit and on-policy distillation need "
                "vLLM's `prompt_logprobs` (the top-k log-probabilities of every prompt token)",
                code="config_invalid",
                field=FIELD,
                hint="serve the teacher with vLLM or the studio's own serving; OpenAI's API and ollama do not return prompt_logprobs",
            )
        out = []
        for t in range(len(ids) - 1):
            entry = plp[t + 1]
            if not isinstance(entry, dict) or not entry:
                raise TrainerError(
                    f"teacher endpoint {self.name} ({self.url}): prompt_logprobs entry {t + 1} is empty",
                    code="teacher_failed",
                    field=FIELD,
                )
            items = []
            for key, v in entry.items():
                lp = v.get("logprob") if isinstance(v, dict) else v
                rank = v.get("rank") if isinstance(v, dict) else None
                items.append((int(key), float(lp), rank))
            actual = ids[t + 1]
            target_lp = next((lp for i, lp, _ in items if i == actual), None)
            # the k best: by rank where the server gives it (the actual token may ride along with a
            # rank past k), else by log-probability; ties the lower id first
            items.sort(key=lambda x: (x[2] if isinstance(x[2], int) else 0, -x[1], x[0]))
            top = sorted(items[: int(k)], key=lambda x: (-x[1], x[0]))
            out.append(([(i, lp) for i, lp, _ in top], target_lp))
        return out

    def score_many(self, sequences: Sequence[Sequence[int]], k: int) -> list:
        """score() of each sequence, `concurrency` requests at a time, in order."""
        if len(sequences) <= 1 or self.concurrency == 1:
            return [self.score(s, k) for s in sequences]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(sequences))) as pool:
            return list(pool.map(lambda s: self.score(s, k), sequences))


def endpoint_from_job(spec: Optional[dict], env: dict) -> Optional[EndpointTeacher]:
    """The endpoint teacher of the engine job's paths.teacherEndpoint ({name, baseUrl, model,
    keyFile?, requestsPerMinute?}), its key from keyFile or the environment; None without one."""
    if not spec:
        return None
    return EndpointTeacher(
        spec["baseUrl"],
        spec["model"],
        name=spec.get("name") or spec["model"],
        api_key=read_api_key(env, spec.get("keyFile")),
        requests_per_minute=spec.get("requestsPerMinute"),
        concurrency=int(env.get("DISTILLERY_TEACHER_ENDPOINT_CONCURRENCY") or 8),
    )


def segments_of(input_ids: Sequence[Sequence[int]], position_ids=None, attention_mask=None) -> list:
    """Per batch row, the (start, length) of each example in it: packed rows restart their
    position ids at 0; a padded row is one example of attention_mask's length."""
    out = []
    for b, row in enumerate(input_ids):
        if position_ids is not None:
            pos = position_ids[b]
            starts = [j for j in range(len(pos)) if int(pos[j]) == 0] or [0]
            ends = starts[1:] + [len(pos)]
            out.append([(s, e - s) for s, e in zip(starts, ends)])
        elif attention_mask is not None:
            out.append([(0, int(sum(int(x) for x in attention_mask[b])))])
        else:
            out.append([(0, len(row))])
    return out


def endpoint_topk(
    teacher: EndpointTeacher,
    input_ids: Sequence[Sequence[int]],
    labels: Sequence[Sequence[int]],
    k: int,
    position_ids=None,
    attention_mask=None,
):
    """The teacher's top-k for a batch, laid out like engine-local's stored top-k: arrays
    ids [B, W, k] int64 and logprobs [B, W, k] float32 whose entry (b, t) is the distribution of the
    token at t + 1, filled where labels[b][t + 1] counts; and target_logprob [B, W] float32 (the
    teacher's log-probability of that token, NaN where not counted). Each example with a counted
    label is one request (its own ids only, so packed neighbours never leak into it)."""
    import numpy as np

    B = len(input_ids)
    W = len(input_ids[0]) if B else 0
    ids = np.zeros((B, W, k), dtype=np.int64)
    lps = np.zeros((B, W, k), dtype=np.float32)
    target = np.full((B, W), np.nan, dtype=np.float32)
    jobs = []
    for b, segs in enumerate(segments_of(input_ids, position_ids, attention_mask)):
        for start, n in segs:
            if n >= 2 and any(int(labels[b][start + t]) != -100 for t in range(1, n)):
                jobs.append((b, start, n))
    answers = teacher.score_many([[int(x) for x in input_ids[b][s : s + n]] for b, s, n in jobs], k)
    for (b, start, n), per_pos in zip(jobs, answers):
        for t, (top, target_lp) in enumerate(per_pos):
            if int(labels[b][start + t + 1]) == -100:
                continue
            if len(top) < k:
                raise TrainerError(
                    f"teacher endpoint {teacher.name}: prompt_logprobs gave {len(top)} tokens at a position, {k} asked",
                    code="teacher_failed",
                    field="distillation.topK",
                )
            for j, (i, lp) in enumerate(top):
                ids[b, start + t, j] = i
                lps[b, start + t, j] = lp
            if target_lp is not None:
                target[b, start + t] = target_lp
    return ids, lps, target
