#!/usr/bin/env bash
# GPU check: train on M4 Hourly with --device cuda for a fixed budget and print steps/s and
# OWA beside the same machine's CPU, then the throughput table (benchmarks/throughput.py) on
# CUDA. Needs only what a CUDA machine with PyTorch already has (numpy, pandas); lstmcast
# runs from this checkout through PYTHONPATH, nothing is installed.
#
# Usage: benchmarks/gpu_check.sh [M4_DIR]        M4_DIR holds train.csv and test.csv
#                                                (default: $M4_DIR, else ../shared/benchmarks/m4_hourly)
#        benchmarks/gpu_check.sh --cpu-only [M4_DIR]   the same run without CUDA, to test the script
# Environment: BUDGET seconds of training per device (default 90), PYTHON (default python3),
#              OUT a folder for the JSON documents (default: a temporary folder).
# Wall time: two budgets plus loading, predicting and about a minute of throughput timing:
# about 5 minutes with the default budget.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu_only=0
if [[ "${1:-}" == "--cpu-only" ]]; then
    cpu_only=1
    shift
fi
m4="${1:-${M4_DIR:-../shared/benchmarks/m4_hourly}}"
budget="${BUDGET:-90}"
py="${PYTHON:-python3}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

fail() {
    echo "gpu_check: $*" >&2
    exit 2
}

# One interpreter start answers both questions: can it run lstmcast, and does it see CUDA.
cuda="$("$py" -c 'import numpy, pandas, torch; print(torch.__version__, torch.cuda.is_available())' 2>/dev/null)" ||
    fail "$py cannot import torch, numpy and pandas; set PYTHON to an interpreter that can"
if [[ $cpu_only == 0 && "$cuda" != *True ]]; then
    fail "no CUDA device: torch ${cuda% *} sees none (use --cpu-only to test the script without one)"
fi
[[ -f "$m4/train.csv" && -f "$m4/test.csv" ]] ||
    fail "no M4 Hourly data in '$m4' (pass the folder holding train.csv and test.csv)"

devices="cpu"
[[ $cpu_only == 0 ]] && devices="cuda cpu"
"$py" - <<'EOF'
import os, platform, torch
gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, GPU {gpu}, "
      f"{os.cpu_count()} CPU cores ({torch.get_num_threads()} torch threads), {platform.machine()}")
EOF

for device in $devices; do
    echo "== M4 Hourly on $device, ${budget} s of training"
    "$py" benchmarks/m4_hourly.py "$m4" --set device="$device" --time-budget "$budget" --json \
        >"$out/m4_$device.json"
done
throughput_device=cuda
[[ $cpu_only == 1 ]] && throughput_device=cpu
echo "== training loop throughput on $throughput_device"
"$py" benchmarks/throughput.py "$m4" --device "$throughput_device" --json --steps 40 --warmup 10 \
    >"$out/throughput_$throughput_device.json"

"$py" - "$out" $devices <<'EOF'
import json, sys
from pathlib import Path

out, devices = Path(sys.argv[1]), sys.argv[2:]
print(f"\n{'device':<8}{'steps':>7}{'train s':>9}{'steps/s':>9}{'stop':>14}{'sMAPE':>8}{'MASE':>7}{'OWA':>7}")
for device in devices:
    d = json.loads((out / f"m4_{device}.json").read_text())
    m = d["lstmcast"]
    print(f"{device:<8}{d['steps']:>7}{d['train_seconds']:>9.1f}{d['steps'] / d['train_seconds']:>9.1f}"
          f"{d['stop_reason']:>14}{m['smape']:>8.3f}{m['mase']:>7.3f}{m['owa']:>7.3f}")
print("(steps/s over the whole fit, validation included; seasonal naive OWA 0.628)")
(t,) = [json.loads(p.read_text()) for p in out.glob("throughput_*.json")]
print(f"\nthroughput on {t['device']} (medians, batch {t['batch_size']}):")
for k, s in t["step_seconds"].items():
    print(f"  {k:<10}{1e3 * s:8.2f} ms/step {1 / s:8.1f} steps/s {t['lstm_gflops'][k]:9.1f} LSTM GFLOP/s")
print(f"  matmul at the LSTM's shapes {t['matmul_gflops']:.1f} GFLOP/s; "
      f"lstmcast / minimal step time {t['lstmcast_over_minimal']:.3f}")
print(f"JSON documents in {out}")
EOF
