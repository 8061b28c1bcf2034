#!/usr/bin/env bash
# The prepared GPU check: the full-size figures only a GPU can give, in one command of <= 9 minutes.
#
#   benchmarks/device_check.sh              # on a machine with one NVIDIA GPU (from the repo root)
#   benchmarks/device_check.sh --dry-run    # the same steps at toy size on the CPU (the tests run it)
#
# Everything goes into one folder, $OUT (default benchmarks/results/device-check-<date>): what the
# machine is, the GPU tests, and each step's log and JSON, with summary.txt / summary.json saying
# what ran, what was skipped and why. Each step is time-boxed by what is left of the budget
# (DEVICE_CHECK_BUDGET_S, default 540 s; dry run 300 s) and skipped with a message when too little
# is left. Steps, most important first:
#   1. pytest tests/test_gan_cuda.py (graph replay, batched == separate, CUDA resume)
#   2. the engine's s / GAN-epoch at K = 100 and K = 1000, IEEE float32 and TF32 side by side
#      (bf16: the engine has no bf16 mode — reported as skipped)
#   3. the low-level classifier's training and inference showers/s from chunked HDF5 at the
#      paper's network size, and the extrapolated paper workload (1 epoch on 500k + 500k,
#      inference on 500k)
#   4. the camel back's 100 single GANs at the paper's size (10,000 epochs, 100 points) as one
#      packed block with what time is left (~5 min: about half the epochs on an H100 in float32),
#      N_eq and amplification at K = 10, 20, 50 against the paper's. It checkpoints into $OUT:
#      copy the folder that came back into the checkout, carry it, and run again with OUT set to
#      it — the training resumes where it stopped (the summary says how many epochs it reached)
#   5. the learned shower generator's (calorimeter.trained) generation and training showers/s on
#      dataset 1 photons and dataset 2, CPU and GPU side by side, next to the simulator's
# Needs Python with torch, numpy, scipy, h5py; installs what else it needs (pyyaml, jsonschema,
# iminuit, pytest) from the wheels in $WHEELS (default .device-wheels, made here by
# `make device-wheels`) when they are missing, and says so. The package runs from ./src.
set -u
cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
PY=${PYTHON:-python3}
OUT=${OUT:-benchmarks/results/device-check-$(date +%Y-%m-%d)}
WHEELS=${WHEELS:-.device-wheels}
if [ "$DRY" = 1 ]; then BUDGET=${DEVICE_CHECK_BUDGET_S:-300}; else BUDGET=${DEVICE_CHECK_BUDGET_S:-540}; fi
START=$(date +%s)
mkdir -p "$OUT"
: > "$OUT/summary.txt"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

say() { echo "$*" | tee -a "$OUT/summary.txt"; }
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
# step NAME SECONDS_NEEDED COMMAND...: run it time-boxed into $OUT/NAME.log, or skip it
step() {
  local name=$1 need=$2 t0 rc
  shift 2
  if [ "$(left)" -lt "$need" ]; then
    say "SKIPPED $name: needs ~${need} s, $(left) s of the budget left"
    return 0
  fi
  t0=$(date +%s)
  timeout $(( $(left) - 5 )) "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  say "$name: exit $rc after $(( $(date +%s) - t0 )) s (log: $name.log)"
}

say "# device check $([ "$DRY" = 1 ] && echo '(dry run, toy sizes)') $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${BUDGET} s"
# -- set-up: what is missing comes from the carried wheels -----------------------------------------
missing=$("$PY" - <<'EOF'
import importlib.util
need = {"yaml": "pyyaml", "jsonschema": "jsonschema", "iminuit": "iminuit", "pytest": "pytest"}
print(" ".join(p for m, p in need.items() if importlib.util.find_spec(m) is None))
EOF
)
if [ -n "$missing" ]; then
  if [ -d "$WHEELS" ]; then
    say "installing from $WHEELS: $missing"
    for package in $missing; do
      "$PY" -m pip install -q --no-index --find-links "$WHEELS" "$package" >> "$OUT/setup.log" 2>&1 \
        || say "installing $package failed (setup.log)"
    done
  else
    say "missing and no $WHEELS to install them from: $missing (make device-wheels)"
  fi
fi
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(hostname) $(uname -m), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1048576)}' /proc/meminfo) GiB"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null \
    || echo "gpu: none (nvidia-smi not found)"
  "$PY" -c "import sys, torch; print('python', sys.version.split()[0], '| torch', torch.__version__, '| cuda', torch.version.cuda, '| available', torch.cuda.is_available())"
} > "$OUT/machine.txt" 2>&1
say "machine: $(tr '\n' ' ' < "$OUT/machine.txt" | cut -c1-300)"

if [ "$DRY" = 1 ]; then
  DEVICE=cpu; KS="2 4"; ARCH=demo; EPOCHS=1; NET=demo; SHOWERS=64; WORKERS=0
  RUNS=3; CAMEL=(--set training.epochs=4 --set architecture.latent_dim=8 --set architecture.g_hidden=16
                 --set architecture.g_layers=2 --set architecture.d_hidden=16 --set architecture.d_layers=2
                 --set "architecture.embedding=[16,16,4]")
else
  DEVICE=cuda; KS="100 1000"; ARCH=paper; EPOCHS=3; NET=paper; SHOWERS=4096; WORKERS=8
  RUNS=100; CAMEL=()
fi

step pytest_gpu 60 "$PY" -m pytest -q tests/test_gan_cuda.py
for precision in highest high; do
  step "engine_${precision}" 40 "$PY" benchmarks/gan_throughput.py --device "$DEVICE" --ks $KS \
    --epochs "$EPOCHS" --loop-models 1 --arch "$ARCH" --matmul-precision "$precision"
done
say "SKIPPED engine_bf16: the GAN engine has no bfloat16 mode (float32 and TF32 only)"
step ll_classifier 60 "$PY" benchmarks/ll_classifier_throughput.py --net "$NET" \
  --showers "$SHOWERS" --workers "$WORKERS" --devices "$DEVICE"
if [ "$DRY" = 1 ]; then GEN=(--geometries dataset1-photons --devices cpu --showers 100 --train-showers 100)
else GEN=(--devices cpu cuda --showers 5000 --train-showers 5000); fi
step shower_generator 45 "$PY" benchmarks/generator_throughput.py "${GEN[@]}"
# the camel back gets what is left, minus a minute for generating and scoring 100 x 100,000 events
minutes=$(( ($(left) - 60) / 60 ))
if [ "$minutes" -ge 1 ]; then
  step camelback_100 60 "$PY" benchmarks/validate_paper_gan.py --runs "$RUNS" --device "$DEVICE" \
    --out "$OUT/camelback_100.json" --checkpoint "$OUT/camelback_100.ckpt" \
    --max-minutes "$minutes" "${CAMEL[@]}"
else
  say "SKIPPED camelback_100: $(left) s left, needs more than a minute"
fi
"$PY" benchmarks/device_check_summary.py "$OUT" >> "$OUT/summary.txt" 2>&1
say "# done in $(( $(date +%s) - START )) s; files in $OUT"
