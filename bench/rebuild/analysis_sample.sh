#!/usr/bin/env bash
# Regenerate everything docs/analysis.md reports about the shipped sample:
# the projections shipped in each sample model directory, the planted-driver shares, the
# diagnostics of every shipped model (stored beside each, for Positional collapse), the
# attribution latency, then the generated part of docs/analysis.md.
#   bash bench/rebuild/analysis_sample.sh [METHODS]      (METHODS default: pca,tsne,umap)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
METHODS=${1:-pca,tsne,umap}
MODELS=sample_data/wardrobe/models
for dir in "$MODELS"/*/; do
  [ -f "$dir/config.json" ] || continue
  "$PY" -m anchorrec project "$dir" --methods "$METHODS"
done
"$PY" -m bench.research.driver_shares
"$PY" -m bench.research.driver_shares --removed-graph identity   # the rule the mean graph replaced
"$PY" -m bench.rebuild.variant_diagnostics
"$PY" -m bench.speed.attribution_latency
"$PY" -m bench.rebuild.analysis_docs
