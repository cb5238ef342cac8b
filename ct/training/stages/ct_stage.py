"""The CT stage: Contrastive Tension (Carlsson et al., ICLR 2021) on an unlabelled corpus."""

from __future__ import annotations

import logging
from pathlib import Path

from ct.config import TrainConfig
from ct.data.corpus import Corpus, read_fingerprint, write_fingerprint
from ct.data.ct_dataset import make_dataset_fn, make_sampler, sample_batches
from ct.data.ct_sampling import sentences_per_batch
from ct.errors import DataError
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.modeling.loading import load_tokenizer
from ct.training.stages.base import Stage

logger = logging.getLogger(__name__)

CORPUS_RECORD = "corpus.json"


class CTStage(Stage):
    """Contrastive Tension on the configured corpus (the top level of the config): two copies
    of the model, ``batch_size`` pairs per step (``ct``), or ``batch_size`` sentences that both
    models embed (``ct_ibn``)."""

    name = "ct"
    title = "CT"
    num_models = 2

    def __init__(self, config: TrainConfig):
        super().__init__(config)
        self.steps, self.batch_size = config.steps, config.batch_size
        self.eval_every = config.eval_every
        if config.objective == "ct_ibn":
            self.title = "CT-IBN"
            self.metric_names = ("loss", "accuracy")
        else:
            self.group_size = config.num_negatives + 1
            self.metric_names = ("loss", "positive_loss", "negative_loss")
        self.corpus = Corpus.from_config(config)
        self.corpus_stats = self.corpus.validate(
            min_distinct=sentences_per_batch(config.batch_size, config.num_negatives,
                                             config.objective),
            max_bad_share=config.max_bad_line_share)

    def log_data(self) -> None:
        stats = self.corpus_stats
        built = [index for index in self.corpus.indexes if index.built_now]
        how = (f"indexed now in {sum(i.meta.get('build_seconds', 0) for i in built):.1f} s"
               if built else "index from the cache")
        logger.info("corpus: %d sentences in %s (%s, %s); each epoch is a seeded permutation "
                    "of all of them", stats.num_sentences,
                    self.corpus.description if self.corpus.tfds_source is not None
                    else f"{stats.num_files} file(s)", how, built[0].folder.parent if built
                    else self.corpus.indexes[0].folder.parent)
        if stats.num_bad_lines:
            logger.warning("corpus: skipped %d bad line(s), e.g. %s", stats.num_bad_lines,
                           stats.first_bad_line)
        if self.config.objective == "ct_ibn" and not self.config.dropout:
            logger.warning(
                "objective ct_ibn with dropout off: both models see the same sentences and "
                "start equal, so their gradients are equal and they stay identical; set "
                "dropout: true (as sentence-transformers does) for two distinct models")

    def on_run_start(self, run_dir: Path, resuming: bool) -> None:
        """Records the corpus' files (size, modification time, sentences) in the run folder;
        on resume, refuses a corpus whose files changed since (its batches would not be the
        ones the run started with) unless ``corpus_changed: rebuild``."""
        record_path = Path(run_dir) / CORPUS_RECORD
        recorded = read_fingerprint(record_path) if resuming else None
        if recorded is not None:
            changes = self.corpus.changed_files(recorded)
            if changes and self.config.corpus_changed == "error":
                raise DataError(
                    f"corpus file {changes[0]} changed since this run started, so resuming "
                    "would not train on the batches it started with; restore the file, or "
                    "resume on the changed corpus with --rebuild-corpus-index")
            if changes:
                logger.warning("corpus changed since the run started (%s); continuing on the "
                               "changed corpus with a rebuilt index", "; ".join(changes))
        if recorded is None or recorded != self.corpus.fingerprint():
            record_path.parent.mkdir(parents=True, exist_ok=True)
            write_fingerprint(record_path, self.corpus)

    def text_batches(self, start_step: int, steps: int):
        """The ``(texts_1, texts_2, labels)`` of steps ``start_step + 1`` ..
        ``start_step + steps``: what training feeds model 1 and model 2 (``ct sample``).
        With length grouping the model's tokenizer is loaded: it measures the lengths."""
        config = self.config
        tokenizer = load_tokenizer(config.model) if config.group_batches > 1 else None
        sampler = make_sampler(self.corpus, batch_size=config.batch_size,
                               num_negatives=config.num_negatives, seed=config.seed,
                               objective=config.objective, group_batches=config.group_batches,
                               tokenizer=tokenizer, max_length=config.max_length)
        return sample_batches(self.corpus, sampler, start_step, steps)

    def build_model(self, model_dir: str, tokenizer):
        config = self.config
        return ContrastiveTensionModel.from_pretrained(
            model_dir, pooling=config.pooling, max_length=config.max_length,
            dropout=config.dropout, tokenizer=tokenizer, objective=config.objective,
            ibn_similarity=config.ibn_similarity, ibn_scale=config.ibn_scale,
            ibn_learn_scale=config.ibn_learn_scale, **self.model_options())

    def dataset_fn(self, tokenizer, start_position):
        config = self.config
        return make_dataset_fn(
            self.corpus, tokenizer, start_position=start_position,
            batch_size=config.batch_size, num_negatives=config.num_negatives,
            max_length=config.max_length, seed=config.seed, padding=config.padding,
            objective=config.objective, group_batches=config.group_batches)

    def close(self) -> None:
        self.corpus.close()

    def data_summary(self) -> dict:
        corpus = ([str(f) for f in self.corpus.files] if self.corpus.tfds_source is None
                  else [self.corpus.description])
        return {"corpus": {"files": corpus, "sentences": self.corpus_stats.num_sentences},
                "corpus_bad_lines_skipped": self.corpus_stats.num_bad_lines}
