"""table_one() against R (t.test, wilcox.test, oneway.test, kruskal.test, chisq.test,
fisher.test, hand-coded Yang & Dalton SMDs and survey-style weighted statistics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, DataError, InvalidParameterError, SchemaError

REL = 1e-6  # closed forms


def _raw(t, variable, group=None, level=None):
    f = t.to_frame()
    f = f[f["variable"] == variable]
    if group is not None:
        f = f[f["group"] == group]
    if level is not None:
        f = f[f["level"] == level]
    return f


@pytest.fixture()
def t1(trial):
    return cs.table_one(
        trial,
        by="trt",
        variables=["age", "sex", "bili", "chol", "stage", "edema", "ascites"],
        categorical=["stage", "edema"],
        nonnormal=["bili"],
    )


def test_continuous_summaries_match_r(trial, ref, t1):
    for var in ["bili", "chol"]:
        for g in ["1", "2"]:
            row = _raw(t1, var, float(g)).iloc[0]
            r = ref[f"t1_{var}"][g]
            assert row["mean"] == pytest.approx(r["mean"], rel=REL)
            assert row["sd"] == pytest.approx(r["sd"], rel=REL)
            assert row["missing"] == r["missing"]
            if var == "bili":  # nonnormal: quantiles as R quantile(type = 7)
                assert [row["median"], row["q1"], row["q3"]] == pytest.approx(
                    [r["median"], r["q1"], r["q3"]], rel=REL
                )
    n = _raw(t1, "n")
    assert n.set_index("group")["n"].to_dict() == {"Overall": 312, 1.0: 158, 2.0: 154}


def test_pvalues_match_r(trial, ref, t1):
    assert _raw(t1, "bili")["p_value"].iloc[0] == pytest.approx(ref["t1_p_bili_wilcox"], rel=REL)
    assert _raw(t1, "chol")["p_value"].iloc[0] == pytest.approx(ref["t1_p_chol_t"], rel=REL)
    assert _raw(t1, "sex")["p_value"].iloc[0] == pytest.approx(ref["t1_p_sex_chisq"], rel=REL)
    assert _raw(t1, "stage")["p_value"].iloc[0] == pytest.approx(ref["t1_p_stage_chisq"], rel=REL)
    assert _raw(t1, "edema")["p_value"].iloc[0] == pytest.approx(ref["t1_p_edema_chisq"], rel=REL)
    normal = cs.table_one(trial, by="trt", variables=["bili"])
    assert _raw(normal, "bili")["p_value"].iloc[0] == pytest.approx(ref["t1_p_bili_t"], rel=REL)
    assert _raw(normal, "bili")["test"].iloc[0] == "Welch two-sample t-test"
    by_stage = cs.table_one(trial, by="stage", variables=["age", "bili"], nonnormal=["bili"])
    assert _raw(by_stage, "age")["p_value"].iloc[0] == pytest.approx(ref["t1_p_age_anova"], rel=REL)
    assert _raw(by_stage, "bili")["p_value"].iloc[0] == pytest.approx(
        ref["t1_p_bili_kruskal"], rel=REL
    )


def test_fisher_when_expected_below_5(trial, ref):
    small = trial.iloc[:40]
    t = cs.table_one(small, by="trt", variables=["sex", "stage"], categorical=["stage"])
    sex = _raw(t, "sex").iloc[0]
    assert sex["test"] == "Fisher's exact test"
    assert sex["p_value"] == pytest.approx(ref["t1_small_p_sex_fisher"], rel=REL)
    stage = _raw(t, "stage").iloc[0]
    assert stage["test"].startswith("Fisher's exact test (Monte-Carlo")
    # Monte-Carlo p from 99,999 tables: SE <= 0.0016; R's value is exact
    assert stage["p_value"] == pytest.approx(ref["t1_small_p_stage_fisher"], abs=0.01)
    body = t.to_frame()
    assert body.loc[body["variable"] != "n", "p_value"].notna().all()
    assert any("Fisher's exact test (Monte-Carlo" in f for f in t.footnotes)


def test_categorical_counts(ref, t1):
    for g in ["1", "2"]:
        for lev, n in ref["t1_stage_counts"][g].items():
            row = _raw(t1, "stage", float(g), float(lev)).iloc[0]
            assert row["count"] == n


def test_smd_match_yang_dalton(trial, ref, t1):
    for var in ["bili", "age", "sex", "stage", "edema"]:
        assert _raw(t1, var)["smd"].iloc[0] == pytest.approx(ref[f"smd_{var}"], rel=REL), var
    # more than two groups: the mean of the pairwise SMDs (what R tableone prints), or
    # with smd="max" the largest
    kw = dict(by="stage", variables=["age", "sex", "edema"], categorical=["edema"])
    by_stage = cs.table_one(trial, **kw)
    largest = cs.table_one(trial, smd="max", **kw)
    for var in ["age", "sex", "edema"]:
        assert _raw(by_stage, var)["smd"].iloc[0] == pytest.approx(
            ref[f"smd_{var}_by_stage"], rel=REL
        ), var
        assert _raw(largest, var)["smd"].iloc[0] == pytest.approx(
            ref[f"smd_{var}_by_stage_max"], rel=REL
        ), var
    age = next(r for r in by_stage.cells if r[0] == "Age, mean (SD)")
    assert age[-1] == f"{ref['smd_age_by_stage']:.3f}"
    assert "SMD, standardised mean difference (mean of the 6 pairwise SMDs, as R tableone)." in (
        by_stage.footnotes
    )
    assert "SMD, standardised mean difference (largest of the 6 pairwise SMDs)." in (
        largest.footnotes
    )


def test_smd_option_is_checked(trial):
    for bad in ("average", "MAX", 1.5):
        with pytest.raises(InvalidParameterError) as err:
            cs.table_one(trial, by="trt", variables=["age"], smd=bad)
        assert str(err.value) == (
            "The 'smd' parameter of table_one must be True or False or one of 'mean', 'max'. "
            f"Got {bad!r}."
        )
    two = [cs.table_one(trial, by="trt", variables=["age"], smd=s) for s in (True, "mean", "max")]
    assert two[0].cells == two[1].cells == two[2].cells  # two groups: one pair
    assert "SMD" not in cs.table_one(trial, by="trt", variables=["age"], smd=False).columns


def test_weighted_matches_survey_formulas(trial, ref):
    tr = trial.assign(w=1 + (trial["age"] > 50) + 0.5 * trial["female"])
    t = cs.table_one(
        tr, by="trt", variables=["bili", "chol", "stage", "sex"], categorical=["stage"], weights="w"
    )
    b1, b2 = _raw(t, "bili", 1.0).iloc[0], _raw(t, "bili", 2.0).iloc[0]
    r = ref["w_bili"]
    assert [b1["mean"], b1["sd"], b2["mean"], b2["sd"], b1["smd"]] == pytest.approx(
        [r["mean1"], r["sd1"], r["mean2"], r["sd2"], r["smd"]], rel=REL
    )
    c1 = _raw(t, "chol", 1.0).iloc[0]
    assert [c1["mean"], c1["sd"], c1["smd"]] == pytest.approx(
        [ref["w_chol"]["mean1"], ref["w_chol"]["sd1"], ref["w_chol"]["smd"]], rel=REL
    )
    st = _raw(t, "stage", 1.0).sort_values("level")
    assert (st["percent"] / 100).tolist() == pytest.approx(ref["w_stage"]["p1"], rel=REL)
    assert st["n"].iloc[0] == pytest.approx(ref["w_stage"]["n1"], rel=REL)
    assert st["smd"].iloc[0] == pytest.approx(ref["w_stage"]["smd"], rel=REL)
    assert _raw(t, "sex")["smd"].iloc[0] == pytest.approx(ref["w_sex"]["smd"], rel=REL)
    assert "p-value" not in t.columns
    assert any("not shown for weighted" in f for f in t.footnotes)


def test_unit_weights_equal_unweighted(trial):
    a = cs.table_one(trial, by="trt", variables=["bili", "sex"], pvalues=False).to_frame()
    b = cs.table_one(
        trial.assign(w=1.0), by="trt", variables=["bili", "sex"], weights="w"
    ).to_frame()
    cols = ["n", "mean", "sd", "count", "percent", "smd"]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False)


def test_weighted_quantiles_are_replicated_inverse_cdf():
    rng = np.random.default_rng(5)
    x = rng.normal(size=41).round(2)
    w = rng.integers(1, 4, size=41)
    t = cs.table_one(pd.DataFrame({"x": x, "w": w.astype(float)}), nonnormal=["x"], weights="w")
    row = _raw(t, "x").iloc[0]
    rep = np.repeat(x, w)
    expected = np.quantile(rep, [0.5, 0.25, 0.75], method="inverted_cdf")
    assert [row["median"], row["q1"], row["q3"]] == pytest.approx(expected.tolist())


def test_layout_binary_bool_ordered_missing_labels():
    df = pd.DataFrame(
        {
            "grp": ["a", "b"] * 6,
            "flag": [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0],
            "yes": [True, False] * 6,
            "burden": pd.Categorical(
                [">5", "none", "1", "2-5"] * 3, categories=["none", "1", "2-5", ">5"], ordered=True
            ),
            "age": [50.0, np.nan, 60, 61, 40, 45, 52, 58, 49, 51, 47, 70],
        }
    )
    t = cs.table_one(df, by="grp", labels={"age": "Age, years", "grp": "Group"})
    labels = t.to_frame()
    shown = [row[0] for row in t.cells]
    assert shown[:3] == ["n", "Flag, n (%)", "Yes, n (%)"]
    i = shown.index("Burden, n (%)")
    assert shown[i + 1 : i + 5] == ["none", "1", "2-5", ">5"]
    assert (
        "Age, years, mean (SD)" in shown
        and shown[shown.index("Age, years, mean (SD)") + 1] == "Missing"
    )
    assert t.indent[i + 1] == 1 and t.indent[i] == 0
    flag = next(r for r in t.cells if r[0] == "Flag, n (%)")
    assert flag[1] == "6 (50.0)"  # overall: count of the 1 level and its percent
    assert labels[labels["variable"] == "yes"]["level"].tolist()[:1] == [0]
    assert t.spanners[0][0] == "Group"


def test_no_by_gives_overall_only(trial):
    t = cs.table_one(trial, variables=["age", "sex"])
    assert t.columns == ("Characteristic", "Overall")


def test_missing_false_hides_missing_row(trial):
    t = cs.table_one(trial, by="trt", variables=["chol"], missing=False)
    assert "Missing" not in [r[0] for r in t.cells]


def test_default_variables_skip_identifiers_and_dates(trial):
    df = trial.assign(
        pid=[f"P{i}" for i in range(len(trial))], index_date=pd.Timestamp("2020-01-01")
    )
    t = cs.table_one(df[["pid", "index_date", "age", "trt"]], by="trt")
    assert set(t.to_frame()["variable"]) == {"n", "age"}
    with pytest.raises(DataError, match="dates"):
        cs.table_one(df, by="trt", variables=["index_date"])


def test_input_errors(trial, pbc):
    with pytest.raises(SchemaError, match="Did you mean 'bili'"):
        cs.table_one(trial, by="trt", variables=["billi"])
    with pytest.raises(DataError, match="missing value"):
        cs.table_one(pbc, by="trt", variables=["age"])
    with pytest.raises(CalcstatsError, match="categorical"):
        cs.table_one(trial, by="trt", variables=["sex"], nonnormal=["sex"])
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'suppress_below' parameter of table_one must be None when weights= is given: "
            r"weighted counts are not patient counts\. Got 5\."
        ),
    ):
        cs.table_one(
            trial.assign(w=1.0), by="trt", variables=["sex"], weights="w", suppress_below=5
        )
    with pytest.raises(InvalidParameterError, match="must not include the grouping column"):
        cs.table_one(trial, by="trt", variables=["trt", "age"])
    with pytest.raises(DataError, match="empty"):
        cs.table_one(trial.iloc[:0], by="trt")


def test_row_order_invariance(trial):
    a = cs.table_one(
        trial,
        by="trt",
        variables=["age", "bili", "stage"],
        categorical=["stage"],
        nonnormal=["bili"],
    )
    b = cs.table_one(
        trial.sample(frac=1, random_state=1),
        by="trt",
        variables=["age", "bili", "stage"],
        categorical=["stage"],
        nonnormal=["bili"],
    )
    assert a.cells == b.cells


def test_suppression_hides_small_counts_and_protects_totals(trial):
    small = trial.iloc[:60]
    t = cs.table_one(
        small,
        by="trt",
        variables=["edema", "stage", "ascites"],
        categorical=["edema", "stage"],
        suppress_below=5,
    )
    plain = cs.table_one(
        small, by="trt", variables=["edema", "stage", "ascites"], categorical=["edema", "stage"]
    )
    raw = plain.to_frame()
    cells = {r[0] + str(i): r for i, r in enumerate(t.cells)}
    assert any("<5" in c for r in cells.values() for c in r)
    assert any("<5: count between 1 and 4" in f for f in t.footnotes)
    # every visible count cell shows a count >= 5 or 0, never 1..4
    for r in t.cells:
        for c in r[1:4]:
            if c and c[0].isdigit():
                n = int(c.split(" ")[0].replace(",", ""))
                assert n == 0 or n >= 5
    # line rule: within each variable block, a group column with a hidden cell has >= 2
    # unknown cells (hidden or not printed), so no count follows from the group size
    for var in ["edema", "stage"]:
        levels = raw[(raw["variable"] == var) & (raw["group"] == "Overall")]["level"]
        idx = next(i for i, r in enumerate(t.cells) if r[0] == f"{var.capitalize()}, n (%)")
        block = t.cells[idx + 1 : idx + 1 + len(levels)]
        for j in range(1, 4):
            hidden = sum(1 for r in block if r[j] in ("<5", "*"))
            assert hidden != 1, (var, j)
        for r in block:  # rows: the Overall total must not reveal a single hidden group cell
            hidden = sum(1 for c in r[1:4] if c in ("<5", "*"))
            assert hidden != 1, (var, r)


def test_table_exports_reopen(tmp_path, t1):
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "t1.xlsx"
    t1.to_excel(path)
    ws = openpyxl.load_workbook(path).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [str(v) for row in values for v in row if v is not None]
    assert "Age, mean (SD)" in flat
    age = next(r for r in t1.cells if r[0] == "Age, mean (SD)")
    assert age[1] in flat and age[4] in flat


def test_docx_reopened_cell_by_cell(tmp_path, t1):
    docx = pytest.importorskip("docx")
    path = tmp_path / "t1.docx"
    t1.to_docx(path)
    table = docx.Document(str(path)).tables[0]
    texts = [[c.text.strip() for c in row.cells] for row in table.rows]
    body_rows = [r for r in texts if r and r[0] in {c[0].strip() for c in t1.cells}]
    expected = [[c.strip() for c in row] for row in t1.cells]
    # every body row of the Table appears, in order, with identical cells
    matched = [r for r in body_rows if r in expected]
    assert len(matched) == len(expected)
    assert [r[0] for r in matched] == [r[0] for r in expected]


def test_agrees_with_python_tableone(trial):
    tableone = pytest.importorskip("tableone")
    import warnings

    cols = ["age", "bili", "chol", "sex", "edema", "ascites"]
    cat = ["sex", "edema", "ascites"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = tableone.TableOne(
            trial,
            columns=cols,
            categorical=cat,
            nonnormal=["bili"],
            groupby="stage",
            pval=True,
            smd=True,
            include_null=False,
        )
    ours = cs.table_one(
        trial, by="stage", variables=cols, categorical=["edema"], nonnormal=["bili"]
    ).to_frame()
    ours = ours[ours["variable"] != "n"].groupby("variable").first()
    p = theirs.htest_table["P-Value"].astype(float)
    # tableone (Python) gives one SMD column per pair; the default summary is their mean
    smd = theirs.smd_table.astype(float).abs().mean(axis=1)
    for var in cols:
        if theirs.htest_table.loc[var, "Test"] in (
            "One-way ANOVA",
            "Kruskal-Wallis",
            "Chi-squared",
        ):
            assert ours.loc[var, "p_value"] == pytest.approx(p[var], rel=1e-9), var
        assert ours.loc[var, "smd"] == pytest.approx(smd[var], rel=1e-9), var


@pytest.mark.parametrize("kw", [{"by": None}, {"by": "trt", "overall": False}])
def test_suppression_without_overall_or_groups(trial, kw):
    small = trial.iloc[:50]
    t = cs.table_one(
        small, variables=["edema", "stage"], categorical=["edema", "stage"], suppress_below=5, **kw
    )
    raw = t.to_frame()
    counts = raw.dropna(subset=["count"])
    count_cols = [j for j, name in enumerate(t.columns) if j > 0 and name not in ("p-value", "SMD")]
    shown = [r[j] for r in t.cells for j in count_cols]
    # every count of 1..4 in the raw numbers is hidden in the display
    small_counts = counts[(counts["count"] >= 1) & (counts["count"] < 5)]
    assert len(small_counts) > 0
    for c in shown:
        if c and c[0].isdigit():
            n = int(c.split(" ")[0])
            assert n == 0 or n >= 5


@pytest.fixture()
def patients() -> pd.DataFrame:
    """Canonical columns and codes, as cohort.patient_table() gives them."""
    rng = np.random.default_rng(11)
    n = 120
    return pd.DataFrame(
        {
            "any_calcification": rng.integers(0, 2, n),
            "sex": rng.choice(["M", "F"], n),
            "etiology": rng.choice(["masld", "pbc", "psc"], n),
            "age_at_index": rng.normal(55, 10, n).round(1),
        }
    )


def test_canonical_columns_and_levels_print_as_labels(patients):
    t = cs.table_one(patients, by="any_calcification")
    shown = [r[0] for r in t.cells]
    assert shown == [
        "n",
        "Sex, n (%)",
        "Female",
        "Male",
        "Etiology, n (%)",
        "Primary biliary cholangitis",
        "Primary sclerosing cholangitis",
        "MASLD",
        "Age at index (years), mean (SD)",
    ]
    assert t.spanners[0][0] == "Any calcification"
    # the raw numbers keep the codes
    raw = t.to_frame()
    assert set(raw.loc[raw["variable"] == "sex", "level"]) == {"F", "M"}
    female = raw.query("variable == 'sex' and level == 'F' and group == 'Overall'")["count"]
    assert next(r for r in t.cells if r[0] == "Female")[1].startswith(f"{int(female.iloc[0])} (")


def test_labels_merge_with_defaults_and_set_level_order(patients):
    lab = cs.Labels(
        variables={"age_at_index": "Age"},
        levels={
            "etiology": {"psc": "PSC", "pbc": "PBC"},
            "any_calcification": {1: "Calcification", 0: "None"},
        },
    )
    t = cs.table_one(patients, by="any_calcification", labels=lab)
    shown = [r[0] for r in t.cells]
    i = shown.index("Etiology, n (%)")
    assert shown[i + 1 : i + 4] == ["PSC", "PBC", "MASLD"]  # listed first, in their order
    assert "Age (years), mean (SD)" in shown  # the schema's unit stays
    assert t.columns[1:4] == ("Overall", "Calcification", "None")
    assert t.spanners == (("Any calcification", ("Calcification", "None")),)
    # group columns follow the labels' order; their numbers follow their group
    raw = t.to_frame()
    n1 = raw.query("variable == 'n' and group == 1")["n"].iloc[0]
    assert t.cells[0][2] == f"{n1:,.0f}"
    # a dict gives variable labels over the same defaults
    d = cs.table_one(patients, by="any_calcification", labels={"sex": "Gender"})
    assert [r[0] for r in d.cells][1:4] == ["Gender, n (%)", "Female", "Male"]


def test_zero_weights_are_set_aside_and_counted(trial):
    w = np.where(trial.index < 10, 0.0, 1.0)
    t = cs.table_one(trial.assign(w=w), by="trt", variables=["age", "sex"], weights="w")
    kept = cs.table_one(
        trial.iloc[10:].assign(w=1.0), by="trt", variables=["age", "sex"], weights="w"
    )
    assert t.cells == kept.cells
    assert "10 rows with weight 0 set aside (not counted)." in t.footnotes
    assert not any("weight 0" in f for f in kept.footnotes)
    one = cs.table_one(
        trial.assign(w=np.where(trial.index == 4, 0.0, 1.0)),
        by="trt",
        variables=["age"],
        weights="w",
    )
    assert "1 row with weight 0 set aside (not counted)." in one.footnotes


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            -1.0,
            r"weights column 'w' must hold finite numbers >= 0; 1 row\(s\) do not "
            r"\(rows \[7\]: \[-1\.0\]\)",
        ),
        (
            np.inf,
            r"weights column 'w' must hold finite numbers >= 0; 1 row\(s\) do not "
            r"\(rows \[7\]: \[inf\]\)",
        ),
        (np.nan, r"weights: column 'w' has 1 missing value\(s\)"),
    ],
)
def test_bad_weights_are_errors_naming_rows(trial, value, message):
    w = np.where(trial.index == 7, value, 1.0)
    with pytest.raises(DataError, match=message):
        cs.table_one(trial.assign(w=w), by="trt", variables=["age"], weights="w")
    with pytest.raises(DataError, match="every weight in 'w' is zero"):
        cs.table_one(trial.assign(w=0.0), by="trt", variables=["age"], weights="w")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "by",
            ["trt"],
            "The 'by' parameter of table_one must be a column name (str) or None. Got ['trt'].",
        ),
        (
            "overall",
            "yes",
            "The 'overall' parameter of table_one must be True or False. Got 'yes'.",
        ),
        ("pvalues", 1, "The 'pvalues' parameter of table_one must be True or False. Got 1."),
        ("missing", None, "The 'missing' parameter of table_one must be True or False. Got None."),
        (
            "suppress_below",
            1,
            "The 'suppress_below' parameter of table_one must be an integer >= 2 or None. Got 1.",
        ),
        (
            "variables",
            3,
            "The 'variables' parameter of table_one must be a column name or a "
            "list of column names or None. Got 3.",
        ),
        ("title", 3, "The 'title' parameter of table_one must be a str or None. Got 3."),
        (
            "labels",
            [("age", "Age")],
            "The 'labels' parameter must be a calcstats.Labels, a "
            "dict of variable labels or None. Got list.",
        ),
    ],
)
def test_options_are_checked(trial, option, value, message):
    kw = {"by": "trt", "variables": ["age"], option: value}
    with pytest.raises(InvalidParameterError) as err:
        cs.table_one(trial, **kw)
    assert str(err.value) == message
