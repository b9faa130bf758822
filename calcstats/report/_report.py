"""Assemble tables, figures and text into one self-contained study report (HTML, DOCX).

A :class:`Report` is an ordered list of blocks (headings, paragraphs, tables, figures).
Tables are calcstats :class:`~calcstats.Table` objects in journal style: a result is laid
out with its ``to_table(labels=...)`` and a DataFrame with its columns and levels shown
through the labels, so no column name reaches the report. Figures are rendered to PNG
when added, so the report holds no live matplotlib objects; the HTML embeds them (base64)
and needs no other file; the DOCX (A4 by default) uses python-docx.

Both files are reproducible: the same report gives the same bytes on any day. A date
appears only when the caller gives one (``Report(..., date=...)``): in the HTML header
line, under the title of the DOCX, and as the DOCX's created/modified dates (otherwise
fixed at 2000-01-01, with fixed zip entry times).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats.labels import Labels
from calcstats.results import Result
from calcstats.tables import Table

__all__ = ["Report", "software_versions"]

_PACKAGES = ("calcstats", "numpy", "pandas", "scipy", "patsy", "lifelines", "matplotlib")

_CSS = """
body { font-family: "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #111;
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #999; padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
.subtitle { color: #444; margin-top: 0; }
figure { margin: 1.2rem 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption, .caption { font-size: 0.92rem; color: #222; text-align: left; margin-top: 0.4rem; }
.block-table { margin: 1.2rem 0; overflow-x: auto; }
.block-table table { border-collapse: collapse; font-size: 0.9rem; }
.block-table th, .block-table td { padding: 0.15rem 0.6rem; }
.toc { background: #f6f6f6; padding: 0.6rem 1.2rem; }
.meta { color: #555; font-size: 0.85rem; }
"""


def software_versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Versions of Python and the packages behind the analysis (for a methods section).

    Examples
    --------
    >>> from calcstats.report import software_versions
    >>> "python" in software_versions()
    True
    """
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class _Block:
    kind: str
    payload: Any
    caption: str | None = None
    level: int = 2
    anchor: str = ""
    width_mm: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _check_date(date: object) -> _dt.date | None:
    """The report date as a ``datetime.date`` (from a date, datetime or ISO string)."""
    if date is None:
        return None
    if isinstance(date, _dt.datetime):
        return date.date()
    if isinstance(date, _dt.date):
        return date
    if isinstance(date, str):
        try:
            return _dt.date.fromisoformat(date.strip())
        except ValueError:
            pass
    raise CalcstatsError(
        f"Report(date=...) must be a datetime.date or an ISO date string such as "
        f"'2024-05-31', got {date!r}. Leave it out for a report without a date."
    )


def _frame_table(frame: pd.DataFrame, lab: Labels) -> Table:
    """A DataFrame as a Table: headings and level values through the labels."""
    body = pd.DataFrame(
        {
            str(col): [
                "" if not isinstance(v, str) and pd.isna(v) else lab.level(str(col), v)
                for v in frame[col]
            ]
            for col in frame.columns
        }
    )
    return Table(body, headers=[lab.variable(str(c)) for c in frame.columns])


def _fig_png(fig: Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


class Report:
    """An ordered study report of headings, text, tables and figures.

    Parameters
    ----------
    title : str
        Report title.
    subtitle : str, optional
        A line under the title (e.g. cohort and data cut).
    authors : str, optional
        Author line.
    date : datetime.date or str, optional
        Date of the report (e.g. the data cut or the day of the analysis; a
        ``datetime.date`` or ISO ``"2024-05-31"``). Shown in the report and stored as the
        DOCX document date. Default: no date, so reruns on other days give identical
        files.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd, tempfile, pathlib
    >>> from calcstats.report import Report
    >>> rep = Report("Example study")
    >>> rep.heading("Results")
    >>> rep.text("Two patients were analysed.")
    >>> rep.table(pd.DataFrame({"a": [1, 2]}), caption="Table 1. Example")
    >>> fig, ax = plt.subplots()
    >>> rep.figure(fig, caption="Figure 1. Empty axes")
    >>> out = rep.to_html(pathlib.Path(tempfile.mkdtemp()) / "report.html")
    """

    def __init__(
        self,
        title: str,
        *,
        subtitle: str | None = None,
        authors: str | None = None,
        date: _dt.date | str | None = None,
    ):
        self.title = title
        self.subtitle = subtitle
        self.authors = authors
        self.date = _check_date(date)
        self.blocks: list[_Block] = []

    # ---- building -------------------------------------------------------------------
    def heading(self, text: str, *, level: int = 2) -> None:
        """Add a section heading (level 2) or subsection heading (level 3)."""
        if level not in (2, 3):
            raise CalcstatsError(f"heading level must be 2 or 3, got {level!r}.")
        anchor = f"s{len(self.blocks)}"
        self.blocks.append(_Block("heading", str(text), level=level, anchor=anchor))

    def text(self, text: str) -> None:
        """Add a paragraph (blank lines start new paragraphs)."""
        for para in str(text).strip().split("\n\n"):
            if para.strip():
                self.blocks.append(_Block("text", " ".join(para.split())))

    def table(
        self,
        table: Any,
        *,
        caption: str | None = None,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        """Add a table: a calcstats ``Table``, a result, or a DataFrame.

        Parameters
        ----------
        table : Table, result or pandas.DataFrame
            A finished ``Table`` is shown as it is. A result (anything calcstats
            estimates) is laid out with ``result.to_table(labels=labels)``. A DataFrame
            is shown with its column names as labels name them (``"age_at_index"`` →
            "Age at index (years)") and its values by their level labels; format its
            numbers first.
        caption : str, optional
            Shown above the table (the table's own title is used when there is none).
        labels : Labels or dict, optional
            Display labels for a result or a DataFrame (merged over the schema's
            defaults). A finished ``Table`` keeps the labels it was made with, so
            ``labels=`` is refused for one.
        """
        if labels is not None and not isinstance(labels, Labels | Mapping):
            raise InvalidParameterError(
                "The 'labels' parameter of Report.table must be a calcstats.Labels, a dict "
                f"of variable labels or None. Got {type(labels).__name__}."
            )
        if isinstance(table, Table):
            if labels is not None:
                raise InvalidParameterError(
                    "The 'labels' parameter of Report.table applies to results and "
                    "DataFrames; this Table was laid out already. Pass labels= where it "
                    "was made (e.g. result.to_table(labels=...))."
                )
            shown = table
        elif isinstance(table, Result):
            shown = table.to_table() if labels is None else table.to_table(labels=labels)
        elif isinstance(table, pd.DataFrame):
            shown = _frame_table(table, Labels.default() | Labels.coerce(labels))
        else:
            raise CalcstatsError(
                "Report.table expects a calcstats Table, a result or a DataFrame, got "
                f"{type(table).__name__}."
            )
        self.blocks.append(_Block("table", shown, caption=caption))

    def figure(
        self,
        fig: Figure,
        *,
        caption: str | None = None,
        width_mm: float | None = None,
        dpi: int = 200,
    ) -> None:
        """Add a figure (rendered to PNG now; later changes to ``fig`` are not seen)."""
        if not isinstance(fig, Figure):
            raise CalcstatsError(
                f"Report.figure expects a matplotlib Figure, got {type(fig).__name__}; "
                "pass ax.figure for an Axes."
            )
        width = width_mm if width_mm is not None else fig.get_size_inches()[0] * 25.4
        self.blocks.append(_Block("figure", _fig_png(fig, dpi), caption=caption, width_mm=width))

    def methods(self, text: str | None = None) -> None:
        """Add a methods paragraph ending with the software versions used."""
        versions = software_versions()
        soft = ", ".join(f"{k} {v}" for k, v in versions.items() if k != "python")
        closing = (
            f"Analyses were run in Python {versions['python']} with {soft}. Estimates were "
            "checked against R (survival, cmprsk, stats) in the calcstats test suite."
        )
        self.text(f"{text.strip()} {closing}" if text else closing)

    # ---- output ---------------------------------------------------------------------
    def to_html(self, path: str | Path | None = None) -> str:
        """Render a self-contained HTML page (figures embedded); write it to ``path`` if given."""
        heads = [b for b in self.blocks if b.kind == "heading" and b.level == 2]
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        if self.subtitle:
            parts.append(f'<p class="subtitle">{html.escape(self.subtitle)}</p>')
        when = f" {self.date.isoformat()}" if self.date is not None else ""
        meta = f"Generated{when} with calcstats"
        if self.authors:
            meta = f"{html.escape(self.authors)} · {meta}"
        parts.append(f'<p class="meta">{meta}</p>')
        if len(heads) > 2:
            items = "".join(
                f'<li><a href="#{b.anchor}">{html.escape(b.payload)}</a></li>' for b in heads
            )
            parts.append(f'<nav class="toc"><b>Contents</b><ol>{items}</ol></nav>')
        for b in self.blocks:
            if b.kind == "heading":
                parts.append(f'<h{b.level} id="{b.anchor}">{html.escape(b.payload)}</h{b.level}>')
            elif b.kind == "text":
                parts.append(f"<p>{html.escape(b.payload)}</p>")
            elif b.kind == "table":
                cap = f'<p class="caption"><b>{html.escape(b.caption)}</b></p>' if b.caption else ""
                body = b.payload.to_html(full_page=False)
                parts.append(f'<div class="block-table">{cap}{body}</div>')
            elif b.kind == "figure":
                data = base64.b64encode(b.payload).decode("ascii")
                cap = f"<figcaption>{html.escape(b.caption)}</figcaption>" if b.caption else ""
                alt = html.escape(b.caption or "figure")
                # printed widths (85-190 mm) read small on a screen: show 1.6x, within the page
                assert b.width_mm is not None  # add_figure always sets it
                parts.append(
                    f'<figure><img style="width:min(100%, {1.6 * b.width_mm:.0f}mm)" alt="{alt}" '
                    f'src="data:image/png;base64,{data}">{cap}</figure>'
                )
        parts.append("</body></html>")
        page = "\n".join(parts)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(page, encoding="utf-8")
        return page

    def to_docx(self, path: str | Path, *, page_size: str = "A4") -> Path:
        """Write the report as a Word document (tables in journal style, figures as PNG).

        The file is byte-identical on rerun: fixed zip entry times, and document dates
        from ``date=`` (2000-01-01 without one). Missing folders are created.

        Parameters
        ----------
        path : path-like
        page_size : {"A4", "letter"}, default "A4"
            Paper, with 2.54 cm margins; figures are at most the text width.
        """
        from docx import Document
        from docx.shared import Mm, Pt

        from calcstats.tables._docx import check_page_size, set_page
        from calcstats.tables._zip import normalise_zip

        paper = check_page_size(page_size, "Report.to_docx")
        doc = Document()
        set_page(doc, paper)
        props = doc.core_properties
        props.title = self.title
        props.author = self.authors or "calcstats"
        props.last_modified_by = "calcstats"
        props.comments = "Made with calcstats"
        props.revision = 1
        stamp = _dt.datetime.combine(self.date or _dt.date(2000, 1, 1), _dt.time())
        props.created = props.modified = stamp
        style = doc.styles["Normal"]
        style.font.name = "Arial"
        style.font.size = Pt(10)
        doc.add_heading(self.title, level=0)
        if self.subtitle:
            doc.add_paragraph(self.subtitle)
        if self.authors:
            doc.add_paragraph(self.authors)
        if self.date is not None:
            doc.add_paragraph(self.date.isoformat())
        section = doc.sections[0]
        page_w, left, right = section.page_width, section.left_margin, section.right_margin
        assert page_w is not None and left is not None and right is not None  # set by set_page
        usable_mm = (page_w - left - right) / 36000
        for b in self.blocks:
            if b.kind == "heading":
                doc.add_heading(b.payload, level=b.level - 1)
            elif b.kind == "text":
                doc.add_paragraph(b.payload)
            elif b.kind == "table":
                if b.caption:
                    doc.add_paragraph().add_run(b.caption).bold = True
                b.payload.to_docx(None, document=doc)
            elif b.kind == "figure":
                width = min(float(b.width_mm or usable_mm), usable_mm)
                doc.add_picture(io.BytesIO(b.payload), width=Mm(width))
                if b.caption:
                    doc.add_paragraph(b.caption)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(path))
        normalise_zip(path, date=self.date)
        return path
