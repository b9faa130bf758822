"""read_cohort through an engine: folders, DuckDB files, connections, options, errors."""

from __future__ import annotations

import os

import duckdb
import ibis
import pandas as pd
import pytest

import calcstats as cs
from calcstats.cohort import EngineCohort

TABLES = ("patients", "imaging", "findings", "events")


def _write_parquet(cohort, folder) -> None:
    folder.mkdir(exist_ok=True)
    for name in TABLES:
        getattr(cohort, name).to_parquet(folder / f"{name}.parquet", index=False)


def test_pandas_stays_the_default(example_folder):
    cohort = cs.read_cohort(example_folder)
    assert isinstance(cohort, cs.Cohort)
    assert cohort.engine == "pandas"


def test_folder_of_parquet_read_by_duckdb_equals_pandas(pandas_cohort, tmp_path):
    _write_parquet(pandas_cohort, tmp_path / "pq")
    ref = cs.read_cohort(tmp_path / "pq")
    cohort = cs.read_cohort(tmp_path / "pq", engine="duckdb")
    assert isinstance(cohort, EngineCohort)
    assert cohort.engine == "duckdb"
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(cohort, name).to_pandas())
    # the same counts as the pandas cohort, and the engine named
    assert repr(cohort) == repr(ref)[:-1] + "; engine 'duckdb')"


def test_csv_folder_read_by_duckdb_equals_pandas(pandas_cohort, duck_cohort):
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(pandas_cohort, name), getattr(duck_cohort, name).to_pandas()
        )


def test_duckdb_file_tables_and_views_by_name(pandas_cohort, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    for name in ("patients", "imaging", "findings"):
        con.register("df", getattr(pandas_cohort, name))
        con.execute(f"CREATE TABLE {name.upper()} AS SELECT * FROM df")
        con.unregister("df")
    con.register("df", pandas_cohort.events)
    con.execute("CREATE TABLE clinical_events_raw AS SELECT * FROM df")
    con.execute("CREATE VIEW condition_events AS SELECT * FROM clinical_events_raw")
    con.close()
    cohort = cs.read_cohort(path, tables={"events": "condition_events"})
    assert cohort.engine == "duckdb"
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(pandas_cohort, name).reset_index(drop=True), getattr(cohort, name).to_pandas()
        )


def test_view_rows_have_no_position_but_the_problem_names_the_patient(pandas_cohort, tmp_path):
    path = tmp_path / "bad.duckdb"
    con = duckdb.connect(str(path))
    con.register("p", pandas_cohort.patients)
    con.execute("CREATE TABLE patients AS SELECT * FROM p")
    ev = pandas_cohort.events.copy()
    ev.loc[0, "event"] = "heart attack"
    con.register("e", ev)
    con.execute("CREATE TABLE ev_raw AS SELECT * FROM e")
    con.execute("CREATE VIEW events AS SELECT * FROM ev_raw")
    con.close()
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(path)
    prob = err.value.problems
    row = prob.loc[prob["rule"] == "unknown_value"].iloc[0]
    assert pd.isna(row["row"])
    assert row["patient_id"] == ev.loc[0, "patient_id"]
    assert row["message"].startswith(
        f"events (patient {ev.loc[0, 'patient_id']}): event = "
        "'heart attack' is not in the event vocabulary"
    )


def test_connection_with_temporary_views(pandas_cohort):
    con = ibis.duckdb.connect()
    for name in TABLES:
        con.create_table(f"src_{name}", getattr(pandas_cohort, name))
        con.raw_sql(f"CREATE TEMP VIEW {name} AS SELECT * FROM src_{name}")
    cohort = cs.read_cohort(con)
    assert cohort.engine == "duckdb" and cohort.connection is con
    pd.testing.assert_frame_equal(pandas_cohort.findings, cohort.findings.to_pandas())


def test_engine_options_set_memory_limit_and_spill_directory(example_folder, tmp_path):
    spill = tmp_path / "spill"
    cohort = cs.read_cohort(
        example_folder,
        engine="duckdb",
        engine_options={"memory_limit": "512MB", "threads": 1, "temp_directory": str(spill)},
    )
    con = cohort.connection
    limit = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") in ("488.2MiB", "512.0MB", "488.2MB")
    assert con.raw_sql("SELECT current_setting('threads')").fetchone()[0] == 1
    work = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    assert os.path.dirname(work) == str(spill)  # a subdirectory per connection
    assert os.path.exists(os.path.join(work, "work.duckdb"))  # the working database


def test_dataframes_through_duckdb(pandas_cohort):
    p = pandas_cohort.patients.copy()
    p["bmi"] = p["bmi"].astype(object)
    p.loc[3, "bmi"] = "unknown"  # numbers mixed with text, as read from Excel
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(patients=p, engine="duckdb")
    with pytest.raises(cs.CohortValidationError) as ref:
        cs.read_cohort(patients=p)
    cols = ["table", "row", "patient_id", "column", "value", "rule", "message"]
    pd.testing.assert_frame_equal(err.value.problems[cols], ref.value.problems[cols])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"engine": "spark"}, "engine must be one of"),
        ({"engine_options": {"memory_limit": "1GB"}}, "apply to engine sources only"),
        ({"engine": "duckdb", "engine_options": {"memory": "1GB"}}, "unknown option"),
        ({"engine": "duckdb", "engine_options": {"pull_limit": 0}}, "positive whole number"),
        ({"engine": "duckdb", "tables": {"visits": "x"}}, "unknown table"),
        ({"engine": "duckdb", "tables": {"events": "nope"}}, "not a table or view"),
    ],
)
def test_bad_engine_arguments_are_refused(example_folder, kwargs, match):
    with pytest.raises(cs.SchemaError, match=match):
        cs.read_cohort(example_folder, **kwargs)


def test_xlsx_in_an_engine_folder_is_refused(pandas_cohort, tmp_path):
    pandas_cohort.patients.head(3).to_excel(tmp_path / "patients.xlsx", index=False)
    with pytest.raises(cs.SchemaError, match="reads parquet and CSV"):
        cs.read_cohort(tmp_path, engine="duckdb")


def test_duckdb_file_needs_the_duckdb_engine(tmp_path):
    path = tmp_path / "x.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(cs.SchemaError, match="is a DuckDB database"):
        cs.read_cohort(path, engine="pandas")
    assert os.path.exists(path)
