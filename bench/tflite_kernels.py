"""How fast TFLite's matmul kernels run per precision on this CPU, against TensorFlow's.

The question behind it: can an int8 TFLite export encode faster than the float32 one here?
Only if the int8 kernels multiply faster than the float ones. This times the layers that hold
almost all of a MiniLM-L6 encoder's FLOPs, its 36 dense layers (per layer: query, key, value
and output 384 x 384, feed-forward 384 x 1536 and 1536 x 384; attention scores, softmax and
layer norms left out), on `--tokens` token vectors (2,048 = a batch of 64 sentences of 32
tokens), as:

- `tf float32`: TensorFlow (oneDNN), the kernels `ct encode` and the SavedModel run;
- `tflite float32`: the TFLite interpreter (XNNPACK), as `ct export --format tflite`;
- `tflite int8 dynamic`: `--quantize dynamic` (int8 weights, activations quantized per call);
- `tflite int8 full`: full-integer quantization (int8 weights and activations, calibrated on a
  representative dataset), int8 in and out.

It prints the CPU's vector extensions (int8 matmuls are fast where the CPU has AVX-512 VNNI or
AVX-VNNI), then per engine the time of one pass, GFLOP/s (GOP/s for int8: 2 per
multiply-add) and the speed against TFLite float32, the median of `--repeats` passes.

    python bench/tflite_kernels.py
    python bench/tflite_kernels.py --tokens 4096 --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

HIDDEN, INTERMEDIATE, LAYERS = 384, 1536, 6
SHAPES = [(HIDDEN, HIDDEN)] * 4 + [(HIDDEN, INTERMEDIATE), (INTERMEDIATE, HIDDEN)]
EXTENSIONS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")


def cpu_extensions() -> str:
    """The vector extensions that matter for matmul kernels, as /proc/cpuinfo lists them."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next(line for line in handle if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown (no /proc/cpuinfo)"
    return " ".join(flag for flag in EXTENSIONS if flag in flags) or "none of " + ", ".join(
        EXTENSIONS)


def flops_per_pass(tokens: int) -> float:
    """Multiply-adds x 2 of the dense layers on ``tokens`` token vectors."""
    return 2.0 * tokens * LAYERS * sum(rows * cols for rows, cols in SHAPES)


def dense_stack(tf, seed: int = 0):
    """The encoder's dense layers, ``[tokens, 384] -> [tokens, 384]``, and their weights."""
    rng = np.random.default_rng(seed)
    weights = [tf.constant((rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32))
               for _ in range(LAYERS) for shape in SHAPES]

    def layers(x):
        for layer in range(LAYERS):
            query, key, value, output, up, down = weights[layer * 6:layer * 6 + 6]
            mixed = tf.matmul(x, query) + tf.matmul(x, key) + tf.matmul(x, value)
            x = x + tf.matmul(mixed, output)
            x = x + tf.matmul(tf.nn.relu(tf.matmul(x, up)), down)
            x = x / tf.norm(x, axis=1, keepdims=True)  # keeps activations in a calibrated range
        return x

    return layers, weights


def _median_seconds(run, repeats: int) -> float:
    run()  # warm-up: allocation, delegate preparation
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def convert(tf, function, weights, quantize: str, tokens: int, seed: int = 1) -> bytes:
    holder = tf.Module()
    holder.weights = weights
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], holder)
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "full":
        rng = np.random.default_rng(seed)
        converter.representative_dataset = lambda: (
            [rng.standard_normal((tokens, HIDDEN)).astype(np.float32)] for _ in range(4))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    return converter.convert()


def time_tflite(tf, flatbuffer: bytes, threads: int, repeats: int, scratch: Path) -> float:
    path = scratch / "model.tflite"
    path.write_bytes(flatbuffer)
    interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(2)
    if detail["dtype"] == np.int8:
        inputs = rng.integers(-100, 100, detail["shape"]).astype(np.int8)
    else:
        inputs = rng.standard_normal(detail["shape"]).astype(np.float32)
    interpreter.set_tensor(detail["index"], inputs)
    return _median_seconds(interpreter.invoke, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import warnings

    warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
    warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    layers, weights = dense_stack(tf)
    function = tf.function(layers, input_signature=[
        tf.TensorSpec([args.tokens, HIDDEN], tf.float32)])
    x = tf.random.normal([args.tokens, HIDDEN])
    rows = [("tf float32", _median_seconds(lambda: function(x).numpy(), args.repeats))]
    with tempfile.TemporaryDirectory(prefix="ct-tflite-kernels-") as scratch:
        for name, quantize in (("tflite float32", "none"), ("tflite int8 dynamic", "dynamic"),
                               ("tflite int8 full", "full")):
            flatbuffer = convert(tf, function, weights, quantize, args.tokens)
            rows.append((name, time_tflite(tf, flatbuffer, args.threads, args.repeats,
                                           Path(scratch))))
    work = flops_per_pass(args.tokens)
    baseline = dict(rows)["tflite float32"]
    print(f"CPU extensions: {cpu_extensions()}; {os.cpu_count()} cores")
    print(f"MiniLM-L6 dense layers on {args.tokens} tokens ({work / 1e9:.1f} GFLOP per pass), "
          f"{args.threads} threads, median of {args.repeats} passes, TensorFlow {tf.__version__}")
    print("| engine | ms per pass | GFLOP/s (GOP/s) | vs tflite float32 |\n|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1e3:.0f} | {work / seconds / 1e9:.0f} | "
              f"{baseline / seconds:.2f}x |")


if __name__ == "__main__":
    main()
