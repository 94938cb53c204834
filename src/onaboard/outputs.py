"""Files the commands write: whole or not at all.

A command's output is written to a temporary file beside its path and renamed into place once complete, so an
interrupted or failed run never leaves half a file where a reader would take it for a whole one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["NOT_WRITABLE", "not_writable", "written_whole"]

NOT_WRITABLE = "{option}: cannot write {path}: {reason}"


def not_writable(option: str, path: Path, error: OSError) -> str:
    """The problem a command reports for an output it could not write, naming its option and the file."""
    return NOT_WRITABLE.format(option=option, path=path, reason=error.strerror or error)


@contextmanager
def written_whole(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """The temporary path to write ``path``'s content to; renamed to ``path`` when the block ends without an error,
    removed otherwise. Raises ``IsADirectoryError`` (an ``OSError``) when ``path`` is a folder, ``.`` or ``/``.

    With ``mode`` (e.g. ``0o600`` for a backup) the temporary file is created empty with exactly that mode before
    the block writes it, whatever the umask or a partial file left by a killed run, so the file is never readable
    by others, not even while it is written."""
    if not path.name or path.is_dir():
        raise IsADirectoryError(21, "is a folder; name the file to write", str(path))
    partial = path.with_name(f".{path.name}.partial")
    try:
        if mode is not None:
            partial.unlink(missing_ok=True)  # a partial left behind keeps its mode through O_CREAT: start afresh
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
            partial.chmod(mode)  # the umask may have taken bits from mode; it gives none
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
