#!/usr/bin/env bash
# The GPU benchmark set, as one script: under 8 minutes on one H100.
#
#   BABY_DIR=/path/to/amazon_baby_5core bash bench/gpu.sh
#
# On the Amazon Baby 5-core graph with seeded random features of the paper's sizes
# (image 4096, text 384, fused 768): training seconds per epoch of lightgcn, anchor with the
# default and the paper presets, each in float32 and with bfloat16 autocast (mixed
# precision), and the evaluation time of all test users; then the synthetic 100k-item,
# 1M-interaction set (lightgcn and anchor default); then a 1-epoch torchrun/DDP run over every
# visible GPU (NCCL backend). Every figure comes from bench/scale_training.py --device cuda
# and lands in bench/results/*.jsonl; the README table is regenerated at the end.
#
# Exits 1 with a message, before measuring anything, when torch sees no CUDA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
BABY_DIR=${BABY_DIR:-../shared/data/amazon_baby_5core}
# each figure gets at most this long; the whole set stays under 8 minutes on one H100
STEP_TIMEOUT=${STEP_TIMEOUT:-150}
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
figure() {
  echo "== scale_training.py --device cuda $* ($((SECONDS - started)) s elapsed)" >&2
  timeout "$STEP_TIMEOUT" "$PY" bench/scale_training.py --device cuda "$@"
}

baby=(--dataset baby --baby-dir "$BABY_DIR")
figure "${baby[@]}" --variant lightgcn --preset default
figure "${baby[@]}" --variant anchor --preset default
figure "${baby[@]}" --variant anchor --preset default --amp
figure "${baby[@]}" --variant anchor --preset paper
figure "${baby[@]}" --variant anchor --preset paper --amp
figure --dataset synthetic --variant lightgcn --preset default --max-epoch-seconds 60
figure --dataset synthetic --variant anchor --preset default --max-epoch-seconds 60

# data-parallel training over every visible GPU (NCCL); lightgcn: the shared Baby copy has
# interactions only
n_gpus=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
model_dir=$(mktemp -d)/baby_lightgcn_ddp
echo "== torchrun --nproc_per_node $n_gpus (NCCL), lightgcn on Baby, 1 epoch ($((SECONDS - started)) s elapsed)" >&2
timeout "$STEP_TIMEOUT" "$PY" -m torch.distributed.run --standalone --nproc_per_node "$n_gpus" \
  -m anchorrec.training.distributed "$BABY_DIR" --variant lightgcn --epochs 1 \
  --device cuda --out "$model_dir"
"$PY" -m anchorrec evaluate "$model_dir" --device cuda

echo "== done in $((SECONDS - started)) s" >&2
"$PY" bench/report.py --update-readme >/dev/null
