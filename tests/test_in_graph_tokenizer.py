"""The in-graph (tensorflow-text) tokenizer gives the Hugging Face fast tokenizer's ids: on a
broad sample (accents, CJK, emoji, control characters, very long inputs, all STS-B dev
sentences but one), and differs exactly where documented (compatibility characters, ß, final
sigma, NUL)."""

import pytest
import transformers

from ct.data.in_graph_tokenizer import build_in_graph_tokenizer, hf_ids, in_graph_ids
from ct.modeling.loading import load_tokenizer, resolve_model_dir
from helpers import STSB_DIR, build_vocab, wiki_sentences

MINILM = "bundled:all-MiniLM-L6-v2"
BROAD_SAMPLE = [
    "A man is playing a guitar.", "", "   ", "UPPER lower MiXeD 123 4.5e-3 $100 50%",
    "Café déjà vu, naïve façade: ÉCOLE Ñandú! Ångström Øresund Łódź İzmir",  # accents
    "a\u0301 e\u0300 (combining accents)", "Ελληνικά Русский текст עברית العربية हिन्दी",
    "東京は日本の首都です。北京欢迎你 한국어 텍스트 mixed中文text",  # CJK
    "Emoji 🙂👍🏽 👨‍👩‍👧 🇫🇷 and text", "symbols © ® → ∑ ∞ ≠ € £ ¥",
    "tabs\tand\nnewlines\r\n, zero\u200bwidth, bell\x07, esc\x1b, del\x7f, bom\ufeff",
    "soft\u00adhyphen nbsp\u00a0space, line\u2028separator", "don't \"quote\" (paren) [b] {c}",
    "e" * 99, "e" * 101, "é" * 60, "word " * 400,  # long words; a very long input
    " ".join(wiki_sentences(40)),  # truncated at max_length
]
# Where tensorflow-text's FastBertTokenizer (NFKC-style folding + case folding) and Hugging
# Face's BertNormalizer (str.lower + NFD accent stripping) part: documented in
# docs/guides/tensorflow-deployment.md. Each entry: text -> what tf-text produces instead.
KNOWN_DIFFERENCES = {
    "ﬁ ligature": ["fi", "liga", "##ture"],  # ligature folded
    "ａｂｃ": ["abc"],  # full-width forms folded ([UNK] in Hugging Face)
    "™": ["t", "##m"],
    "①": ["1"],
    "ß": ["ss"],  # case folding, not lower-casing
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢": ["unicode"],  # mathematical letters folded
    "x\x00y": ["x", "y"],  # NUL splits in tf-text, is dropped in Hugging Face
    "ς": ["σ"],  # Greek final sigma case-folded
}
FORMAT_CHARACTERS = "\u200b\u200d\u00ad"
# The one STS-B dev sentence (of 2,800+) whose ids differ: it has Greek final sigmas.
STSB_DEV_DIFFERENT_START = "A greek-speaking slave (δ"


@pytest.fixture(scope="module")
def minilm():
    tokenizer = load_tokenizer(MINILM)
    in_graph, reason = build_in_graph_tokenizer(tokenizer, resolve_model_dir(MINILM), 256)
    assert in_graph is not None, reason
    return tokenizer, in_graph


def _stsb_dev_sentences():
    lines = (STSB_DIR / "sts-dev.csv").read_text(encoding="utf-8").splitlines()
    return sorted({s for line in lines for s in line.split("\t")[5:7]})


def _assert_same_ids(hf, in_graph, texts, max_length):
    expected, got = hf_ids(hf, texts, max_length), in_graph_ids(in_graph, texts)
    different = [(t, hf.convert_ids_to_tokens(e), hf.convert_ids_to_tokens(g))
                 for t, e, g in zip(texts, expected, got) if list(e) != g]
    assert not different, different[:5]


