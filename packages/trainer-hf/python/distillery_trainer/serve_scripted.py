"""A scripted stand-in for serve.Runner: `python -m distillery_trainer.serve --engine scripted`.

It answers every request with the same text (one character a token, a token every `delay`
seconds) and needs neither torch nor a GPU, so the whole serve process — argument parsing,
the HTTP server, the OpenAI protocol, start-up and shutdown — runs where there is no GPU: the
studio's tests start it exactly as a GPU worker starts the real thing. Never a real model.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional


class CharTokenizer:
    def convert_ids_to_tokens(self, i: int) -> str:
        return chr(i)


class ScriptedRunner:
    """serve.Runner's interface: `render_chat`, `encode`, `decode`, `submit`, `context`, `active`."""

    def __init__(self, script: str, context: int = 256, delay: float = 0.0):
        self.script = script
        self.context = context
        self.delay = delay
        self.tokenizer = CharTokenizer()
        self.device = "scripted"
        self.max_batch = 0
        self.active = 0
        self.cancelled_rows = 0
        self.seeds: List[Optional[int]] = []
        self._lock = threading.Lock()

    def render_chat(self, messages: List[Dict[str, str]]) -> str:
        return "".join(f"<|{m['role']}|>{m['content']}" for m in messages) + "<|assistant|><think>\n"

    def encode(self, text: str) -> List[int]:
        return [ord(c) for c in text]

    def decode(self, ids: List[int]) -> str:
        return "".join(chr(i) for i in ids)

    def submit(self, seqs: List[Any]) -> None:
        for s in seqs:
            self.seeds.append(s.choice_seed)
            threading.Thread(target=self._run, args=(s,), daemon=True).start()

    def _run(self, s: Any) -> None:
        from . import serve  # serve imports this module lazily: no cycle at import time

        with self._lock:
            self.active += 1
        try:
            for ch in self.script:
                if s.cancelled.is_set():
                    with self._lock:
                        self.cancelled_rows += 1
                    return
                s.generated += 1
                ev = serve.TokenEvent(ord(ch))
                if s.params.top_logprobs >= 0:
                    ev.logprob = -0.5
                    ev.top = [(ord(ch), -0.5), (ord("?"), -1.5)][: s.params.top_logprobs]
                s.out.put(("token", ev))
                if s.generated >= s.max_new:
                    s.out.put(serve.DONE_LENGTH)
                    return
                if self.delay:
                    time.sleep(self.delay)
            s.out.put(serve.DONE_STOP)
        finally:
            with self._lock:
                self.active -= 1
