"""Files the commands write: whole or not at all.

A command's output is written to a temporary file beside its path and renamed into place once complete, so an
interrupted or failed run never leaves half a file where a reader would take it for a whole one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["NOT_WRITABLE", "not_writable", "written_whole"]

NOT_WRITABLE = "{option}: cannot write {path}: {reason}"


def not_writable(option: str, path: Path, error: OSError) -> str:
    """The problem a command reports for an output it could not write, naming its option and the file."""
    return NOT_WRITABLE.format(option=option, path=path, reason=error.strerror or error)


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """The temporary path to write ``path``'s content to; renamed to ``path`` when the block ends without an error,
    removed otherwise. Raises ``IsADirectoryError`` (an ``OSError``) when ``path`` is a folder, ``.`` or ``/``."""
    if not path.name or path.is_dir():
        raise IsADirectoryError(21, "is a folder; name the file to write", str(path))
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
