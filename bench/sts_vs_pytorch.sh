#!/usr/bin/env bash
# Must-show of issue 3: `ct eval` on a SentEval-layout folder vs an independent PyTorch
# mean-pooling evaluation of the same model, per task, within 0.2 Spearman points.
# Builds .venv-torch (`make torch-venv`: torch 2.13.0 CPU + transformers 5) on first use.
#   bash bench/sts_vs_pytorch.sh [MODEL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s venv
MODEL=${1:-$(.venv/bin/python -c "from ct.resources import resolve_path; print(resolve_path('bundled:all-MiniLM-L6-v2'))")}
WORK=$(mktemp -d)
SHARED=${CT_SHARED_DATA:-../shared/data}
.venv/bin/python bench/make_senteval_layout.py --stsb-dir "$SHARED/stsbenchmark" --out "$WORK/senteval"
.venv/bin/ct eval "$MODEL" --benchmark senteval --data-dir "$WORK/senteval" --json "$WORK/ct.json" -q
make -s torch-venv
.venv-torch/bin/python bench/torch_sts_reference.py --model "$MODEL" --data-dir "$WORK/senteval" \
  --json "$WORK/torch.json" > /dev/null
.venv/bin/python bench/compare_sts_results.py "$WORK/ct.json" "$WORK/torch.json" --tolerance 0.2
