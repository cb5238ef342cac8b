"""JSON Lines: the ``text_field`` of each record, extracted once into the index."""

from __future__ import annotations

import json
from pathlib import Path

from ct.data.corpus_index import BadLines, build_extracted_index
from ct.data.readers import CorpusReader, register
from ct.data.readers.lines import LineReader


def jsonl_sentences(path: Path, text_field: str, bad: BadLines, reader: LineReader):
    """The ``text_field`` of every JSON line; malformed records go to ``bad``."""
    for number, line in reader:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.add(f"{path}:{number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or text_field not in record:
            bad.add(f"{path}:{number}: no field {text_field!r} (set text_field to the key "
                    "holding the sentence)")
            continue
        value = record[text_field]
        if not isinstance(value, str):
            bad.add(f"{path}:{number}: field {text_field!r} is {type(value).__name__}, not a "
                    "string")
            continue
        yield value


@register
class JSONLReader(CorpusReader):
    """One JSON object per line; the sentence is its ``text_field``."""

    name = "jsonl"
    suffixes = (".jsonl", ".json")
    uses_text_field = True

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        reader = LineReader(path, bad)
        return build_extracted_index(jsonl_sentences(path, text_field, bad, reader), folder,
                                     bad, lambda: reader.lines)
