#!/usr/bin/env bash
# Must-show of issue 7: `ct export` a run, then score STS-B dev with
# `SentenceTransformer(DIR)` in the PyTorch environment and with `ct eval` on the same folder;
# the two Spearman figures must agree to 0.05 points.
#   bash bench/export_interop.sh RUN_OR_MODEL_DIR [EXPORT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=${1:?usage: bash bench/export_interop.sh RUN_OR_MODEL_DIR [EXPORT_DIR]}
OUT=${2:-$(mktemp -d)/export}
SHARED=${CT_SHARED_DATA:-../shared/data}
DEV="$SHARED/stsbenchmark/sts-dev.csv"
make -s venv torch-venv
.venv/bin/ct export "$SOURCE" --out "$OUT"
.venv/bin/ct eval "$OUT" --sts "$DEV" --json "$OUT.ct-eval.json" -q > /dev/null
HF_HUB_OFFLINE=1 .venv-torch/bin/python bench/pytorch_interop.py sts --model "$OUT" --sts "$DEV" \
  --json "$OUT.st-eval.json" > /dev/null
.venv/bin/python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
ct = json.load(open(out + ".ct-eval.json"))["tasks"]["sts-dev.csv"]["spearman"]
st = json.load(open(out + ".st-eval.json"))["spearman"]
print(f"STS-B dev Spearman x100  ct eval: {ct:.4f}  SentenceTransformer: {st:.4f}  "
      f"difference: {abs(ct - st):.4f} (tolerance 0.05)")
sys.exit(0 if abs(ct - st) <= 0.05 else 1)
PY