def test_minilm_ids_match_on_a_broad_sample_and_all_of_stsb_dev(minilm):
    hf, in_graph = minilm
    sentences = _stsb_dev_sentences()
    different = [s for s in sentences if s.startswith(STSB_DEV_DIFFERENT_START)]
    assert len(sentences) > 2500 and len(different) == 1
    _assert_same_ids(hf, in_graph, BROAD_SAMPLE + [s for s in sentences if s not in different],
                     256)
    assert len(in_graph_ids(in_graph, ["word " * 400])[0]) == 256  # truncated, [SEP] kept


def test_minilm_differs_exactly_where_documented(minilm):
    hf, in_graph = minilm
    for text in [s for s in _stsb_dev_sentences() if s.startswith(STSB_DEV_DIFFERENT_START)]:
        assert hf_ids(hf, [text], 256)[0] != in_graph_ids(in_graph, [text])[0]
    for text, tf_text_tokens in KNOWN_DIFFERENCES.items():
        expected = hf_ids(hf, [text], 256)[0]
        got = in_graph_ids(in_graph, [text])[0]
        assert expected != got, text
        assert hf.convert_ids_to_tokens(got)[1:-1] == tf_text_tokens, text


@pytest.mark.parametrize("lower", [True, False], ids=["uncased", "cased"])
def test_tiny_wordpiece_vocab_with_truncation_and_template(tmp_path, lower):
    vocab = build_vocab(wiki_sentences(200)) + ["Cafe", "Café", "東", "京", "🙂", "query"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    hf = transformers.BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt"),
                                        do_lower_case=lower)
    in_graph, reason = build_in_graph_tokenizer(hf, tmp_path, 12, template="query: {}")
    assert in_graph is not None, reason
    # Cased (no normaliser in the graph): a format character inside a word (zero-width space or
    # joiner, soft hyphen) splits it there; Hugging Face drops it (documented).
    inside_words = ("a\u200bb", "a\u200db", "x\u00ady")
    texts = [t for t in BROAD_SAMPLE if lower or not any(c in t for c in FORMAT_CHARACTERS)]
    texts += wiki_sentences(50) + list(inside_words)
    expected = hf_ids(hf, texts, 12, template="query: {}")
    got = in_graph_ids(in_graph, texts)
    for text, want, have in zip(texts, expected, got):
        assert (list(want) == have) is (lower or text not in inside_words), repr(text)
    assert max(len(ids) for ids in expected) == 12


def test_tokenizers_without_a_tensorflow_text_equivalent_say_why(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(build_vocab(["a tiny test"])) + "\n")
    keep_accents = transformers.BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt"),
                                                  do_lower_case=True, strip_accents=False)
    tokenizer, reason = build_in_graph_tokenizer(keep_accents, tmp_path, 16)
    assert tokenizer is None and "strip_accents=False" in reason

    from tokenizers import Tokenizer, models, pre_tokenizers

    backend = Tokenizer(models.BPE(vocab={"<s>": 0, "</s>": 1, "a": 2, "b": 3}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, cls_token="<s>",
                                               sep_token="</s>", pad_token="<s>")
    tokenizer, reason = build_in_graph_tokenizer(bpe, tmp_path, 16)
    assert tokenizer is None and reason.startswith("BPE")


def test_sentencepiece_ids_match_xlm_r_fast_tokenizer(tmp_path):
    sentencepiece = pytest.importorskip("sentencepiece")  # requirements.txt pins it
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(wiki_sentences(400)), vocab_size=300, model_type="unigram",
        model_prefix=str(tmp_path / "sentencepiece.bpe"), character_coverage=1.0,
        minloglevel=2)
    hf = transformers.XLMRobertaTokenizerFast(vocab_file=str(tmp_path / "sentencepiece.bpe.model"))
    in_graph, reason = build_in_graph_tokenizer(hf, tmp_path, 32)
    assert in_graph is not None and in_graph.kind == "SentencePiece", reason
    texts = BROAD_SAMPLE + wiki_sentences(400)[200:]  # held-out sentences too
    assert in_graph_ids(in_graph, texts) == [list(ids) for ids in hf_ids(hf, texts, 32)]
    (tmp_path / "sentencepiece.bpe.model").unlink()  # without the model file: no equivalent
    assert build_in_graph_tokenizer(hf, tmp_path, 32)[0] is None
