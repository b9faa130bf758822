"""The publication Table model shared by every table calcstats makes.

A :class:`Table` holds display strings (already formatted with
:func:`~calcstats.tables.format_number` and friends), the layout a journal needs (title,
spanning column headers, indented row levels, footnotes) and, separately, the raw numbers
behind it (``.to_frame()``). The exporters live in their own modules (``_html``,
``_latex``, ``_markdown``, ``_docx``, ``_excel``, ``_text``); every one is deterministic:
the same table gives the same bytes.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from calcstats._errors import CalcstatsError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

__all__ = ["Table"]


def _cell_text(x: Any) -> str:
    if x is None or x is pd.NA or x is pd.NaT:
        return ""
    if isinstance(x, float) and x != x:
        return ""
    return str(x)


def _csv_row(fields: list[str]) -> str:
    """One CSV line: a field with a comma, quote, LF or CR is quoted (RFC 4180).

    ``csv.writer`` with ``\\n`` line ends leaves a lone CR unquoted, which readers take
    for a line break.
    """
    out = [
        '"' + f.replace('"', '""') + '"' if any(ch in f for ch in ',"\n\r') else f for f in fields
    ]
    if out == [""]:
        out = ['""']  # a row of one empty field is not a blank line
    return ",".join(out) + "\n"


class Table:
    """A publication table: display strings plus layout, with the raw numbers kept apart.

    Parameters
    ----------
    body : pandas.DataFrame
        Display strings, one row per table row. The first column holds the row labels;
        the column names are the column headings (unless ``headers`` is given) and must be
        unique. Missing values show as blank cells; other non-strings are shown with
        ``str()`` (format numbers first).
    title : str, optional
        Title printed above the table (e.g. ``"Table 1. Baseline characteristics"``).
    indent : sequence of int, optional
        Indentation level per body row: 0 for a variable or group header, 1 for its
        levels, 2 for a further level. Default: all 0.
    spanners : sequence of (str, sequence of str)
        Spanning headings as ``(label, [column names])``; the columns of one spanner must
        be adjacent in ``body`` and spanners may not overlap.
    footnotes : sequence of str
        Notes printed below the table (tests used, abbreviations, suppression rule).
    raw : pandas.DataFrame, optional
        The raw numbers behind the display, returned by :meth:`to_frame`.
    headers : sequence of str, optional
        The headings printed over the columns, one per body column (default: the body's
        column names). Headings may repeat when spanners tell the columns apart (two
        models' ``"HR (95% CI)"`` under ``"Crude"`` and ``"Adjusted"``); the body's
        column names stay unique keys (:attr:`keys`), which ``spanners`` refer to.

    Examples
    --------
    >>> import pandas as pd
    >>> body = pd.DataFrame({"Characteristic": ["Age, years", "Sex", "F", "M"],
    ...                      "Calcification": ["54.1 (10.2)", "", "40 (40.0)", "60 (60.0)"],
    ...                      "None": ["51.3 (11.0)", "", "55 (55.0)", "45 (45.0)"]})
    >>> t = Table(body, title="Table 1", indent=[0, 0, 1, 1],
    ...           spanners=[("Any calcification", ["Calcification", "None"])],
    ...           footnotes=["Mean (SD); n (%)."])
    >>> t.n_rows, t.n_cols
    (4, 3)
    >>> print(t.to_markdown().splitlines()[0])
    **Table 1**

    Two columns with one heading, told apart by their spanners:

    >>> body = pd.DataFrame({"Characteristic": ["Age"], "crude": ["1.10 (1.02–1.19)"],
    ...                      "adjusted": ["1.05 (0.97–1.14)"]})
    >>> t = Table(body, headers=["Characteristic", "HR (95% CI)", "HR (95% CI)"],
    ...           spanners=[("Crude", ["crude"]), ("Adjusted", ["adjusted"])])
    >>> t.columns, t.keys
    (('Characteristic', 'HR (95% CI)', 'HR (95% CI)'), ('Characteristic', 'crude', 'adjusted'))
    """

    def __init__(
        self,
        body: pd.DataFrame,
        *,
        title: str | None = None,
        indent: Sequence[int] | None = None,
        spanners: Sequence[tuple[str, Sequence[str]]] = (),
        footnotes: Sequence[str] = (),
        raw: pd.DataFrame | None = None,
        headers: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(body, pd.DataFrame):
            raise CalcstatsError(
                f"Table(body=...) must be a pandas DataFrame of display strings, got "
                f"{type(body).__name__}."
            )
        if body.shape[1] == 0:
            raise CalcstatsError(
                "Table(body=...) has no columns; the first column must hold the row labels."
            )
        names = [str(c) for c in body.columns]
        dupes = sorted({c for c in names if names.count(c) > 1})
        if dupes:
            raise CalcstatsError(
                f"Table(body=...) has repeated column names {dupes}; give each column a "
                "unique name and print the repeated heading with headers= (told apart by "
                "spanners=)."
            )
        self._keys: tuple[str, ...] = tuple(names)
        self._columns: tuple[str, ...] = self._check_headers(headers, self._keys)
        self._cells: tuple[tuple[str, ...], ...] = tuple(
            tuple(_cell_text(v) for v in row) for row in body.itertuples(index=False)
        )
        if title is not None and not isinstance(title, str):
            raise CalcstatsError(f"Table(title=...) must be a string or None, got {title!r}.")
        self._title = title
        self._indent = self._check_indent(indent, len(self._cells))
        self._spanners = self._check_spanners(spanners, self._keys)
        if isinstance(footnotes, str):
            raise CalcstatsError(
                "Table(footnotes=...) must be a list of strings, got one string; wrap it in "
                "a list: footnotes=[...]."
            )
        bad = [f for f in footnotes if not isinstance(f, str)]
        if bad:
            raise CalcstatsError(f"Table(footnotes=...) must hold strings, found {bad[0]!r}.")
        self._footnotes = tuple(footnotes)
        if raw is not None and not isinstance(raw, pd.DataFrame):
            raise CalcstatsError(
                f"Table(raw=...) must be a pandas DataFrame or None, got {type(raw).__name__}."
            )
        self._raw = None if raw is None else raw.copy()

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _check_headers(headers: Sequence[str] | None, keys: tuple[str, ...]) -> tuple[str, ...]:
        if headers is None:
            return keys
        if isinstance(headers, str) or not all(isinstance(h, str) for h in headers):
            raise CalcstatsError(
                "Table(headers=...) must be a list of strings, one heading per body column; "
                f"got {headers!r}."
            )
        shown = tuple(headers)
        if len(shown) != len(keys):
            raise CalcstatsError(
                f"Table(headers=...) has {len(shown)} headings but the body has {len(keys)} "
                "columns; give one heading per column, the row-label column first."
            )
        return shown

    @staticmethod
    def _check_indent(indent: Sequence[int] | None, n: int) -> tuple[int, ...]:
        if indent is None:
            return (0,) * n
        levels = list(indent)
        if len(levels) != n:
            raise CalcstatsError(
                f"Table(indent=...) has {len(levels)} entries but the body has {n} rows; give "
                "one level per row (0 = header, 1 = level)."
            )
        for i, lv in enumerate(levels):
            if isinstance(lv, bool) or not isinstance(lv, numbers.Integral) or lv < 0:
                raise CalcstatsError(
                    f"Table(indent=...) entry {i} is {lv!r}; levels must be whole numbers >= 0."
                )
        return tuple(int(lv) for lv in levels)

    @staticmethod
    def _check_spanners(
        spanners: Sequence[tuple[str, Sequence[str]]], columns: tuple[str, ...]
    ) -> tuple[tuple[str, int, int], ...]:
        """Return spanners as (label, first column position, last column position)."""
        out: list[tuple[str, int, int]] = []
        used: dict[int, str] = {}
        for sp in spanners:
            if not (isinstance(sp, tuple | list) and len(sp) == 2 and isinstance(sp[0], str)):
                raise CalcstatsError(f"Each spanner must be (label, [column names]), got {sp!r}.")
            label, cols = sp
            if isinstance(cols, str):
                cols = [cols]
            cols = [str(c) for c in cols]
            if not cols:
                raise CalcstatsError(f"Spanner {label!r} covers no columns.")
            missing = [c for c in cols if c not in columns]
            if missing:
                raise CalcstatsError(
                    f"Spanner {label!r} names columns {missing} that are not in the body; "
                    f"the body columns are {list(columns)}."
                )
            pos = sorted(columns.index(c) for c in cols)
            if pos != list(range(pos[0], pos[-1] + 1)):
                raise CalcstatsError(
                    f"Spanner {label!r} covers columns {cols} that are not adjacent in the "
                    "body; reorder the body columns so they sit side by side."
                )
            for p in pos:
                if p in used:
                    raise CalcstatsError(
                        f"Spanners {used[p]!r} and {label!r} both cover column {columns[p]!r}; "
                        "spanners may not overlap."
                    )
                used[p] = label
            out.append((label, pos[0], pos[-1]))
        return tuple(sorted(out, key=lambda s: s[1]))

    # ------------------------------------------------------------------ accessors
    @property
    def title(self) -> str | None:
        """The title, or None."""
        return self._title

    @property
    def columns(self) -> tuple[str, ...]:
        """Column headings as printed, the row-label column first (may repeat)."""
        return self._columns

    @property
    def keys(self) -> tuple[str, ...]:
        """The body's column names: unique keys of the columns (spanners refer to them)."""
        return self._keys

    @property
    def cells(self) -> tuple[tuple[str, ...], ...]:
        """Body display strings, row by row."""
        return self._cells

    @property
    def indent(self) -> tuple[int, ...]:
        """Indentation level of each body row."""
        return self._indent

    @property
    def spanners(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Spanning headings as (label, column keys), left to right."""
        return tuple((lab, self._keys[a : b + 1]) for lab, a, b in self._spanners)

    @property
    def footnotes(self) -> tuple[str, ...]:
        """Footnotes, in order."""
        return self._footnotes

    @property
    def n_rows(self) -> int:
        """Number of body rows."""
        return len(self._cells)

    @property
    def n_cols(self) -> int:
        """Number of columns, the label column included."""
        return len(self._columns)

    @property
    def body(self) -> pd.DataFrame:
        """A copy of the display strings as a DataFrame (columns named by :attr:`keys`)."""
        return pd.DataFrame(list(self._cells), columns=list(self._keys), dtype=object)

    def spanner_row(self) -> list[tuple[str, int, int]]:
        """The top header row as (text, first, last) runs covering every column.

        Columns under no spanner appear as single-column runs with empty text. Empty if
        the table has no spanners.
        """
        if not self._spanners:
            return []
        runs: list[tuple[str, int, int]] = []
        j = 0
        starts = {a: (lab, a, b) for lab, a, b in self._spanners}
        while j < self.n_cols:
            if j in starts:
                runs.append(starts[j])
                j = starts[j][2] + 1
            else:
                runs.append(("", j, j))
                j += 1
        return runs

    # ------------------------------------------------------------------ outputs
    def to_frame(self) -> pd.DataFrame:
        """The raw numbers behind the table (a copy), or the display strings if none."""
        return self.body if self._raw is None else self._raw.copy()

    def to_html(self, *, full_page: bool = True) -> str:
        """HTML: a standalone styled page, or with ``full_page=False`` a fragment.

        Parameters
        ----------
        full_page : bool, default True
            True: a complete UTF-8 HTML document with the journal style sheet. False: only
            the ``<table class="cs-table">`` element, without styles, for embedding in a
            page that includes :meth:`Table.css` once.

        Returns
        -------
        str
        """
        from calcstats.tables._html import table_to_html

        return table_to_html(self, full_page=full_page)

    @staticmethod
    def css() -> str:
        """The style sheet of ``to_html()`` pages: one serif font, rules above and below the
        table and under the header, no vertical lines. Scoped to ``table.cs-table``."""
        from calcstats.tables._html import TABLE_CSS

        return TABLE_CSS

    def _repr_html_(self) -> str:
        from calcstats.tables._html import table_to_html

        return f"<style>{self.css()}</style>\n" + table_to_html(self, full_page=False)

    def to_latex(self) -> str:
        """LaTeX ``table`` with booktabs rules (needs ``booktabs``; ``threeparttable`` when
        there are footnotes)."""
        from calcstats.tables._latex import table_to_latex

        return table_to_latex(self)

    def to_markdown(self) -> str:
        """A pipe table (GitHub / mkdocs Markdown) with the title above, notes below."""
        from calcstats.tables._markdown import table_to_markdown

        return table_to_markdown(self)

    def to_text(self) -> str:
        """Plain text with aligned columns (what ``repr`` shows)."""
        from calcstats.tables._text import table_to_text

        return table_to_text(self)

    def __repr__(self) -> str:
        return self.to_text()

    def to_docx(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        document: DocxDocument | None = None,
        font: str = "Times New Roman",
        font_size: float = 10,
        landscape: bool = False,
        page_size: str | None = None,
    ) -> DocxDocument:
        """Write the table to Word in journal style.

        A4 paper by default, one font throughout, title above, a rule above and below the
        header and below the table and no other lines, levels indented, footnotes below in
        a 1 pt smaller size. The saved file is reproducible (fixed timestamps).

        Parameters
        ----------
        path : path-like, optional
            Where to save (missing folders are created). Required unless ``document`` is
            given.
        document : docx.document.Document, optional
            An open python-docx Document to append the table to (e.g. a report holding
            several tables); it is saved to ``path`` only if ``path`` is given too.
        font : str, default "Times New Roman"
            The one font used (e.g. ``"Arial"``).
        font_size : float, default 10
            Point size of title and table (6 to 14).
        landscape : bool, default False
            Landscape pages: a new document is landscape throughout; with ``document=``
            a landscape section starts on a new page and the document continues in it.
        page_size : {"A4", "letter"}, optional
            Paper of a new document: A4 (the default) or US letter, 2.54 cm margins. Not
            with ``document=`` (an open document keeps its own paper).

        Returns
        -------
        docx.document.Document
            The document written to (new, or ``document``).
        """
        from calcstats.tables._docx import table_to_docx

        return table_to_docx(
            self,
            path,
            document=document,
            font=font,
            font_size=font_size,
            landscape=landscape,
            page_size=page_size,
        )

    def to_excel(
        self,
        path: str | os.PathLike[str],
        *,
        sheet_name: str = "Table",
        font: str = "Arial",
        font_size: float = 10,
    ) -> Path:
        """Write the table to a new Excel workbook.

        Spanners are merged cells, headings bold, levels indented, rules above and below
        the header and below the table, footnotes in the rows below, column widths fitted
        to the text. Cells hold the display strings (raw numbers: :meth:`to_frame`).

        Parameters
        ----------
        path : path-like
            The .xlsx file to write (overwritten; missing folders are created). Text that
            a spreadsheet would read as a formula is stored as text (Excel's quote prefix).
        sheet_name : str, default "Table"
            Worksheet name (1 to 31 characters, none of ``[]:*?/\\``).
        font : str, default "Arial"
            The one font of every cell.
        font_size : float, default 10
            Point size of the table (title 2 pt larger, footnotes 1 pt smaller).

        Returns
        -------
        pathlib.Path
        """
        from calcstats.tables._excel import table_to_excel

        return table_to_excel(self, path, sheet_name=sheet_name, font=font, font_size=font_size)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str | None:
        """Write the display table as CSV (UTF-8, ``\\n`` line ends).

        With spanners the first header row holds the spanner labels (repeated over their
        columns), the second the column headings. Indented rows keep their level as two
        leading spaces per level. A cell that a spreadsheet would read as a formula
        (starting with ``=``, ``@``, a tab, a carriage return, or ``+``/``-`` when it is
        not numeric text such as ``-1.5`` or ``-0.50 (-2.00 to -1.00)``) gets a leading
        ``'`` so that it opens as text (OWASP CSV injection). Missing folders of ``path``
        are created. Returns the text when ``path`` is None.

        Examples
        --------
        >>> t = Table(pd.DataFrame({"Level": ['=HYPERLINK("http://x")', "b"],
        ...                         "Estimate": ["-1.5", "2.0"]}))
        >>> print(t.to_csv())
        Level,Estimate
        "'=HYPERLINK(""http://x"")",-1.5
        b,2.0
        <BLANKLINE>
        """
        from calcstats.tables._files import formula_safe, output_path

        lines: list[str] = []
        runs = self.spanner_row()
        if runs:
            top = [""] * self.n_cols
            for text, a, b in runs:
                for j in range(a, b + 1):
                    top[j] = formula_safe(text)
            lines.append(_csv_row(top))
        lines.append(_csv_row([formula_safe(c) for c in self._columns]))
        for lvl, row in zip(self._indent, self._cells, strict=True):
            lines.append(_csv_row(["  " * lvl + formula_safe(row[0]), *map(formula_safe, row[1:])]))
        text = "".join(lines)
        if path is None:
            return text
        output_path(path).write_text(text, encoding="utf-8", newline="")
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (
            self._columns == other._columns
            and self._keys == other._keys
            and self._cells == other._cells
            and self._title == other._title
            and self._indent == other._indent
            and self._spanners == other._spanners
            and self._footnotes == other._footnotes
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable
