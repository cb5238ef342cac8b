"""The ``ct`` command line. Each subcommand parses, builds a config and calls the library.

User mistakes (a :class:`ct.errors.CTError`) print one line ``ct: error: ...`` and exit 2.
Each subcommand imports what it needs when it runs (inside its function, deliberately): ``ct
--help`` and argument errors answer without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from ct.errors import CTError
from ct.export.formats import DEFAULT_FORMAT, EXPORT_FORMATS  # names only: no TensorFlow
from ct.logging_setup import configure_logging

logger = logging.getLogger("ct")

TRAIN_EPILOG = """\
examples:
  ct train configs/ct_paper.yaml --output-dir runs/ct
  ct train configs/ct_paper.yaml --set model=path/to/checkpoint --set corpus=data/*.txt \\
      --set steps=2000 --set optimizer.learning_rate=2e-5
  ct train configs/ct_stsb.yaml --output-dir runs/ct-stsb        # CT, then STS-B
  ct train configs/nli_ct.yaml --set nli.train=data/snli_1.0_train.jsonl   # NLI, then CT

Any config key can be set with --set KEY=VALUE (nested keys with dots); values are YAML.
"""

EVAL_EPILOG = """\
scores (all x100, cosine similarity of the two embeddings vs the gold score):
  per subset       Spearman and Pearson of each STS12-16 subset
  mean of subsets  the mean of a task's subset correlations (SentEval's "mean")
  all              one correlation over a task's subsets concatenated (SimCSE's "all")
  avg              the CT paper's summary: the mean over STS12, STS13, STS14, STS15, STS16
                   (their "all" figure; --avg-from mean uses "mean"), STS-B test and SICK-R;
                   over the tasks present if some are missing (labelled "avg of N/7")

SentEval layout under --data-dir:
  STS/STS1{2..6}-en-test/STS.input.<subset>.txt + STS.gs.<subset>.txt
  STS/STSBenchmark/sts-dev.csv, sts-test.csv      SICK/SICK_test_annotated.txt
Missing tasks are listed as missing.

your own dev sets (--task KIND:PATH, repeatable; metrics as fractions, cosine similarity,
with sentence-transformers' definitions; see docs/guides/evaluation.md):
  retrieval:DIR      BEIR folder: corpus.jsonl, queries.jsonl, qrels/dev.tsv (or DIR/qrels/X.tsv)
                     nDCG@10 (primary), MRR@10, MAP@100, Recall@k, Precision@k, Accuracy@k
  reranking:FILE     JSONL {"query": ..., "positive": [...], "negative": [...]}
                     MAP, MRR@10, nDCG@10 (primary)
  pairs:FILE         .tsv/.csv with a header sentence1 sentence2 label (0/1), or .jsonl
                     AP (primary), best accuracy and F1 with their thresholds, MCC
  sts:FILE           an STS file: Spearman (primary) and Pearson

examples:
  ct eval runs/ct/final --benchmark senteval --data-dir SentEval/data/downstream --json sts.json
  ct eval runs/ct/final --sts my_pairs.tsv --format plain
  ct eval runs/ct/final --task retrieval:data/scifact --task pairs:dev.tsv --json dev.json
"""

TUNE_EPILOG = """\
the tune: section of CONFIG (the rest is a training config, as for ct train):
  tuner                 random | bayesian | hyperband (default random)
  max_trials            number of trials (hyperband: a cap, 0 = none); default 10
  executions_per_trial  ct train runs per trial, seeds seed, seed+1, ...; scores averaged
  objective             stsb_dev (kept model's STS-B dev Spearman, max; default),
                        final_loss (min), pairs_per_s (max), tokens_per_s (max),
                        TASK:METRIC of eval_tasks (max, e.g. retrieval:ndcg@10)
  seed                  the tuner's seed (>= 1)
  num_initial_points    bayesian: random trials first (0: 3 x the parameters)
  max_epochs, factor, hyperband_iterations, epoch_steps
                        hyperband: a trial trains tuner/epochs x epoch_steps CT steps
                        (epoch_steps 0: eval_every), from scratch
  search                training option (dotted) -> distribution:
                        {choice: [a, b]}  {uniform: [lo, hi]}  {log_uniform: [lo, hi]}
                        {int: [lo, hi], step: 1}
                        --set "tune.search.KEY={choice: [...]}" replaces one entry, =null
                        drops it

OUTPUT_DIR gets trials/trial_NNN/ (a ct train run each), trials.csv, best_config.yaml (a
training config ct train accepts), search.png, and keras-tuner's state: running the same
command again resumes the search; finished trials are not run again.

examples:
  ct tune configs/tune_ct.yaml --output-dir runs/tune
  ct tune configs/tune_ct.yaml --output-dir runs/tune-short --set tune.max_trials=3 \\
      --set steps=30 --set eval_every=30
  ct train runs/tune/best_config.yaml --output-dir runs/best
"""


SAMPLE_EPILOG = """\
examples:
  ct sample configs/ct_paper.yaml --steps 10 --out first-batches.jsonl
  ct sample configs/ct_paper.yaml --set corpus=data/wiki1m.txt --steps 1 --start-step 1234 \\
      --out step-1234.jsonl          # what step 1234 of that run trained on
"""


EXPORT_EPILOG = """\
the export folder holds:
  config.json, tf_model.h5        TF transformers (4.x): TFAutoModel.from_pretrained(DIR,
                                      use_safetensors=False)
  model.safetensors               the same weights in PyTorch layout: AutoModel.from_pretrained
  tokenizer files                 AutoTokenizer.from_pretrained(DIR)
  modules.json, 1_Pooling/, sentence_bert_config.json
                                  sentence-transformers: SentenceTransformer(DIR)
  ct_encoder.json, ct_training.json   pooling, max length; how the model was trained
  README.md                       the model card (stages, hyperparameters, STS-B results)

--format saved_model: a TensorFlow SavedModel folder (signatures serving_default: strings ->
  embeddings, tokenizer in the graph; from_ids: input_ids, attention_mask -> embeddings;
  token_counts: strings -> tokens per sentence); it loads with tensorflow + tensorflow-text
  only. --format tflite: FILE.tflite with the same string signature (tf-text ops as custom
  ops, other TF ops through select-ops);
  --quantize dynamic (int8 weights) or float16 makes it smaller. ct encode runs both.

pushing: log in once with `huggingface-cli login` (or set HF_TOKEN); --token also works but
lands in your shell history. Only the files ct wrote are uploaded, and the training record
names local models and files "a local model" / "a local file".

examples:
  ct export runs/my-ct --out exports/my-ct
  ct export runs/my-ct --out exports/my-ct --push-to-hub me/my-ct --private --dry-run
  ct export runs/my-ct --out exports/my-ct --push-to-hub me/my-ct    # after huggingface-cli login
  ct export exports/my-ct --push-to-hub me/my-ct --revision v2   # push an export as is
  ct export runs/my-ct --format saved_model --out exports/my-ct-savedmodel
  ct export runs/my-ct --format tflite --quantize dynamic --out exports/my-ct-int8.tflite
  ct encode exports/my-ct-int8.tflite --input sentences.txt --output vectors.npy
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ct", description="Contrastive Tension (Carlsson et al., ICLR 2021) for TensorFlow.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _train_parser(commands)
    _sample_parser(commands)
    _tune_parser(commands)
    _evaluate_parser(commands)
    _encode_parser(commands)
    _export_parser(commands)
    return parser


def _train_parser(commands) -> None:
    train = commands.add_parser(
        "train", help="train a sentence encoder with Contrastive Tension",
        description="Train two copies of an encoder with the CT objective; evaluate on STS-B "
                    "dev; keep the better model in OUTPUT_DIR/final. With `stages:` in the "
                    "config, NLI and STS-B stages run before/after CT, each in "
                    "OUTPUT_DIR/stage-N-NAME.",
        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_config_arguments(train)
    train.add_argument("--output-dir", help="where the run is written (default: runs/ct-TIME)")
    train.add_argument("--resume", action="store_true",
                       help="resume the unfinished run in --output-dir from its latest "
                            "checkpoint (an unfinished run of the same config resumes "
                            "automatically; this makes a missing one an error)")
    train.add_argument("--rebuild-corpus-index", action="store_true",
                       help="resume even though a corpus file changed since the run started "
                            "(its index is rebuilt; the run continues on the changed corpus)")
    _add_quiet(train)


def _sample_parser(commands) -> None:
    sample = commands.add_parser(
        "sample", help="write the sentence pairs given training steps would train on",
        description="Write, without loading a model, the sentences that steps START .. "
                    "START+N-1 of `ct train CONFIG` feed to model 1 and model 2: one JSON line "
                    "per pair with step, pair (0-based within the step), label (1: the same "
                    "sentence to both models, 0: a negative pair), text_1 and text_2. The same "
                    "code path as training, so these are exactly its batches.",
        epilog=SAMPLE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_config_arguments(sample)
    sample.add_argument("--steps", type=int, required=True, help="how many steps to write")
    sample.add_argument("--start-step", type=int, default=1,
                        help="the first step written, numbered as in metrics.jsonl (default 1)")
    sample.add_argument("--out", required=True, metavar="FILE.jsonl", help="where to write")
    _add_quiet(sample)


def _tune_parser(commands) -> None:
    tune = commands.add_parser(
        "tune", help="search training hyperparameters with keras-tuner",
        description="Search the training options declared in the config's tune.search with "
                    "keras-tuner (RandomSearch, BayesianOptimization or Hyperband); each trial "
                    "is a ct train run in OUTPUT_DIR/trials/. Prints the trials table and "
                    "writes trials.csv, best_config.yaml and search.png.",
        epilog=TUNE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    tune.add_argument("config", help="YAML training config with a tune: section")
    tune.add_argument("--output-dir", required=True,
                      help="where the search goes (the same folder resumes it)")
    tune.add_argument("--set", dest="overrides", action="append", default=[],
                      metavar="KEY=VALUE", help="override a config value, e.g. steps=30 or "
                                                "tune.max_trials=3 (repeatable)")
    _add_quiet(tune)


def _evaluate_parser(commands) -> None:
    evaluate = commands.add_parser(
        "eval", help="score a model on STS benchmarks or your own dev sets",
        description="Spearman/Pearson correlation of cosine similarity with gold STS scores; "
                    "retrieval, reranking and pair-classification metrics on your own dev "
                    "sets (--task).",
        epilog=EVAL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("model", metavar="MODEL_DIR", help="model directory or bundled: name")
    evaluate.add_argument("--benchmark", choices=["senteval"],
                          help="evaluate the SentEval STS layout found under --data-dir")
    evaluate.add_argument("--data-dir", help="SentEval data folder (holds STS/ and SICK/)")
    evaluate.add_argument("--sts", action="append", default=[], metavar="FILE",
                          help="a single STS file: STS-B, SICK or score<TAB>s1<TAB>s2 "
                               "(repeatable)")
    evaluate.add_argument("--format", default="auto", choices=["auto", "stsb", "sick", "plain"],
                          help="format of --sts files (default: detected)")
    evaluate.add_argument("--avg-from", default="all", choices=["all", "mean"],
                          help="STS12-16 figure used in avg (default: all)")
    evaluate.add_argument("--task", action="append", default=[], metavar="KIND:PATH",
                          help="a dev set of kind retrieval, reranking, pairs or sts "
                               "(repeatable; see below)")
    evaluate.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    _add_encoder_options(evaluate)


def _encode_parser(commands) -> None:
    encode = commands.add_parser(
        "encode", help="embed every line of a text file",
        description="Embed each line of --input (one sentence per line; row i = line i) into "
                    "a .npy array or a .jsonl file of vectors.")
    encode.add_argument("model", metavar="MODEL_DIR", help="model directory, bundled: name, or "
                        "a SavedModel folder / FILE.tflite written by ct export")
    encode.add_argument("--input", required=True, help="UTF-8 text file, one sentence a line")
    encode.add_argument("--output", required=True, help="OUT.npy or OUT.jsonl")
    encode.add_argument("--normalize", action="store_true",
                        help="L2-normalise the vectors (a model whose sentence-transformers "
                             "modules end in Normalize is normalised anyway)")
    encode.add_argument("--chunk-size", type=int, default=50_000,
                        help="lines held in memory at once (default: 50000)")
    _add_encoder_options(encode)


def _export_parser(commands) -> None:
    export = commands.add_parser(
        "export", help="write a model folder that loads everywhere; push it to the hub",
        description="Export a model (or a ct run's kept model) as one folder that loads in TF "
                    "transformers, PyTorch transformers and sentence-transformers with the "
                    "same vectors, with a model card; optionally upload it to the Hugging "
                    "Face hub.",
        epilog=EXPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("source", metavar="MODEL_OR_RUN_DIR",
                        help="a model folder, a ct train run folder, or bundled:NAME")
    export.add_argument("--out", help="the export folder, or FILE.tflite for --format tflite "
                                      "(needed unless MODEL_OR_RUN_DIR is already an export "
                                      "being pushed)")
    export.add_argument("--format", default=DEFAULT_FORMAT, choices=list(EXPORT_FORMATS),
                        help="; ".join(f"{f.name}: {f.summary}" for f in EXPORT_FORMATS.values())
                        + f" (default: {DEFAULT_FORMAT})")
    export.add_argument("--quantize", choices=["none", "dynamic", "float16"],
                        help="with --format tflite: none (float32, default), dynamic (int8 "
                             "weights, dynamic-range quantization) or float16 weights")
    export.add_argument("--overwrite", action="store_true",
                        help="replace a non-empty --out folder")
    export.add_argument("--push-to-hub", metavar="NAMESPACE/NAME",
                        help="upload the export to this hub model repo (created if needed)")
    export.add_argument("--private", action="store_true",
                        help="create the hub repo private")
    export.add_argument("--revision", help="hub branch to commit to (default: main)")
    export.add_argument("--commit-message", help="hub commit message")
    export.add_argument("--token", help="hub write token; prefer `huggingface-cli login` or "
                                        "$HF_TOKEN (the default): a token on the command line "
                                        "lands in shell history")
    export.add_argument("--dry-run", action="store_true",
                        help="with --push-to-hub: list what would be uploaded and where; "
                             "upload nothing")
    _add_quiet(export)



def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="YAML config (default: the paper's defaults)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")


QUIET_HELP = ("quiet: no progress (bar or lines) and only warnings and errors; without it, "
              "long jobs show a live bar on a terminal and a plain line now and then "
              "otherwise")


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)


def _progress_mode(args: argparse.Namespace) -> str:
    return "off" if args.quiet else "auto"


def _add_encoder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pooling", choices=["mean", "cls"],
                        help="pooling (default: the model's saved choice, else mean)")
    parser.add_argument("--max-length", type=int, help="truncation length in tokens "
                        "(default: the model's saved choice, else 75)")
    parser.add_argument("--template", metavar='"TEXT {}"',
                        help="prompt template: each sentence is embedded as TEXT with the "
                             "sentence in place of {} (default: the model's saved template)")
    parser.add_argument("--batch-size", type=int, default=64, help="sentences per batch")
    _add_quiet(parser)


def _load_encoder(args: argparse.Namespace):
    from ct.errors import ConfigError
    from ct.export.formats import exported_format_of
    from ct.templates import check_template
    from ct.modeling.encoder import SentenceEncoder

    exported = exported_format_of(args.model)
    if exported is not None:  # a SavedModel / TFLite export: its settings are in the graph
        fixed = [flag for flag, value in (("--pooling", args.pooling), ("--max-length",
                 args.max_length), ("--template", args.template)) if value]
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} cannot change {args.model}: a {exported.name} "
                              "export has its pooling, max length and template built in")
        return exported.module().load_encoder(args.model)
    check_template(args.template, "--template")
    return SentenceEncoder.from_pretrained(args.model, pooling=args.pooling,
                                           max_length=args.max_length, template=args.template)


def _eval(args: argparse.Namespace) -> int:
    from ct.errors import ConfigError
    from ct.evaluation.benchmark import (discover_senteval, evaluate_tasks,
                                         format_results_table, sts_file_tasks)
    from ct.config.eval_tasks import named_tasks
    from ct.evaluation.tasks import EvaluationSuite, format_task_results, parse_task

    if not args.benchmark and not args.sts and not args.task:
        raise ConfigError("nothing to evaluate: give --task KIND:PATH, --benchmark senteval "
                          "--data-dir DIR and/or --sts FILE")
    if args.benchmark and not args.data_dir:
        raise ConfigError("--benchmark senteval needs --data-dir DIR")
    tasks, missing = {}, []
    if args.benchmark:
        tasks, missing = discover_senteval(args.data_dir)
    tasks.update(sts_file_tasks(args.sts, args.format))
    if (args.benchmark or args.sts) and not tasks:
        raise ConfigError(f"no STS task found under {args.data_dir}")
    # Every dev set is read and checked before the model loads.
    suite = EvaluationSuite(named_tasks([parse_task(spec) for spec in args.task]),
                            batch_size=args.batch_size, show_progress=_progress_mode(args))
    encoder = _load_encoder(args)
    results: dict = {"tasks": {}}
    if tasks:
        results = evaluate_tasks(encoder, tasks, missing, batch_size=args.batch_size,
                                 avg_from=args.avg_from, show_progress=_progress_mode(args))
        print(format_results_table(results))
    if suite.tasks:
        task_results = suite(encoder)
        results["tasks"].update(task_results)
        print(format_task_results(task_results))
    results["model"] = args.model
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _encode(args: argparse.Namespace) -> int:
    from ct.inference import encode_file

    encoder = _load_encoder(args)
    # A model whose sentence-transformers modules normalise serves normalised vectors.
    normalize = args.normalize or getattr(encoder, "normalize_output", False)
    report = encode_file(encoder, args.input, args.output, batch_size=args.batch_size,
                         normalize=normalize, chunk_size=args.chunk_size,
                         show_progress=_progress_mode(args))
    print(f"encoded {report['sentences']} sentences ({report['dim']} dims) in "
          f"{report['seconds']:.1f} s ({report['sentences_per_s']:.0f} sentences/s) "
          f"-> {report['output']}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ct.errors import ConfigError
    from ct.export import hub
    from ct.export.formats import get_export_format
    from ct.export.save import check_export_complete, export_model, rewrite_model_card

    pushing = args.push_to_hub is not None
    export_format = get_export_format(args.format)
    if args.quantize and "quantize" not in export_format.options:
        raise ConfigError(f"--quantize applies to --format tflite, not --format {args.format}")
    if pushing and not export_format.pushable:
        raise ConfigError(f"--push-to-hub uploads a huggingface export, not --format "
                          f"{args.format}; export the model folder to push it")
    if args.format != DEFAULT_FORMAT:
        if not args.out:
            raise ConfigError(f"give --out (where the {args.format} export goes)")
        options = {"quantize": args.quantize or "none"} if export_format.options else {}
        out = export_format.module().export(args.source, args.out, overwrite=args.overwrite,
                                            **options)
        print(f"exported {args.source} -> {out} ({args.format})")
        return 0
    if args.token:
        logger.warning("--token puts the token in your shell history and process list; "
                       "prefer `huggingface-cli login` or HF_TOKEN")
    hub_only = [flag for flag, value in (("--private", args.private), ("--revision",
                args.revision), ("--commit-message", args.commit_message), ("--token",
                args.token), ("--dry-run", args.dry_run)) if value]
    if hub_only and not pushing:
        raise ConfigError(f"{', '.join(hub_only)} only apply with --push-to-hub NAMESPACE/NAME")
    if not pushing and not args.out:
        raise ConfigError("give --out DIR (where the export goes)")
    if pushing:  # cheap checks first: nothing is exported for a push that cannot happen
        hub.check_repo_id(args.push_to_hub)
        if not args.dry_run:
            args.token = hub.resolve_token(args.token)
    if args.out:
        folder = export_model(args.source, args.out, overwrite=args.overwrite,
                              model_id=args.push_to_hub)
        print(f"exported {args.source} -> {folder}")
    else:
        folder = Path(args.source)
        check_export_complete(folder)
    if not pushing:
        return 0
    if args.dry_run:
        print(hub.plan_push(folder, args.push_to_hub, revision=args.revision,
                            private=args.private, commit_message=args.commit_message).describe())
        if not args.out:
            print(f"would rewrite {folder}/README.md first: the model card's title and loading "
                  f"examples for {args.push_to_hub}")
        print(hub.describe_token(args.token))
        return 0
    if not args.out:  # an existing export: its card names the repo, not the local folder
        rewrite_model_card(folder, model_id=args.push_to_hub)
        print(f"rewrote the model card of {folder} for {args.push_to_hub}")
    url = hub.push_folder_to_hub(folder, args.push_to_hub, token=args.token,
                                 private=args.private, revision=args.revision,
                                 commit_message=args.commit_message)
    print(f"pushed {folder} -> {url}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from ct.config import load_config

    overrides = args.overrides + (["corpus_changed=rebuild"] if args.rebuild_corpus_index
                                  else [])
    config = load_config(args.config, overrides)
    output_dir = args.output_dir or config.output_dir or time.strftime("runs/ct-%Y%m%d-%H%M%S")
    config.output_dir = str(output_dir)

    from ct.training.pipeline import TrainingPipeline

    pipeline = TrainingPipeline(config, output_dir, resume=True if args.resume else None,
                                progress=_progress_mode(args))
    summary = pipeline.run()
    print(format_summary(summary) if len(summary["stages"]) == 1
          else format_pipeline_summary(summary))
    return 0


def _sample(args: argparse.Namespace) -> int:
    import dataclasses
    import json
    import os

    from ct.config import load_config
    from ct.errors import ConfigError

    if args.steps < 1 or args.start_step < 1:
        raise ConfigError("--steps and --start-step must be >= 1")
    config = load_config(args.config, args.overrides)
    if "ct" not in config.stages:
        raise ConfigError(f"stages {config.stages} has no ct stage: ct sample shows CT batches")
    from ct.training.stages import CTStage

    stage = CTStage(dataclasses.replace(config, stages=["ct"]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    batches = stage.text_batches(start_step=args.start_step - 1, steps=args.steps)
    pairs = 0
    with open(partial, "w", encoding="utf-8") as handle:
        for step, (texts_1, texts_2, labels) in enumerate(batches, start=args.start_step):
            for pair, (text_1, text_2, label) in enumerate(zip(texts_1, texts_2, labels)):
                handle.write(json.dumps({"step": step, "pair": pair, "label": int(label),
                                         "text_1": text_1, "text_2": text_2},
                                        ensure_ascii=False) + "\n")
                pairs += 1
    stage.close()
    os.replace(partial, out)
    last = args.start_step + args.steps - 1
    print(f"wrote {pairs} pairs of steps {args.start_step}..{last} ({len(stage.corpus)} "
          f"sentences in the corpus) to {out}")
    return 0


def _tune(args: argparse.Namespace) -> int:
    from ct.errors import SearchError
    from ct.tuning.report import format_trials_table
    from ct.tuning.search import HyperparameterSearch

    search = HyperparameterSearch.from_file(args.config, args.output_dir, args.overrides,
                                            progress=_progress_mode(args))
    result = search.run()
    objective = result.objective
    done = sum(trial.objective is not None for trial in result.trials)
    print(f"search finished: {len(result.trials)} trials ({done} completed, "
          f"{result.trials_run} run now), objective {objective.name} ({objective.direction})")
    print()
    print(format_trials_table(result))
    print()
    if result.best is None:
        raise SearchError(f"no trial finished; the reasons are in {result.output_dir}/trials.csv")
    print(f"best: {result.best.name}, {objective.name} = {result.best.objective:.4f}")
    if result.influence:
        key, rho = result.influence
        print(f"most influential: {key} (Spearman {rho:+.2f} with {objective.name})")
    for path in result.files:
        print(f"wrote {path}")
    return 0


def _score(value) -> str:
    return f"{value:6.2f}" if value is not None else "     -"


def _fraction(value) -> str:
    return f"{value:.4f}" if value is not None else "-"


def format_pipeline_summary(summary: dict) -> str:
    """The stages table of a finished multi-stage run."""
    lines = [f"pipeline finished: {len(summary['stages'])} stages in "
             f"{summary['wall_time_s']:.0f} s", "",
             "stage              steps   STS-B dev before    after   kept"]
    for row in summary["stages"]:
        kept = row.get("kept") or {}
        kept_text = f"model {kept['model']} at step {kept['step']}" if kept else "-"
        if kept and kept.get("step") == 0:
            kept_text += " (the untouched starting model)"
        lines.append(f"  {row['stage']}. {row['name']:<12} {row['steps']:>6}   "
                     f"{_score(row['stsb_dev_before'])}           "
                     f"{_score(row['stsb_dev_after'])}   {kept_text}")
    selection = summary.get("selection") or {}
    if selection.get("metric", "stsb_dev:spearman") != "stsb_dev:spearman":
        lines.append(f"every stage kept its model by {selection['metric']}: "
                     f"{_fraction(selection['before'])} before the first stage, "
                     f"{_fraction(selection['after'])} after the last")
    lines.append(f"exported model: {summary['final_model']}")
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    """A short human-readable table of a finished single-stage run."""
    from ct.training.summary import kept_description

    title = {"ct": "CT", "nli": "NLI", "stsb": "STS-B", "align": "Align"}.get(
        summary.get("stage", "ct"), "")
    if summary.get("stage") == "ct" and summary.get("config", {}).get("objective") == "ct_ibn":
        title = "CT-IBN"
    lines = [f"{title} run finished: {summary['steps']} steps in "
             f"{summary['wall_time_s']:.0f} s ({summary['pairs_per_s']:.1f} pairs/s, "
             f"{summary['tokens_per_s']:.0f} tokens/s)"]
    stsb = summary.get("stsb_dev")
    if stsb and stsb["before"]:
        lines += ["", "STS-B dev Spearman x100   before    after"]
        for name, before in stsb["before"].items():
            lines.append(f"  {name.replace('_', ' '):<24} {before:6.2f}   "
                         f"{stsb['after'][name]:6.2f}")
    selection = summary.get("selection") or {}
    if selection and summary.get("selection_metric", "stsb_dev:spearman") != "stsb_dev:spearman":
        lines += ["", f"{selection['metric']:<25} before    after"]
        for name, before in selection["before"].items():
            lines.append(f"  {name.replace('_', ' '):<24} {before:.4f}   "
                         f"{selection['after'][name]:.4f}")
    kept = summary.get("kept") or {}
    if kept:
        lines += ["", f"kept: {kept_description(kept)}"]
    lines.append(f"exported model: {summary['final_model']}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``ct`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(quiet=args.quiet)
    try:
        return {"train": _train, "sample": _sample, "tune": _tune, "eval": _eval,
                "encode": _encode, "export": _export}[args.command](args)
    except CTError as exc:
        print(f"ct: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("ct: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
