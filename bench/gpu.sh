#!/usr/bin/env bash
# The GPU benchmark set, as one script: under 8 minutes on one H100.
#
#   BABY_DIR=/path/to/amazon_baby_5core bash bench/gpu.sh
#
# On the Amazon Baby 5-core graph with seeded random features of the paper's sizes
# (image 4096, text 384, fused 768): training seconds per epoch of lightgcn and of anchor with
# the default and the paper presets, each step replayed from a captured CUDA graph (what the
# trainer does on CUDA), then launched eagerly for comparison (with torch.profiler op tables
# in $PROFILE_DIR), then with bfloat16 autocast (mixed precision); the evaluation time of all
# test users; then the synthetic 100k-item, 1M-interaction set (anchor default); then
# whether CUDA training keeps the sample's metrics in float32 and bfloat16, and whether the
# shipped models evaluate on CUDA to their recorded metrics (research/device_metrics.py); then
# data-parallel training with torchrun + DDP (NCCL) on 1 GPU and on every visible GPU; the
# CUDA tests of the graphed training step run first. Every
# figure comes from a bench script run with --device cuda and lands in bench/results/*.jsonl;
# the tables of docs/benchmarks.md are regenerated at the end (unless NO_REPORT is set).
#
# Exits 1 with a message, before measuring anything, when torch sees no CUDA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
BABY_DIR=${BABY_DIR:-../shared/data/amazon_baby_5core}
# each figure gets at most this long; the whole set stays under 8 minutes on one H100
STEP_TIMEOUT=${STEP_TIMEOUT:-150}
PROFILE_DIR=${PROFILE_DIR:-bench/profiles}
# when set, a tar of bench/results and the profiles is (re)written there after each figure,
# so a run cut short still hands back what it measured
RESULTS_TAR=${RESULTS_TAR:-}
export HF_HUB_OFFLINE=1

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "bench/gpu.sh: no CUDA GPU is visible to torch ($("$PY" -c 'import torch; print(torch.__version__)' 2>&1)); nothing was measured. Run it on a machine with an NVIDIA GPU and a CUDA build of torch." >&2
  exit 1
fi
if [ ! -f "$BABY_DIR/baby.inter" ]; then
  echo "bench/gpu.sh: $BABY_DIR/baby.inter not found; set BABY_DIR to the amazon_baby_5core folder." >&2
  exit 1
fi
"$PY" -c 'import torch; print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__)'

started=$SECONDS
failed=0
figure() {  # one bench run; a failure or a timeout is reported and the next figure runs
  echo "== $* ($((SECONDS - started)) s elapsed)" >&2
  if ! timeout "$STEP_TIMEOUT" "$PY" "$@"; then
    echo "bench/gpu.sh: FAILED: $*" >&2
    failed=$((failed + 1))
  fi
  if [ -n "$RESULTS_TAR" ]; then
    mkdir -p "$PROFILE_DIR"
    tar cf "$RESULTS_TAR" bench/results "$PROFILE_DIR"
  fi
}

# first the CUDA tests: the graphed step against the eager one (fp32 and bf16), and training
# with graphs against without (pytest is not a figure; a failure counts as one)
echo "== CUDA tests ($((SECONDS - started)) s elapsed)" >&2
if ! timeout "$STEP_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider tests/training/test_cuda_graphs.py; then
  echo "bench/gpu.sh: FAILED: tests/training/test_cuda_graphs.py" >&2
  failed=$((failed + 1))
fi

baby=(--dataset baby --baby-dir "$BABY_DIR")
scale=(-m bench.speed.scale_training --device cuda)
# each step replays a captured CUDA graph (the trainer's default on CUDA); the eager runs,
# every kernel launched from Python, are the comparison (with torch.profiler op tables)
figure "${scale[@]}" "${baby[@]}" --variant anchor --preset default
figure "${scale[@]}" "${baby[@]}" --variant anchor --preset paper
figure "${scale[@]}" "${baby[@]}" --variant lightgcn --preset default
figure "${scale[@]}" "${baby[@]}" --variant anchor --preset default --no-cuda-graphs \
  --profile "$PROFILE_DIR/baby_anchor_default_cuda_eager.txt"
figure "${scale[@]}" "${baby[@]}" --variant anchor --preset paper --no-cuda-graphs \
  --profile "$PROFILE_DIR/baby_anchor_paper_cuda_eager.txt"
figure "${scale[@]}" "${baby[@]}" --variant anchor --preset default --amp
figure "${scale[@]}" "${baby[@]}" --variant anchor --preset paper --amp
# synthetic 100k items / 1M interactions (its kNN graphs are built on the GPU)
figure "${scale[@]}" --dataset synthetic --variant anchor --preset default --max-epoch-seconds 45

# CUDA training keeps the metrics (float32 and bfloat16 autocast) on the sample, and the
# shipped models (trained on a CPU) evaluate on CUDA to their recorded test metrics
figure -m bench.research.device_metrics --device cuda --variants anchor

# data-parallel training (torchrun + DDP, NCCL): 1 process, and one per visible GPU when
# there are several; lightgcn, because the shared Baby copy has interactions only
n_gpus=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
nprocs=1
[ "$n_gpus" -gt 1 ] && nprocs="1,$n_gpus"
figure -m bench.speed.distributed_training --data "$BABY_DIR" --device cuda --nproc "$nprocs" --epochs 3

echo "== done in $((SECONDS - started)) s, $failed figure(s) failed" >&2
[ -n "${NO_REPORT:-}" ] || "$PY" -m bench.rebuild.report --update-docs >/dev/null
[ "$failed" -eq 0 ]
