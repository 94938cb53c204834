"""Checks on rendered PDFs: their text (poppler's pdftotext) and their pages as PNG (pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is missing: ops/install-system-packages installs poppler-utils")
    return found


def pdf_text(pdf: bytes) -> str:
    """The PDF's text in reading order, pages separated by form feeds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        return subprocess.run(
            [_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout


def pdf_pages_png(pdf: bytes, folder: Path, resolution: int = 60) -> list[Path]:
    """Render every page to ``folder/page-N.png`` and return the paths in page order."""
    path = folder / "document.pdf"
    path.write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-png", "-r", str(resolution), str(path), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def blank_fraction(png: Path) -> float:
    """The share of a page's pixels that are pure white (a blank page is 1.0)."""
    from matplotlib import image

    pixels = image.imread(png)[..., :3]
    return float((pixels >= 0.999).all(axis=-1).mean())
