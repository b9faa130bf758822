"""HTML export of a :class:`~calcstats.tables.Table`: standalone page or embeddable fragment.

The fragment is plain semantic markup (``<table class="cs-table">`` with ``<caption>``,
``<thead>``, ``<tbody>``, ``<tfoot>``) and carries no styles, so a report can style it;
``TABLE_CSS`` is the journal style (one serif font, rules above and below the table and
under the header, no vertical lines) the standalone page and notebooks use.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calcstats.tables._table import Table

__all__ = ["TABLE_CSS", "table_to_html"]

TABLE_CSS = """\
table.cs-table { border-collapse: collapse; font-family: "Times New Roman", Times, serif;
  font-size: 10pt; color: #000; border-top: 1.5px solid #000; margin: 0.5em 0; }
table.cs-table caption { caption-side: top; text-align: left; font-weight: bold;
  padding-bottom: 0.4em; }
table.cs-table th, table.cs-table td { padding: 0.15em 0.8em; vertical-align: top;
  text-align: center; border: none; white-space: nowrap; }
table.cs-table th { font-weight: bold; vertical-align: bottom; }
table.cs-table th.cs-label, table.cs-table td.cs-label { text-align: left; padding-left: 0; }
table.cs-table thead tr:last-child th { border-bottom: 1px solid #000; }
table.cs-table th.cs-spanner { background: linear-gradient(#000, #000) no-repeat center
  bottom / calc(100% - 0.8em) 1px; }
table.cs-table tbody tr:first-child td { padding-top: 0.3em; }
table.cs-table tbody tr:last-child td { border-bottom: 1.5px solid #000;
  padding-bottom: 0.3em; }
table.cs-table tfoot td { text-align: left; font-size: 9pt; white-space: normal;
  padding: 0.1em 0 0 0; }
table.cs-table tfoot tr:first-child td { padding-top: 0.4em; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def table_to_html(table: Table, *, full_page: bool = True) -> str:
    """Render ``table`` as HTML.

    Parameters
    ----------
    table : Table
    full_page : bool, default True
        True: a complete UTF-8 HTML document with ``TABLE_CSS``. False: only the
        ``<table>`` element.

    Returns
    -------
    str
    """
    n = table.n_cols
    out: list[str] = ['<table class="cs-table">']
    if table.title:
        out.append(f"<caption>{_e(table.title)}</caption>")
    out.append("<thead>")
    runs = table.spanner_row()
    if runs:
        cells = []
        for text, a, b in runs:
            span = b - a + 1
            cls = ' class="cs-spanner"' if text else ""
            colspan = f' colspan="{span}"' if span > 1 else ""
            cells.append(f"<th{cls}{colspan}>{_e(text)}</th>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    heads = [f'<th class="cs-label">{_e(table.columns[0])}</th>']
    heads += [f"<th>{_e(c)}</th>" for c in table.columns[1:]]
    out.append("<tr>" + "".join(heads) + "</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    for lvl, row in zip(table.indent, table.cells, strict=True):
        style = f' style="padding-left: {1.2 * lvl:.1f}em"' if lvl else ""
        cells = [f'<td class="cs-label"{style}>{_e(row[0])}</td>']
        cells += [f"<td>{_e(v)}</td>" for v in row[1:]]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody>")
    if table.footnotes:
        out.append("<tfoot>")
        for note in table.footnotes:
            out.append(f'<tr><td colspan="{n}">{_e(note)}</td></tr>')
        out.append("</tfoot>")
    out.append("</table>")
    fragment = "\n".join(out)
    if not full_page:
        return fragment
    title = _e(table.title) if table.title else "Table"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>\nbody {{ margin: 1.5em; background: #fff; }}\n"
        f"{TABLE_CSS}</style>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )
