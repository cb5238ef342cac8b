"""This machine's matmul peak and a transformer's training FLOPs, for the benchmarks.

``matmul_gflops`` times a square matmul (the op a transformer spends most of its FLOPs in) in
float32 and bfloat16, back to back; ``transformer_train_flops`` counts a BERT-style encoder's
forward + backward FLOPs for a number of tokens (Kaplan et al., 2020: 2 x parameters per token
forward, twice that backward, plus attention's score and mix matmuls).
"""

from __future__ import annotations

import time
from pathlib import Path

from ct._keras import tf


def matmul_gflops(size: int = 2048, repeats: int = 20) -> dict:
    """``{"float32": GFLOP/s, "bfloat16": GFLOP/s}`` of a ``size x size`` matmul, measured in
    a fresh process (TensorFlow's default threads: all cores for the one op)."""
    import json
    import subprocess
    import sys

    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import json; "
            f"from matmul_peak import _matmul_gflops_here as m; "
            f"print(json.dumps(m({size}, {repeats})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _matmul_gflops_here(size: int, repeats: int) -> dict:
    result = {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.random.normal([size, size], dtype=tf.float32)
        a = tf.cast(a, dtype)
        multiply = tf.function(lambda x: tf.matmul(x, x))
        multiply(a).numpy()
        started = time.perf_counter()
        for _ in range(repeats):
            out = multiply(a)
        out.numpy()
        seconds = (time.perf_counter() - started) / repeats
        result[dtype.name] = 2 * size ** 3 / seconds / 1e9
    return result


def transformer_train_flops(config, tokens: float, positions: float = None) -> dict:
    """Forward + backward FLOPs of one encoder pass over ``tokens`` real tokens (and over
    ``positions`` padded positions), for a transformers config (BERT names)."""
    hidden = getattr(config, "hidden_size", None) or config.dim
    layers = getattr(config, "num_hidden_layers", None) or config.n_layers
    inner = getattr(config, "intermediate_size", None) or config.hidden_dim
    per_layer = 4 * hidden * hidden + 2 * hidden * inner
    forward_per_token = 2 * layers * per_layer
    sequence = 40  # attention: ~2 x 2 x sequence x hidden per token and layer (typical length)
    forward_per_token += 4 * layers * sequence * hidden

    def total(count):
        return 3 * forward_per_token * count

    return {"real": total(tokens), "padded": total(positions or tokens)}
