#!/usr/bin/env bash
# Regenerate everything the README's "Analysis" section reports about the shipped sample:
# the projections shipped in each sample model directory, the planted-driver shares, the
# diagnostics of every shipped model (stored beside each, for Positional collapse), the
# attribution latency, then the README section itself.
#   bash bench/analysis_sample.sh [METHODS]      (METHODS default: pca,tsne,umap)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
METHODS=${1:-pca,tsne,umap}
MODELS=sample_data/boutique/models
for dir in "$MODELS"/*/; do
  [ -f "$dir/config.json" ] || continue
  "$PY" -m anchorrec project "$dir" --methods "$METHODS"
done
"$PY" bench/driver_shares.py
"$PY" bench/driver_shares.py --removed-graph identity   # the rule the mean graph replaced
"$PY" bench/variant_diagnostics.py
"$PY" bench/attribution_latency.py
"$PY" bench/analysis_readme.py
