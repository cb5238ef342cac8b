"""Align a small randomly initialised student to a teacher's embedding space.

Makes a 4-layer, 256-wide BERT with the teacher's tokenizer (random weights), then trains it
with the `align` stage (configs/align_teacher.yaml) to reproduce the packaged all-MiniLM-L6-v2's
vectors on the bundled Wikipedia sample, and prints STS-B dev of the student before and after
and of the teacher.

    python examples/ExampleAlignStudent.py --out runs/student-4x256 --run runs/align
"""

import argparse
from pathlib import Path

from ct.logging_setup import configure_logging

configure_logging()  # first, before TensorFlow loads: ct's lines as [ct] ..., TensorFlow's quiet

from ct import SentenceEncoder, STSEvaluator, TrainingPipeline, load_config  # noqa: E402
from ct.modeling.loading import save_random_checkpoint  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "align_teacher.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/student-4x256", help="the random student")
    parser.add_argument("--run", help="train it into this run folder (default: only create it)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="config overrides for the run, e.g. align.epochs=2")
    args = parser.parse_args()
    if not Path(args.out, "config.json").exists():
        save_random_checkpoint("bundled:all-MiniLM-L6-v2", args.out,
                               num_hidden_layers=args.layers, hidden_size=args.hidden,
                               num_attention_heads=max(1, args.hidden // 64),
                               intermediate_size=4 * args.hidden)
        print(f"random student: {args.out} ({args.layers} layers, hidden {args.hidden})")
    if not args.run:
        return
    config = load_config(CONFIG, [f"model={args.out}", *args.overrides])
    summary = TrainingPipeline(config, args.run).run()
    teacher = STSEvaluator.from_file("bundled:stsb-dev")(
        SentenceEncoder.from_pretrained(config.align.teacher))
    row = summary["stages"][0]
    print(f"STS-B dev: student before {row['stsb_dev_before']:.2f}, after "
          f"{row['stsb_dev_after']:.2f}; teacher {teacher['spearman']:.2f}")


if __name__ == "__main__":
    main()
