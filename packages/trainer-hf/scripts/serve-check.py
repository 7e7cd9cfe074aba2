"""GPU check step "serve": `python -m distillery_trainer.serve` on a tiny random Llama (transformers
on the GPU), started as a GPU worker starts it (its own process, the key in
DISTILLERY_SERVE_API_KEY), then over HTTP: the model listed on /v1/models (load time), a
non-stream chat (usage, finish_reason), n = 2 with a seed and logprobs, a stream ending in
[DONE], an unknown model (404 naming `model`), a wrong key (401), and decode tokens/s at 1 and
8 concurrent streams (the batching). Writes --out (JSON) with a one-line figure for the summary.
Nothing is downloaded. Exit 0 only when every check passes.

  PYTHONPATH=python python scripts/serve-check.py --out /tmp/serve.json
  PYTHONPATH=python python3 scripts/serve-check.py --engine scripted   # the HTTP side, without torch
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "serve-check-key"
NAME = "tiny-serve"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body=None, key: str = KEY, timeout: float = 60.0):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("authorization", f"Bearer {key}")
    if body is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def stream(url: str, body) -> tuple:
    """(pieces of content and reasoning, saw [DONE], completion tokens from usage, seconds to the first token)"""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("authorization", f"Bearer {KEY}")
    req.add_header("content-type", "application/json")
    pieces, done, tokens, first = [], False, 0, 0.0
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as res:
        for raw in res:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            chunk = json.loads(data)
            if "error" in chunk:
                raise RuntimeError(chunk["error"]["message"])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for c in chunk.get("choices", []):
                d = c.get("delta", {})
                piece = (d.get("content") or "") + (d.get("reasoning_content") or "")
                if piece:
                    first = first or time.perf_counter() - started
                    pieces.append(piece)
    return pieces, done, tokens, first


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "serve-check.json"))
    ap.add_argument("--engine", default="transformers", choices=["transformers", "scripted"])
    ap.add_argument("--tokens", type=int, default=64, help="tokens per stream in the speed part")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="serve-check-")
    model_dir = os.path.join(work, "model")
    os.makedirs(model_dir)
    extra = []
    if args.engine == "transformers":
        sys.path.insert(0, PACKAGE_DIR)
        from tests_torch.helpers import make_tiny_llama

        make_tiny_llama(model_dir, hidden_size=128, num_layers=2)
    else:
        extra = ["--script", "We add 2 and 2.</think>\n\nThe answer is \\boxed{4}." * 4, "--script-delay", "0.001"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DISTILLERY_SERVE_API_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "distillery_trainer.serve", "--model", model_dir, "--served-name", NAME,
           "--port", str(port), "--engine", args.engine, "--max-batch", "8", *extra]
    log = open(os.path.join(work, "serve.log"), "w")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    result = {"engine": args.engine, "checks": {}, "errors": []}
    checks = result["checks"]

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks[name] = ok
        print(json.dumps({"check": name, "ok": ok, "detail": detail[:300]}), flush=True)
        if not ok:
            result["errors"].append(f"{name}: {detail[:300]}")

    try:
        listed = False
        while time.perf_counter() - started < 40 and proc.poll() is None:
            try:
                status, text = call(f"{base}/v1/models", timeout=2)
                if status == 200 and any(m["id"] == NAME for m in json.loads(text)["data"]):
                    listed = True
                    break
            except OSError:
                pass
            time.sleep(0.2)
        result["load_s"] = round(time.perf_counter() - started, 2)
        check("listed", listed, f"exit {proc.poll()}" if not listed else f"{result['load_s']} s")
        if not listed:
            raise RuntimeError("the server never listed the model")
        chat = f"{base}/v1/chat/completions"
        ask = [{"role": "user", "content": "w1 w2 w3"}]
        status, text = call(chat, {"model": NAME, "messages": ask, "max_tokens": 16, "temperature": 0, "ignore_eos": True})
        body = json.loads(text)
        check("non-stream", status == 200 and body["usage"]["completion_tokens"] == 16
              and body["choices"][0]["finish_reason"] == "length", text[:200])
        status, text = call(chat, {"model": NAME, "messages": ask, "max_tokens": 8, "n": 2, "seed": 3,
                                   "temperature": 0.8, "logprobs": True, "top_logprobs": 2, "ignore_eos": True})
        body = json.loads(text)
        lp = body["choices"][0].get("logprobs", {}).get("content", []) if status == 200 else []
        check("n=2 + logprobs", status == 200 and len(body["choices"]) == 2 and len(lp) == 8
              and len(lp[0]["top_logprobs"]) == 2, text[:200])
        pieces, done, tokens, _ = stream(chat, {"model": NAME, "messages": ask, "max_tokens": 12, "stream": True,
                                                 "stream_options": {"include_usage": True}, "ignore_eos": True})
        check("stream", done and tokens == 12 and len(pieces) > 0, f"done={done} tokens={tokens} pieces={len(pieces)}")
        status, text = call(chat, {"model": "nope", "messages": ask})
        check("unknown model 404", status == 404 and json.loads(text)["error"]["param"] == "model", text[:200])
        status, _ = call(f"{base}/v1/models", key="wrong")
        check("wrong key 401", status == 401, str(status))

        # decode speed: 1 stream, then 8 at once (one batch)
        body = {"model": NAME, "messages": ask, "max_tokens": args.tokens, "stream": True,
                "stream_options": {"include_usage": True}, "ignore_eos": True, "temperature": 0}

        def run(n: int) -> tuple:
            out = [None] * n

            def one(i: int) -> None:
                out[i] = stream(chat, body)

            t0 = time.perf_counter()
            threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - t0
            total = sum(o[2] for o in out if o)
            return total / seconds, max(o[3] for o in out if o)

        run(1)  # warm-up (kernels, allocator)
        tps1, ttft1 = run(1)
        tps8, ttft8 = run(8)
        result.update(tps_1=round(tps1, 1), tps_8=round(tps8, 1), ratio_8=round(tps8 / tps1, 2),
                      ttft_1_ms=round(ttft1 * 1000, 1), ttft_8_ms=round(ttft8 * 1000, 1))
    except Exception as e:  # noqa: BLE001 - reported in the figure, and the exit code
        result["errors"].append(f"{type(e).__name__}: {e}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    ok = not result["errors"] and all(checks.values()) and len(checks) == 6
    passed = sum(1 for v in checks.values() if v)
    if "tps_1" in result:
        figure = (f"{passed}/6 checks; load {result['load_s']} s; {result['tps_1']:.0f} tok/s 1 stream, "
                  f"{result['tps_8']:.0f} tok/s 8 streams ({result['ratio_8']}×); ttft {result['ttft_1_ms']:.0f} ms")
    else:
        figure = f"{passed}/6 checks; " + "; ".join(result["errors"])[:200]
    if not ok and result["errors"]:
        with open(os.path.join(work, "serve.log"), encoding="utf-8", errors="replace") as f:
            result["serve_log_tail"] = f.read()[-2000:]
    result["figure"] = figure
    result["ok"] = ok
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(figure)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
