"""Render a sample Table 1 to PNG so its layout can be checked by eye.

Usage::

    python docs/scripts/render_table.py [OUTDIR] [--pbc]

Writes ``table1.html``, ``table1.docx``, ``table1.xlsx``, ``table1.tex`` and
``table1.md`` to OUTDIR (default ``/tmp/calcstats_render``), then

* ``table1_html.png``: the HTML page screenshotted by headless Chromium
  (``apt-get install chromium``);
* ``table1_docx.png`` and ``table1_xlsx.png``: the Word and Excel files converted by
  LibreOffice to PDF and by ``pdftoppm`` (poppler-utils) to PNG, when
  ``libreoffice``/``soffice`` and ``pdftoppm`` are installed;
* ``table1_tex.png``: ``table1.tex`` in a minimal article compiled by ``pdflatex``
  (packages booktabs, threeparttable), when installed.

Tools that are missing are reported and skipped. By default the table is made by hand
(no statistics), with the layout features of a real Table 1: a spanner, indented levels,
p-values, a suppressed cell and footnotes. With ``--pbc`` it is ``calcstats.table_one``
on the Mayo PBC data (``data/pbc.csv``, patients with a treatment arm).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from calcstats.tables import Table, suppression_note


def sample_table() -> Table:
    """A hand-made Table 1 (display strings only)."""
    rows = [
        (0, "Age, years", "58.2 (11.4)", "54.9 (12.0)", "56.1 (11.8)", "0.004", "0.28"),
        (0, "Female sex", "96 (61.9)", "171 (65.8)", "267 (64.3)", "0.48", "0.08"),
        (0, "Etiology", "", "", "", "<0.001", "0.71"),
        (1, "Primary biliary cholangitis", "41 (26.5)", "88 (33.8)", "129 (31.1)", "", ""),
        (1, "Primary sclerosing cholangitis", "38 (24.5)", "22 (8.5)", "60 (14.5)", "", ""),
        (1, "Hepatolithiasis", "47 (30.3)", "12 (4.6)", "59 (14.2)", "", ""),
        (1, "Chronic hepatitis B", "25 (16.1)", "134 (51.5)", "159 (38.3)", "", ""),
        (1, "Echinococcosis", "<5", "*", "8 (1.9)", "", ""),
        (
            0,
            "Bilirubin, mg/dL",
            "1.4 [0.8–3.2]",
            "0.9 [0.6–1.7]",
            "1.1 [0.7–2.2]",
            "<0.001",
            "0.41",
        ),
        (0, "Cirrhosis at baseline", "33 (21.3)", "40 (15.4)", "73 (17.6)", "0.17", "0.15"),
        (1, "Missing", "6 (3.9)", "5 (1.9)", "11 (2.7)", "", ""),
    ]
    body = pd.DataFrame(
        [r[1:] for r in rows],
        columns=[
            "Characteristic",
            "Yes (n = 155)",
            "No (n = 260)",
            "Overall (n = 415)",
            "p-value",
            "SMD",
        ],
    )
    return Table(
        body,
        title="Table 1. Baseline characteristics by intrahepatic calcification",
        indent=[r[0] for r in rows],
        spanners=[("Intrahepatic calcification", ["Yes (n = 155)", "No (n = 260)"])],
        footnotes=[
            "Mean (SD), median [IQR] or n (%).",
            "p-values: t-test, Wilcoxon rank-sum test, chi-square or Fisher's exact test. "
            "SMD, standardised mean difference.",
            suppression_note(5),
        ],
    )


def latex_document(table: Table) -> str:
    """A minimal pdflatex document around ``table.to_latex()``."""
    return (
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        "\\usepackage{threeparttable}\n\\usepackage[margin=2.5cm]{geometry}\n"
        "\\begin{document}\n" + table.to_latex() + "\\end{document}\n"
    )


def pbc_table() -> Table:
    """``table_one`` of the PBC trial patients by treatment arm, small cells suppressed."""
    import calcstats as cs

    pbc = pd.read_csv(Path(__file__).resolve().parents[2] / "data" / "pbc.csv")
    pbc = pbc.dropna(subset=["trt"])
    return cs.table_one(
        pbc,
        by="trt",
        variables=["age", "sex", "edema", "bili", "albumin", "stage", "ascites"],
        categorical=["edema", "stage"],
        nonnormal=["bili"],
        suppress_below=5,
    )


def main(outdir: str = "/tmp/calcstats_render", *, pbc: bool = False) -> int:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    t = pbc_table() if pbc else sample_table()
    (out / "table1.html").write_text(t.to_html(), encoding="utf-8")
    (out / "table1.tex").write_text(t.to_latex(), encoding="utf-8")
    (out / "table1.md").write_text(t.to_markdown(), encoding="utf-8")
    t.to_docx(out / "table1.docx")
    t.to_excel(out / "table1.xlsx")
    print(t)

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        png = out / "table1_html.png"
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--force-device-scale-factor=1.5",
                f"--screenshot={png}",
                "--window-size=1000,560",
                (out / "table1.html").resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        print("wrote", png)
    else:
        print("chromium not found: skipped the HTML screenshot")

    office = shutil.which("libreoffice") or shutil.which("soffice")
    pdftoppm = shutil.which("pdftoppm")
    if office and pdftoppm:
        for name in ("table1.docx", "table1.xlsx"):
            stem = name.replace(".", "_")
            subprocess.run(
                [
                    office,
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(out / stem),
                    str(out / name),
                ],
                capture_output=True,
                timeout=300,
            )
            pdf = out / stem / "table1.pdf"
            if not pdf.exists():
                print(f"LibreOffice could not convert {name} (is its component installed?)")
                continue
            subprocess.run(
                [pdftoppm, "-png", "-r", "110", "-singlefile", str(pdf), str(out / stem)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            print("wrote", out / f"{stem}.png")
    else:
        print("libreoffice or pdftoppm not found: skipped the Word and Excel renderings")

    pdflatex = shutil.which("pdflatex")
    if pdflatex and pdftoppm:
        (out / "table1_doc.tex").write_text(latex_document(t), encoding="utf-8")
        subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "table1_doc.tex"],
            cwd=out,
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "110",
                "-singlefile",
                str(out / "table1_doc.pdf"),
                str(out / "table1_tex"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        print("wrote", out / "table1_tex.png")
    else:
        print("pdflatex or pdftoppm not found: skipped the LaTeX rendering")
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--pbc"]
    sys.exit(main(*args[:1], pbc="--pbc" in sys.argv[1:]))
