"""Make Office Open XML files (.docx, .xlsx) byte-for-byte reproducible.

python-docx and openpyxl stamp zip entries (and openpyxl the document properties) with the
current time, so the same table saved twice gives different bytes. ``normalise_zip``
rewrites the archive with entries in the same order, a fixed timestamp (1980-01-01, the
zip epoch) and fixed compression.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

__all__ = ["normalise_zip"]

_EPOCH = (1980, 1, 1, 0, 0, 0)


def normalise_zip(path: Path) -> None:
    """Rewrite the zip archive at ``path`` with fixed entry timestamps."""
    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o600 << 16
            dst.writestr(new, src.read(info.filename))
    path.write_bytes(out.getvalue())
