"""Lines of a (possibly compressed) file, for the readers that parse lines (JSONL, CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ct.data.corpus_index import BadLines
from ct.data.readers.compression import open_binary


class LineReader:
    """UTF-8 lines of a file with their numbers; undecodable lines go to ``bad``.

    ``lines`` is the number of lines read so far (the ``lines`` entry of an index's meta).
    """

    def __init__(self, path: Path, bad: BadLines):
        self.path, self.bad, self.lines = path, bad, 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        with open_binary(self.path) as handle:
            for number, raw in enumerate(handle, start=1):
                self.lines = number
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.bad.add(f"{self.path}:{number}: undecodable bytes (not UTF-8) at "
                                 f"byte {exc.start} of the line")
                    continue
                yield number, text.rstrip("\r\n")
