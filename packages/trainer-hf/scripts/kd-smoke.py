"""GPU check step "logit KD": the trainer's CLI on a tiny random Llama, distilling
  1. from a stored teacher-logits artifact computed by the CPU engine (tests/fixtures/teacher-logits:
     engine-local's teacher_logits.safetensors, its tokenizer and the train.jsonl it was computed
     on), packed and unpacked: the run must read the artifact (no teacher model exists here), its
     KD loss must fall, and the rows must tokenize to engine-local's ids;
  2. from a teacher endpoint: a local HTTP server in this process speaking vLLM's /v1/completions
     `prompt_logprobs` for a second tiny Llama on the GPU, in logit and on-policy modes.
Prints one JSON line per run and writes --out (JSON) with a one-line figure for the summary table.
Nothing is downloaded. Exit 0 only when every run passes.

  PYTHONPATH=python python scripts/kd-smoke.py --out /tmp/kd.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(PACKAGE_DIR, "tests", "fixtures", "teacher-logits")


def make_model(out_dir: str, vocab: int, seed: int, hidden: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=5,
        eos_token_id=4,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(FIXTURE, "artifact", "tokenizer.json"), eos_token="<|end|>", bos_token="<s>")
    tok.save_pretrained(out_dir)
    return model, tok


def job(work: str, name: str, model_dir: str, distillation: dict, paths: dict, packing: bool, steps: int) -> str:
    out = {
        "runId": f"run_{name}",
        "config": {
            "engine": "hf",
            "model": {"id": "tiny-student"},
            "data": {"datasetVersionId": "dsv_fixture", "template": "phi3", "evalFraction": 0},
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "targetModules": ["all-linear"]},
            "training": {
                "maxSteps": steps,
                "perDeviceBatchSize": 2,
                "gradientAccumulationSteps": 1,
                "learningRate": 5e-3,
                "warmupRatio": 0.0,
                "maxGradNorm": 1.0,
                "precision": "bf16",
                "maxSeqLength": 32,
                "packing": packing,
                "loggingSteps": 1,
                "evalStrategy": "no",
                "saveStrategy": "no",
            },
            "distillation": distillation,
            "merge": {"mergeAndUnload": False},
        },
        "paths": {"baseModel": model_dir, "trainData": os.path.join(FIXTURE, "train.jsonl"), "outDir": os.path.join(work, name), **paths},
        "samplePrompts": [],
    }
    path = os.path.join(work, f"{name}.job.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f)
    return path


def run(job_path: str, timeout: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.path.join(PACKAGE_DIR, "python"), "TOKENIZERS_PARALLELISM": "false"}
    t0 = time.time()
    try:
        res = subprocess.run(
            [sys.executable, "-m", "distillery_trainer", "train", "--config", job_path], capture_output=True, text=True, env=env, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        res = subprocess.CompletedProcess(e.cmd, 124, out, err + f"\ntimed out after {timeout} s")
    events = []
    for line in res.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:  # a line cut by a timeout
            pass
    series = lambda key: [e["values"][key] for e in events if e["type"] == "metric" and key in e["values"]]  # noqa: E731
    errors = [e for e in events if e["type"] == "error"]
    logs = [e["message"] for e in events if e["type"] == "log"]
    return {
        "rc": res.returncode,
        "seconds": round(time.time() - t0, 1),
        "kd": series("kd_loss"),
        "top1": series("top1_agreement"),
        "teacher_logprob": series("teacher_logprob"),
        "sampled_length": series("sampled_length"),
        "tokens_per_second": series("tokens_per_second"),
        "done": any(e["type"] == "done" for e in events),
        "error": errors[0] if errors else None,
        "logs": logs,
        "stderr": res.stderr[-2000:],
    }


def falls(xs: list) -> bool:
    n = max(1, min(3, len(xs) // 3))
    return len(xs) >= 6 and sum(xs[-n:]) / n < sum(xs[:n]) / n


def summary(name: str, r: dict, extra_ok: bool = True, must_fall: bool = True) -> dict:
    finite = bool(r["kd"]) and all(x == x and abs(x) != float("inf") for x in r["kd"])
    # on-policy batches are new samples every step: its KD need not fall in a few steps
    ok = r["rc"] == 0 and r["done"] and finite and (falls(r["kd"]) or not must_fall) and extra_ok
    out = {
        "run": name,
        "ok": ok,
        "seconds": r["seconds"],
        "kd_first": round(r["kd"][0], 4) if r["kd"] else None,
        "kd_last": round(r["kd"][-1], 4) if r["kd"] else None,
        "top1_last": round(r["top1"][-1], 3) if r["top1"] else None,
    }
    if r["teacher_logprob"]:
        out["teacher_logprob_last"] = round(r["teacher_logprob"][-1], 3)
    if r["sampled_length"]:
        out["sampled_length_mean"] = round(sum(r["sampled_length"]) / len(r["sampled_length"]), 1)
    if not ok:
        out["error"] = r["error"]
        out["stderr_tail"] = r["stderr"][-600:]
    print(json.dumps(out), flush=True)
    return out


def start_endpoint(model, device, model_name: str):
    """vLLM's prompt_logprobs protocol over a real (tiny) model: per prompt position j ≥ 1 the top-k
    of the distribution of token j plus token j itself, ranks 1-based; the first entry null."""
    import torch

    lock = threading.Lock()
    served = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ids, k = body["prompt"], int(body["prompt_logprobs"])
            with lock, torch.no_grad():
                served["requests"] += 1
                logits = model(input_ids=torch.tensor([ids], device=device)).logits[0].float()
                lp = torch.log_softmax(logits, -1).cpu()
            plp = [None]
            for j in range(1, len(ids)):
                row = lp[j - 1]
                top = torch.topk(row, k)
                entry = {str(int(i)): {"logprob": float(v), "rank": r + 1, "decoded_token": ""} for r, (v, i) in enumerate(zip(top.values, top.indices))}
                actual = ids[j]
                if str(actual) not in entry:
                    entry[str(actual)] = {"logprob": float(row[actual]), "rank": int((row > row[actual]).sum()) + 1, "decoded_token": ""}
                plp.append(entry)
            data = json.dumps({"id": "c", "object": "text_completion", "model": model_name, "choices": [{"index": 0, "text": "", "prompt_logprobs": plp, "finish_reason": "length"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}", served


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--run-timeout", type=int, default=45)
    args = ap.parse_args()
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with open(os.path.join(FIXTURE, "expected.json"), encoding="utf-8") as f:
        fx = json.load(f)
    work = tempfile.mkdtemp(prefix="distillery-kd-smoke-")
    student_dir, teacher_dir = os.path.join(work, "student"), os.path.join(work, "teacher")
    _, tok = make_model(student_dir, fx["vocab"], 0, 64)
    teacher, _ = make_model(teacher_dir, fx["vocab"], 1, 96)
    results = []

    # the transformers tokenizer must give the ids engine-local stored the logits for
    with open(os.path.join(FIXTURE, "train.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    same = sum(
        tok(r["prompt"], add_special_tokens=False)["input_ids"] == e["promptIds"]
        and tok(r["completion"], add_special_tokens=False)["input_ids"] == e["completionIds"]
        for r, e in zip(rows, fx["rows"])
    )
    tok_ok = same == len(rows)
    print(json.dumps({"run": "tokenizer", "ok": tok_ok, "rows_equal_to_engine_local": f"{same}/{len(rows)}"}), flush=True)

    stored = {"mode": "logit", "teacher": {"modelId": "tiny-teacher"}, "teacherLogits": {"artifactId": "fixture"}, "topK": 4, "temperature": 1.0, "alpha": 0.0}
    for packing in (True, False):
        name = f"stored-{'packed' if packing else 'padded'}"
        r = run(job(work, name, student_dir, stored, {"teacherLogits": os.path.join(FIXTURE, "artifact")}, packing, args.steps), args.run_timeout)
        read_it = any("from stored teacher logits" in m for m in r["logs"])
        results.append(summary(name, r, read_it and tok_ok))

    teacher.to(device=device, dtype=torch.bfloat16 if device.type == "cuda" else torch.float32).eval()
    httpd, url, served = start_endpoint(teacher, device, "tiny-teacher")
    try:
        endpoint = {"name": "tiny-teacher endpoint", "baseUrl": url, "model": "tiny-teacher"}
        base = {"teacherEndpoint": {"teacherId": "t"}, "topK": 8, "temperature": 1.0, "alpha": 0.0}
        r = run(job(work, "endpoint-logit", student_dir, {"mode": "logit", **base}, {"teacherEndpoint": endpoint}, True, args.steps), args.run_timeout)
        results.append(summary("endpoint-logit", r, bool(r["teacher_logprob"])))
        onp = {"mode": "on-policy", **base, "lmbda": 1.0, "maxNewTokens": 12, "samplingTemperature": 1.0}
        r = run(job(work, "endpoint-on-policy", student_dir, onp, {"teacherEndpoint": endpoint}, False, max(8, args.steps // 2)), args.run_timeout)
        results.append(summary("endpoint-on-policy", r, bool(r["sampled_length"]), must_fall=False))
    finally:
        httpd.shutdown()
    ok = all(r["ok"] for r in results) and tok_ok
    figure = "; ".join(
        f"{r['run']} {'ok' if r['ok'] else 'FAIL'} kd {r['kd_first']}→{r['kd_last']}" + (f" len {r['sampled_length_mean']}" if "sampled_length_mean" in r else "")
        for r in results
    )
    figure = f"tokenizer {same}/{len(rows)} rows = engine-local; {figure}; endpoint requests {served['requests']}"
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"ok": ok, "runs": results, "figure": figure, "device": str(device), "torch": torch.__version__}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
