"""Make Office Open XML files (.docx, .xlsx) byte-for-byte reproducible.

python-docx and openpyxl stamp zip entries with the current time, and openpyxl writes the
save time into ``docProps/core.xml``, so the same table saved twice gives different
bytes. ``normalise_zip`` rewrites the archive with entries in the same order, a fixed
timestamp (1980-01-01, the zip epoch), fixed compression, and the document's
created/modified dates set to 2000-01-01, or to the date the caller gives (e.g. the
``date=`` of a :class:`~calcstats.report.Report`), never to the day the file was written.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path

__all__ = ["normalise_zip"]

_EPOCH = (1980, 1, 1, 0, 0, 0)
_FIXED_DATE = b"2000-01-01T00:00:00Z"
_DATES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")


def normalise_zip(path: Path, *, date: _dt.date | None = None) -> None:
    """Rewrite the zip archive at ``path`` with fixed entry timestamps and dates.

    ``date`` (a day) is written as the document's created/modified date; default
    2000-01-01.
    """
    stamp = _FIXED_DATE if date is None else f"{date.isoformat()}T00:00:00Z".encode()
    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _DATES.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            new = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o600 << 16
            dst.writestr(new, content)
    path.write_bytes(out.getvalue())
