"""`ct encode` throughput: sentences/s embedding a text file to .npy on this machine.

Times `encode_file`, the function behind `ct encode` (length-sorted batches, memory-mapped
output), on the bundled Wikipedia sample after one warm-up pass; prints the median over runs.

    python bench/encode_throughput.py --model bundled:all-MiniLM-L6-v2 --batch-size 64
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from ct.inference import encode_file
from ct.modeling.encoder import SentenceEncoder
from ct.resources import resolve_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--input", default="bundled:wiki_sentences")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=75)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    encoder = SentenceEncoder.from_pretrained(args.model, max_length=args.max_length)
    source = resolve_path(args.input)
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "vectors.npy"
        encode_file(encoder, source, output, batch_size=args.batch_size, show_progress=False)
        rates = []
        for _ in range(args.runs):
            report = encode_file(encoder, source, output, batch_size=args.batch_size,
                                 show_progress=False)
            rates.append(report["sentences_per_s"])
    print(f"model={args.model} sentences={report['sentences']} batch_size={args.batch_size} "
          f"max_length={args.max_length} dim={report['dim']}")
    print(f"sentences/s median {statistics.median(rates):8.1f}  min {min(rates):8.1f}  "
          f"max {max(rates):8.1f}  ({args.runs} runs after 1 warm-up)")


if __name__ == "__main__":
    main()
