"""Tests for calcstats.report."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import re
import time
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from docx import Document

from calcstats import CalcstatsError
from calcstats.report import Report, software_versions


def _report() -> Report:
    rep = Report("Calcification study", subtitle="Example cohort", authors="A. Author")
    rep.heading("Participants")
    rep.text("First paragraph.\n\nSecond   paragraph\nwrapped.")
    rep.table(pd.DataFrame({"group": ["a", "b"], "n": [3, 4]}), caption="Table 1. Counts")
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    rep.figure(fig, caption="Figure 1. A line", width_mm=90)
    rep.heading("Methods")
    rep.methods("Cox models were fitted.")
    return rep


def test_html_is_self_contained(tmp_path):
    page = _report().to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page
    assert "<h1>Calcification study</h1>" in page
    assert "<p>Second paragraph wrapped.</p>" in page
    assert "Table 1. Counts" in page and "<td>4</td>" in page
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(imgs) == 1
    assert base64.b64decode(imgs[0]).startswith(b"\x89PNG")
    assert 'src="http' not in page and "<link" not in page  # nothing external
    versions = software_versions()
    assert f"Python {versions['python']}" in page
    assert "Cox models were fitted." in page


def test_docx_contents(tmp_path):
    path = _report().to_docx(tmp_path / "r.docx")
    doc = Document(path)
    texts = [p.text for p in doc.paragraphs]
    assert "Calcification study" in texts
    assert "Participants" in texts and "Methods" in texts
    assert "Figure 1. A line" in texts
    assert len(doc.tables) == 1
    assert doc.tables[0].cell(2, 1).text == "4"
    assert len(doc.inline_shapes) == 1
    assert doc.inline_shapes[0].width == pytest.approx(90 * 36000, rel=1e-3)


def test_bad_blocks():
    rep = Report("x")
    with pytest.raises(CalcstatsError, match="expects a matplotlib Figure"):
        rep.figure("not a figure")
    with pytest.raises(CalcstatsError, match="expects a calcstats Table"):
        rep.table([1, 2, 3])
    with pytest.raises(CalcstatsError, match="heading level"):
        rep.heading("x", level=5)


# ---- reproducible files: no date unless the caller gives one ----------------------------


def _write_everything(folder: Path, *, date=None) -> dict[str, bytes]:
    """Every file writer of calcstats, on one small table and one figure."""
    from calcstats.plot import save_figure
    from calcstats.tables import Table

    folder.mkdir(parents=True, exist_ok=True)
    body = pd.DataFrame({"Characteristic": ["Age, years", "Sex"], "Overall": ["54.1 (10.2)", "3"]})
    table = Table(body, title="Table 1", footnotes=["Mean (SD)."])
    table.to_docx(folder / "t.docx")
    table.to_excel(folder / "t.xlsx")
    table.to_csv(folder / "t.csv")
    (folder / "t.html").write_text(table.to_html(), encoding="utf-8")
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    save_figure(
        fig, folder / "f", width_mm=60, dpi=100, formats=("pdf", "png", "tiff", "svg", "eps")
    )
    rep = Report("Study", authors="A. Author", date=date)
    rep.table(table, caption="Table 1")
    rep.figure(fig, caption="Figure 1", dpi=100)
    rep.to_html(folder / "r.html")
    rep.to_docx(folder / "r.docx")
    plt.close(fig)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_files_identical_when_written_on_another_day(tmp_path, another_day):
    today = _write_everything(tmp_path / "today")
    moved = date.today() + _dt.timedelta(days=400)
    with another_day(400):  # the clock has moved for the writers
        assert _dt.date.today() == moved and _dt.datetime.now().date() == moved
        assert time.localtime()[:3] == moved.timetuple()[:3]
        later = _write_everything(tmp_path / "later")
    assert (
        sorted(today)
        == sorted(later)
        == [
            "f.eps",
            "f.pdf",
            "f.png",
            "f.svg",
            "f.tiff",
            "r.docx",
            "r.html",
            "t.csv",
            "t.docx",
            "t.html",
            "t.xlsx",
        ]
    )
    changed = [name for name in today if today[name] != later[name]]
    assert changed == []
    html = today["r.html"].decode()
    assert "Generated with calcstats" in html
    assert str(date.today().year) not in html.split("<body>")[1].split("<h2")[0]


def test_report_date_only_when_given(tmp_path, another_day):
    with another_day(3):
        files = _write_everything(tmp_path / "dated", date="2024-05-31")
    assert (
        '<p class="meta">A. Author · Generated 2024-05-31 with calcstats</p>'
        in files["r.html"].decode()
    )
    doc = Document(tmp_path / "dated" / "r.docx")
    assert "2024-05-31" in [p.text for p in doc.paragraphs]
    props = doc.core_properties
    assert props.created == props.modified == _dt.datetime(2024, 5, 31, tzinfo=_dt.UTC)
    assert props.author == "A. Author" and props.title == "Study"
    again = Report("Study", date=_dt.date(2024, 5, 31))
    assert again.date == Report("Study", date=_dt.datetime(2024, 5, 31, 14, 3)).date
    with pytest.raises(CalcstatsError, match="ISO date string such as '2024-05-31'"):
        Report("Study", date="31/05/2024")


def test_writers_create_missing_folders(tmp_path):
    from calcstats.tables import Table

    t = Table(pd.DataFrame({"a": ["1"]}))
    deep = tmp_path / "results" / "tables" / "2024"
    assert t.to_docx(deep / "a" / "t.docx") is not None
    assert t.to_excel(deep / "b" / "t.xlsx") == deep / "b" / "t.xlsx"
    assert t.to_csv(deep / "c" / "t.csv") is None
    assert (deep / "c" / "t.csv").read_text(encoding="utf-8") == "a\n1\n"
    assert Report("x").to_docx(deep / "d" / "r.docx").stat().st_size > 0
    assert (deep / "a" / "t.docx").stat().st_size > 0
    assert (deep / "b" / "t.xlsx").stat().st_size > 0


# ---- labels, paper, and a results section written with inline() -------------------------


def test_tables_show_labels_not_column_names(tmp_path):
    import calcstats as cs
    from calcstats import InvalidParameterError

    frame = pd.DataFrame(
        {"etiology": ["pbc", "psc"], "age_at_index": ["54.1", "49.8"], "sex": ["F", "M"]}
    )
    rep = Report("Labels")
    rep.table(frame, caption="Table 1. By etiology")
    rep.table(frame, labels=cs.Labels(variables={"etiology": "Cause"}))
    pbc = cs.datasets.load_pbc()
    fit = cs.cox(pbc, "age + C(edema)", time="time", event="status", cause=2)
    rep.table(fit, labels={"edema": "Oedema"})
    page = rep.to_html()
    for heading in ("Etiology", "Age at index (years)", "Sex", "Cause", "Oedema"):
        assert heading in page
    for value in ("Primary biliary cholangitis", "Primary sclerosing cholangitis", "Female"):
        assert value in page
    for code in ("age_at_index", ">pbc<", "C(edema)"):
        assert code not in page
    doc = Document(rep.to_docx(tmp_path / "r.docx"))
    assert [c.text for c in doc.tables[0].rows[0].cells] == [
        "Etiology",
        "Age at index (years)",
        "Sex",
    ]
    assert doc.tables[2].rows[1].cells[0].text == "Age"
    with pytest.raises(InvalidParameterError, match="this Table was laid out already"):
        rep.table(fit.to_table(), labels={"edema": "Oedema"})
    with pytest.raises(InvalidParameterError, match=r"'labels' parameter of Report\.table"):
        rep.table(frame, labels=["etiology"])


def test_docx_is_a4_unless_letter_is_asked_for(tmp_path):
    from calcstats import InvalidParameterError

    sec = Document(_report().to_docx(tmp_path / "a4.docx")).sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297
    sec = Document(_report().to_docx(tmp_path / "l.docx", page_size="letter")).sections[0]
    assert round(sec.page_width.mm, 1) == 215.9
    with pytest.raises(InvalidParameterError, match=r"'page_size' parameter of Report\.to_docx"):
        _report().to_docx(tmp_path / "x.docx", page_size="A3")


def test_results_section_from_inline_fragments(tmp_path):
    """The sentences of a results section, written from the results themselves."""
    import calcstats as cs

    pbc = cs.datasets.load_pbc()
    pbc = pbc.assign(years=pbc["time"] / 365.25)
    lab = cs.Labels(units={"years": "years"})
    fit = cs.cox(pbc, "age + C(edema)", time="years", event="status", cause=2)
    km = cs.kaplan_meier(pbc, time="years", event="status", cause=2, labels=lab)
    lr = cs.logrank(pbc, time="years", event="status", cause=2, by="edema")
    fu = cs.median_followup(pbc, time="years", event="status", labels=lab)
    lin = cs.linear(pbc, "np.log(bili) ~ age")
    text = (
        f"Median follow-up was {fu.inline()}. Five-year survival was {km.inline(5)}. "
        f"Survival differed by edema (log-rank {lr.inline()}). Each year of age raised the "
        f"hazard of death ({fit.inline('age', digits=3)}); edema carried "
        f"{fit.inline('C(edema)[T.1.0]')}. Bilirubin did not change with age "
        f"({lin.inline('age', digits=3)})."
    )
    row = fit.tidy().set_index("term").loc["age"]
    surv = km.at([5]).iloc[0]
    f = fu.tidy().iloc[0]
    lrow = lin.tidy().set_index("term").loc["age"]
    assert text == (
        f"Median follow-up was {f['estimate']:.1f} years (95% CI {f['conf_low']:.1f}–"
        f"{f['conf_high']:.1f}). Five-year survival was {100 * surv['estimate']:.1f}% "
        f"(95% CI {100 * surv['conf_low']:.1f}–{100 * surv['conf_high']:.1f}%). Survival "
        f"differed by edema (log-rank χ²(2) = {lr.statistic:.2f}, p < 0.001). Each year of "
        f"age raised the hazard of death (HR {row['estimate']:.3f} (95% CI "
        f"{row['conf_low']:.3f}–{row['conf_high']:.3f}; p < 0.001)); edema carried HR "
        f"{fit.tidy().set_index('term').loc['C(edema)[T.1.0]', 'estimate']:.2f} (95% CI "
        f"{fit.tidy().set_index('term').loc['C(edema)[T.1.0]', 'conf_low']:.2f}–"
        f"{fit.tidy().set_index('term').loc['C(edema)[T.1.0]', 'conf_high']:.2f}; p < 0.001). "
        f"Bilirubin did not change with age (Estimate {lrow['estimate']:.3f} (95% CI "
        f"{lrow['conf_low']:.3f} to {lrow['conf_high']:.3f}; p = {lrow['p_value']:.2f}))."
    )
    assert lrow["conf_low"] < 0 < lrow["conf_high"]  # the bounds are joined with "to"
    rep = Report("Results")
    rep.heading("Results")
    rep.text(text)
    assert f"<p>{html.escape(text)}</p>" in rep.to_html()
    assert text in [p.text for p in Document(rep.to_docx(tmp_path / "r.docx")).paragraphs]
