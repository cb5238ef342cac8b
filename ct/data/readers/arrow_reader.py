"""Arrow files, as Hugging Face ``datasets`` writes them (``save_to_disk``, its cache).

``save_to_disk`` writes a folder with ``state.json`` (listing ``data-*.arrow`` files, in
order), ``dataset_info.json`` and the Arrow files, in the Arrow IPC *stream* format; the
Arrow IPC *file* format (Feather v2) is read too. The folder is expanded by
:func:`datasets_folder_files` into its Arrow files, which are read like Parquet: the
``text_field`` column, record batch after record batch, extracted once into the index.
``datasets`` itself is not needed.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Callable, Optional

from ct.data.corpus_index import BadLines, build_extracted_index
from ct.data.readers import CorpusReader, register
from ct.data.readers.columns import ColumnLines, check_text_column, import_pyarrow, one_line
from ct.errors import DataError


@contextlib.contextmanager
def arrow_batches(path: Path, choose: Callable[[object], list[str]]):
    """The record batches of the columns ``choose(schema)`` names, one after the other, of an
    Arrow stream or file (a context manager: the file is closed at its end).

    Raises:
        DataError: an unreadable file, or what ``choose`` raises (a missing column).
    """
    pa = import_pyarrow()
    import pyarrow.ipc

    with pa.OSFile(str(path)) as source:
        try:
            reader = pyarrow.ipc.open_stream(source)
            batches = iter(reader)
        except pa.ArrowInvalid:
            source.seek(0)
            try:
                reader = pyarrow.ipc.open_file(source)
            except (pa.ArrowException, OSError) as exc:
                raise DataError(f"{path}: not a readable Arrow file, truncated or corrupt "
                                f"({one_line(exc)})") from None
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        columns = [reader.schema.get_field_index(name) for name in choose(reader.schema)]
        yield (batch.select(columns) for batch in batches)


@register
class ArrowReader(CorpusReader):
    """One sentence per line of the values of a string column (``text_field``)."""

    name = "arrow"
    suffixes = (".arrow", ".feather")
    uses_text_field = True
    compressible = False

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        with arrow_batches(path, lambda schema: check_text_column(schema, path,
                                                                  text_field)) as batches:
            lines = ColumnLines(batches, path, "Arrow")
            return build_extracted_index(iter(lines), folder, bad, lambda: lines.rows)


def datasets_folder_files(folder: Path) -> Optional[list[Path]]:
    """The Arrow files of a ``datasets`` ``save_to_disk`` folder, in order; None if
    ``folder`` is not one.

    Raises:
        DataError: a ``DatasetDict`` folder (name one split's folder), or a folder whose
            ``state.json`` is unreadable or names missing files.
    """
    if (folder / "dataset_dict.json").is_file():
        try:
            splits = json.loads((folder / "dataset_dict.json").read_text()).get("splits", [])
        except (OSError, ValueError):
            splits = []
        raise DataError(f"corpus folder {folder} is a datasets DatasetDict; name one split's "
                        f"folder: " + (", ".join(str(folder / s) for s in splits)
                                       or f"{folder}/<split>"))
    state = folder / "state.json"
    if not state.is_file():
        return None
    try:
        names = [entry["filename"] for entry in json.loads(state.read_text())["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{state}: not a readable datasets state.json ({one_line(exc)})") \
            from None
    files = [folder / name for name in names]
    for path in files:
        if not path.is_file():
            raise DataError(f"{state} names {path.name}, which is not in {folder}")
    return files
