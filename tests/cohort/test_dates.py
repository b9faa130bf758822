"""Impossible dates say which part is impossible; a column mixing day/month orders is named."""

from __future__ import annotations

import pandas as pd
import pytest
from cohort_tables import set_value, valid_tables

import calcstats as cs
from calcstats.cohort._dates import read_dates


def _problems(tables, **kw) -> pd.DataFrame:
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**tables, **kw)
    return err.value.problems


def test_month_impossible_with_the_chosen_order_suggests_the_other():
    t = valid_tables()
    t["patients"]["index_date"] = ["01/03/2015", "12/07/2016", "10/01/2014"]
    t = set_value(t, "patients", 0, "last_followup_date", "12/15/2020")
    p = _problems(t, date_format="dmy")
    row = p.loc[p["rule"] == "invalid_date"]
    assert row[["table", "row", "patient_id", "column", "value"]].values.tolist() == [
        ["patients", 0, "p1", "last_followup_date", "12/15/2020"]
    ]
    assert (
        "last_followup_date = '12/15/2020' is impossible: month 15 does not exist with "
        "date_format='dmy' (day/month/year); did you mean 'mdy'?"
    ) in row["message"].item()


def test_value_impossible_under_the_chosen_order_gives_one_column_summary():
    t = valid_tables()
    t["events"]["event_date"] = ["01/01/2016", "05/01/2018", "01/18/2018", "12/31/2019"]
    p = _problems(t, date_format="dmy")
    assert p.loc[p["rule"] == "invalid_date", "row"].tolist() == [2, 3]
    summary = p.loc[p["rule"] == "mixed_date_format"]
    assert len(summary) == 1 and summary["row"].isna().all()
    assert summary["message"].item() == (
        "events: column event_date has 2 value(s) that are impossible with "
        "date_format='dmy' (day/month/year) but valid as month/day/year (e.g. row 2 "
        "'01/18/2018'): the column seems to mix day-first and month-first dates, so its "
        "other values, read as day/month/year, may be wrong. Fix: check the column where it "
        "was exported and write every date as YYYY-MM-DD; if the whole column is "
        "month/day/year, pass date_format='mdy'"
    )


def test_column_mixing_day_first_and_month_first_gets_one_summary_and_row_problems():
    t = valid_tables()
    t["events"]["event_date"] = ["03/04/2016", "05/13/2018", "13/01/2018", "12/31/2019"]
    p = _problems(t)
    summary = p.loc[p["rule"] == "mixed_date_format", "message"]
    assert summary.tolist() == [
        "events: column event_date mixes day-first and month-first dates: 1 value(s) can "
        "only be day/month/year (e.g. row 2 '13/01/2018') and 2 only month/day/year (e.g. "
        "row 1 '05/13/2018'); each is read in the only order possible, and the 1 value(s) "
        "that could be either are reported as ambiguous_date. Fix: write every date as "
        "YYYY-MM-DD, or correct the values written in the other order at their source"
    ]
    assert p.loc[p["rule"] == "ambiguous_date", ["row", "value"]].values.tolist() == [
        [0, "03/04/2016"]
    ]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (
            "31/02/2015",
            "not a date as day/month/year (day 31 does not exist in February 2015) "
            "nor as month/day/year (month 31 does not exist)",
        ),
        ("2015-02-30", "day 30 does not exist in February 2015"),
        ("2015-13-01", "month 13 does not exist"),
        ("2015/04/31", "day 31 does not exist in April 2015"),
        ("25/13/2015", "neither 25 nor 13 can be a month"),
        ("01.13.2015", "month 13 does not exist (dates written with dots are day.month.year)"),
    ],
)
def test_impossible_dates_say_which_part(value, why):
    p = _problems(set_value(valid_tables(), "patients", 1, "index_date", value))
    msg = p.loc[p["rule"] == "invalid_date", "message"].item()
    assert msg.startswith(
        f"patients row 1 (patient p2): index_date = {value!r} is impossible: {why}. Fix: "
    )


def test_unreadable_text_keeps_the_general_message():
    p = _problems(set_value(valid_tables(), "patients", 1, "index_date", "last spring"))
    assert "'last spring' is not a date calcstats can read" in p["message"].item()


def test_a_single_impossible_value_is_not_evidence_of_an_order():
    # "31/31/2020" fits neither order: the other values stay ambiguous, not "mixed"
    parsed = read_dates(pd.Series(["31/31/2020", "03/04/2020", "25/12/2020"]))
    assert parsed.invalid.tolist() == [True, False, False]
    assert parsed.dates.iloc[1] == pd.Timestamp("2020-04-03")
    assert not parsed.only_mdy.any() and parsed.only_dmy.tolist() == [False, False, True]
