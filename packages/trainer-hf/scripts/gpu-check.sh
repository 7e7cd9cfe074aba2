#!/usr/bin/env bash
# The GPU check: pure-Python tests, the torch suite, the packing benchmark and the logit-KD smoke
# step (scripts/kd-smoke.py: from a stored teacher-logits artifact and from an endpoint), then a summary
# table. Runs as-is on a machine with torch + transformers + peft + accelerate and one CUDA GPU;
# downloads nothing. Results go to $GPU_CHECK_OUT (default: $OUT when set, else a temp dir).
#   bash packages/trainer-hf/scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
RESULTS=${GPU_CHECK_OUT:-${OUT:-$(mktemp -d /tmp/distillery-gpu-check.XXXXXX)}}
mkdir -p "$RESULTS"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export PYTHONUNBUFFERED=1

# Each stage has a time limit so that the summary always prints, within one ~8-minute slot
# (40 + 170 + 110 + 100 + serve 60 = 480 s at worst, under a 10-minute device command):
# `timeout` signals its whole process group (the trainer subprocesses included), then kills
# it 15 s later. Override with GPU_CHECK_{UNIT,TORCH,BENCH,KD}_TIMEOUT (seconds).
UNIT_TIMEOUT=${GPU_CHECK_UNIT_TIMEOUT:-40}
TORCH_TIMEOUT=${GPU_CHECK_TORCH_TIMEOUT:-170}
BENCH_TIMEOUT=${GPU_CHECK_BENCH_TIMEOUT:-110}
KD_TIMEOUT=${GPU_CHECK_KD_TIMEOUT:-100}
: > "$RESULTS/durations.txt"

# run_stage NAME LIMIT LOG COMMAND...: runs COMMAND under `timeout`, output to the terminal and
# LOG; records "NAME SECONDS RC" in durations.txt and sets STAGE_RC.
run_stage() {
  local name=$1 limit=$2 log=$3
  shift 3
  local start=$SECONDS
  timeout --kill-after=15 "$limit" "$@" 2>&1 | tee "$RESULTS/$log"
  STAGE_RC=${PIPESTATUS[0]}
  echo "$name $((SECONDS - start)) $STAGE_RC" >> "$RESULTS/durations.txt"
}
# A stage may write one line to $RESULTS/figure-NAME.txt: the summary table shows it.

echo "== environment"
timeout 60 "$PY" -m distillery_trainer check | tee "$RESULTS/check.json"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true

echo "== pure-Python tests"
run_stage unit "$UNIT_TIMEOUT" unit.log "$PY" -m unittest discover -s tests -t .
unit_rc=$STAGE_RC

echo "== torch suite"
run_stage torch "$TORCH_TIMEOUT" torch-suite.log "$PY" -m unittest discover -s tests_torch -t . -v
torch_rc=$STAGE_RC

echo "== benchmark"
run_stage benchmark "$BENCH_TIMEOUT" benchmark.log "$PY" scripts/benchmark.py --out "$RESULTS/benchmark.json" --steps "${BENCH_STEPS:-40}"
bench_rc=$STAGE_RC

# --- logit KD (trainer-hf): from engine-local's stored teacher-logits artifact (packed and
# padded), and from a teacher endpoint speaking vLLM's prompt_logprobs (logit and on-policy)
echo "== logit KD from a stored artifact and an endpoint"
run_stage kd "$KD_TIMEOUT" kd.log "$PY" scripts/kd-smoke.py --out "$RESULTS/kd.json"
kd_rc=$STAGE_RC
"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["figure"])' "$RESULTS/kd.json" > "$RESULTS/figure-kd.txt" 2>/dev/null || true
# --- end logit KD

# --- serve (issue 14): `python -m distillery_trainer.serve` on a tiny Llama with transformers on
# the GPU, started as a GPU worker starts it; /v1 checks and decode tokens/s at 1 and 8 streams
SERVE_TIMEOUT=${GPU_CHECK_SERVE_TIMEOUT:-60}
echo "== serve (transformers on the GPU)"
run_stage serve "$SERVE_TIMEOUT" serve.log "$PY" scripts/serve-check.py --out "$RESULTS/serve.json"
serve_rc=$STAGE_RC
"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["figure"])' "$RESULTS/serve.json" > "$RESULTS/figure-serve.txt" 2>/dev/null || true
# --- end serve

