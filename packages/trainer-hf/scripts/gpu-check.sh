#!/usr/bin/env bash
# The GPU check: pure-Python tests, the torch suite, and the packing benchmark, then a summary
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

echo "== environment"
"$PY" -m distillery_trainer check | tee "$RESULTS/check.json"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true

echo "== pure-Python tests"
"$PY" -m unittest discover -s tests -t . 2>&1 | tee "$RESULTS/unit.log"
unit_rc=${PIPESTATUS[0]}

echo "== torch suite"
"$PY" -m unittest discover -s tests_torch -t . -v 2>&1 | tee "$RESULTS/torch-suite.log"
torch_rc=${PIPESTATUS[0]}

echo "== benchmark"
"$PY" scripts/benchmark.py --out "$RESULTS/benchmark.json" --steps "${BENCH_STEPS:-40}" 2>&1 | tee "$RESULTS/benchmark.log"
bench_rc=${PIPESTATUS[0]}

echo
echo "== summary (results in $RESULTS)"
"$PY" - "$RESULTS" "$unit_rc" "$torch_rc" "$bench_rc" <<'PYEOF'
import json, os, re, sys
results, unit_rc, torch_rc, bench_rc = sys.argv[1], *map(int, sys.argv[2:5])

def suite(name, rc):
    text = open(os.path.join(results, name), encoding="utf-8", errors="replace").read()
    ran = re.findall(r"^Ran (\d+) tests?", text, re.M)
    tail = re.findall(r"^(OK.*|FAILED.*)$", text, re.M)
    return f"{'pass' if rc == 0 else 'FAIL'} | ran {ran[-1] if ran else '?'}; {tail[-1] if tail else 'no result'}"

print("| check | result |")
print("|---|---|")
print(f"| pure-Python tests | {suite('unit.log', unit_rc)} |")
print(f"| torch suite | {suite('torch-suite.log', torch_rc)} |")
bench_path = os.path.join(results, "benchmark.json")
if bench_rc == 0 and os.path.exists(bench_path):
    b = json.load(open(bench_path))
    print(f"| benchmark | pass: {b['device']}, torch {b['torch']}, {b['student_parameters']/1e6:.0f}M params, "
          f"{b['steps']} steps × batch {b['batch']}, mean {b['data']['mean_tokens']:.0f} tokens/example |")
    print()
    print("| trainer | tokens/s | peak memory (MiB) |")
    print("|---|---:|---:|")
    print(f"| distillery (packing) | {b['ours']['tokens_per_second']:,.0f} | {b['ours']['peak_memory_mb']:,.0f} |")
    print(f"| transformers.Trainer + peft (padding) | {b['baseline']['tokens_per_second']:,.0f} | {b['baseline']['peak_memory_mb']:,.0f} |")
    print(f"| ratio | {b['ratio']:.2f}× | |")
    for note in b["ours"].get("notes", []):
        print(f"\n- {note}")
else:
    print(f"| benchmark | FAIL (exit {bench_rc}); see benchmark.log |")
PYEOF
exit $(( unit_rc || torch_rc || bench_rc ))
