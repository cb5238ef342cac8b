#!/usr/bin/env bash
# Must-show of issue 16, back to back on one machine: the CT step's profile before (one padded
# pass per model, TensorFlow's thread defaults) and after (ct's defaults), CT training pairs/s of
# configs/ct_paper.yaml and configs/ct_fast.yaml against sentence-transformers' CT (measured
# before and after ct, to bracket drift), and `ct encode` against SentenceTransformer.encode.
#   bash bench/speed_vs_st.sh [STUDENT_MODEL_DIR]   # also encodes with a distilled student
set -euo pipefail
cd "$(dirname "$0")/.."
make -s venv torch-venv
MINILM=$(.venv/bin/python -c "from ct.resources import resolve_path; print(resolve_path('bundled:all-MiniLM-L6-v2'))")
PY=.venv/bin/python
TORCH=".venv-torch/bin/python"
export HF_HUB_OFFLINE=1
echo "== profile of one CT step, before (length_buckets=1, cpu_parallelism=ops)"
$PY bench/profile_ct_step.py --set length_buckets=1 --set cpu_parallelism=ops
echo "== profile of one CT step, after (configs/ct_paper.yaml as shipped)"
$PY bench/profile_ct_step.py
echo "== profile of one CT step, configs/ct_fast.yaml"
$PY bench/profile_ct_step.py --config configs/ct_fast.yaml
echo "== sentence-transformers CT (before ct)"
$TORCH bench/st_ct_throughput.py --model "$MINILM"
echo "== ct: configs/ct_paper.yaml"
$PY bench/ct_throughput.py --config configs/ct_paper.yaml
echo "== ct: configs/ct_fast.yaml"
$PY bench/ct_throughput.py --config configs/ct_fast.yaml
echo "== sentence-transformers CT (after ct)"
$TORCH bench/st_ct_throughput.py --model "$MINILM"
for MODEL in "$MINILM" ${1:+"$1"}; do
  echo "== encode, batch 64: ct encode vs SentenceTransformer.encode ($MODEL)"
  $PY bench/encode_throughput.py --model "$MODEL"
  $TORCH bench/st_encode_throughput.py --model "$MODEL"
done