echo
echo "== summary (results in $RESULTS)"
"$PY" - "$RESULTS" "$unit_rc" "$torch_rc" "$bench_rc" <<'PYEOF'
import json, os, re, sys
results, unit_rc, torch_rc, bench_rc = sys.argv[1], *map(int, sys.argv[2:5])

def read(name):
    try:
        with open(os.path.join(results, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""

durations = {}
stages = []  # (name, seconds, rc) in the order they ran
for line in read("durations.txt").splitlines():
    parts = line.split()
    if len(parts) == 3:
        durations[parts[0]] = f"{parts[1]} s"
        stages.append((parts[0], parts[1], int(parts[2])))

def verdict(rc):
    return "pass" if rc == 0 else ("TIMED OUT" if rc in (124, 137) else f"FAIL (exit {rc})")

def suite(name, rc):
    text = read(name)
    ran = re.findall(r"^Ran (\d+) tests?", text, re.M)
    tail = re.findall(r"^(OK.*|FAILED.*)$", text, re.M)
    return f"{verdict(rc)}: ran {ran[-1] if ran else '?'}; {tail[-1] if tail else 'no result'}"

try:
    check = json.loads(read("check.json") or "{}")
except ValueError:
    check = {}
versions = ", ".join(f"{k} {v}" for k, v in sorted(check.get("versions", {}).items())) or "check failed"

# one row per stage, whatever stages ran: step, ok/fail, seconds, its figure
FIGURES = {"unit": lambda: suite("unit.log", 0).split(": ", 1)[1], "torch": lambda: suite("torch-suite.log", 0).split(": ", 1)[1]}
print(f"environment: {versions}")
print()
print("| step | result | seconds | figure |")
print("|---|---|---:|---|")
for name, seconds, rc in stages:
    figure = read(f"figure-{name}.txt").strip() or (FIGURES[name]() if name in FIGURES else "")
    if name == "benchmark":
        try:
            bj = json.loads(read("benchmark.json") or "{}")
            figure = f"{bj['ours']['tokens_per_second']:,.0f} vs {bj['baseline']['tokens_per_second']:,.0f} tokens/s ({bj['ratio']:.2f}×)"
        except (ValueError, KeyError, TypeError):
            figure = figure or "see benchmark.log"
    if not figure and rc != 0:  # the last line of its log says why
        tail = [l for l in read(f"{name}.log").splitlines() if l.strip()]
        figure = tail[-1][:200] if tail else ""
    print(f"| {name} | {'ok' if rc == 0 else verdict(rc)} | {seconds} | {figure.replace('|', '/')} |")
try:
    b = json.loads(read("benchmark.json") or "{}")
except ValueError:
    b = {}
if b:
    print()
    print(f"benchmark: {b['device']}, torch {b['torch']}, {b['student_parameters']/1e6:.0f}M params, "
          f"{b['steps']} steps × batch {b['batch']}, mean {b['data']['mean_tokens']:.0f} tokens/example")
    print()
    print("| trainer | tokens/s | peak memory (MiB) |")
    print("|---|---:|---:|")
    for key, label in (("ours", "distillery (packing)"), ("baseline", "transformers.Trainer + peft (padding)")):
        r = b.get(key)
        if r:
            print(f"| {label} | {r['tokens_per_second']:,.0f} | {r['peak_memory_mb']:,.0f} |")
        else:
            print(f"| {label} | failed: {b.get('errors', {}).get(key, '?')} | |")
    if "ratio" in b:
        print(f"| ratio | {b['ratio']:.2f}× | |")
    for note in (b.get("ours") or {}).get("notes", []):
        print(f"\n- {note}")
PYEOF
exit $(( unit_rc || torch_rc || bench_rc || kd_rc || serve_rc ))
