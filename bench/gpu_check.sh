#!/usr/bin/env bash
# Checks that ct really uses this machine's GPU, for a machine with one (CI has none).
#
#   bash bench/gpu_check.sh                 # 200 steps per cell; STEPS=50 for a quick look
#
# 1. TensorFlow must list the GPU (else: pip install -e .[gpu], or make venv GPU=1);
# 2. for configs/ct_paper.yaml and configs/ct_fast.yaml in float32, mixed_bfloat16 and
#    mixed_float16: pairs/s, the step time, the host's and the device's time per step and the
#    device's share of the step (bench/gpu_check.py explains the measure);
# 3. the first 20 losses of each cell next to the same cell on the CPU (CUDA_VISIBLE_DEVICES=""):
#    float32 should agree to about 1e-3 (TF32 is off: deterministic: true), bfloat16 and
#    float16 to their precision.
# Results: one JSON line per cell in $OUT (default /tmp/ct-gpu-check/cells.jsonl) and a table.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
STEPS=${STEPS:-200}
OUT_DIR=${OUT_DIR:-/tmp/ct-gpu-check}
mkdir -p "$OUT_DIR"
OUT="$OUT_DIR/cells.jsonl"
: > "$OUT"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} PYTHONPATH=bench${PYTHONPATH:+:$PYTHONPATH}

echo "== TensorFlow's GPUs"
nvidia-smi -L || echo "(nvidia-smi not found)"
if ! "$PY" -c 'import tensorflow as tf, sys; g = tf.config.list_physical_devices("GPU"); print(g); sys.exit(0 if g else 1)'; then
  echo "TensorFlow sees no GPU: install its CUDA libraries (pip install -e .[gpu] / make venv GPU=1)" >&2
  exit 1
fi

for config in configs/ct_paper.yaml configs/ct_fast.yaml; do
  for precision in float32 mixed_bfloat16 mixed_float16; do
    echo "== $config, $precision"
    "$PY" bench/gpu_check.py --config "$config" --steps "$STEPS" --set precision=$precision \
      | tee -a "$OUT"
    CUDA_VISIBLE_DEVICES="" "$PY" bench/gpu_check.py --config "$config" --steps 5 \
      --set precision=$precision | sed 's/^/{"cpu": true, "cell": /; s/$/}/' >> "$OUT"
  done
done

"$PY" - "$OUT" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
gpu = [r for r in rows if "cpu" not in r]
cpu = {(r["cell"]["config"], tuple(r["cell"]["overrides"])): r["cell"] for r in rows if "cpu" in r}
print(f"\n{'config':<22} {'precision':<15} {'pairs/s':>8} {'step ms':>8} {'host ms':>8} "
      f"{'device ms':>9} {'device share':>12}")
for r in gpu:
    print(f"{r['config']:<22} {r['overrides'][0].split('=')[1]:<15} {r['pairs_per_s']:>8} "
          f"{r['step_ms']:>8} {r['host_ms']:>8} {r['device_ms']:>9} {r['device_share']:>12.0%}")
for r in gpu:
    ref = cpu.get((r["config"], tuple(r["overrides"])))
    print(f"\nfirst losses, {r['config']} {r['overrides'][0]} (GPU | CPU | difference)")
    for i, loss in enumerate(r["first_losses"], start=1):
        other = ref["first_losses"][i - 1] if ref else float("nan")
        print(f"  step {i:2d}  {loss:.6f} | {other:.6f} | {abs(loss - other):.2e}")
PY
