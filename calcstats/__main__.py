"""Command line: ``python -m calcstats validate FOLDER [--column-map JSON] [--exclude]``.

Reads and validates the cohort tables in FOLDER, prints every problem and the participant
flow. Exit code 0 when the data are valid, 1 when problems were found (also with
``--exclude``, which additionally prints the flow after leaving the affected patients
out), 2 when the tables cannot be read at all (missing file, bad column map).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from calcstats._errors import CalcstatsError, CohortValidationError

__all__ = ["main"]


def _column_map(text: str | None) -> dict | None:
    if text is None:
        return None
    path = Path(text)
    try:
        raw = path.read_text() if path.suffix == ".json" and path.exists() else text
        value = json.loads(raw)
    except (OSError, json.JSONDecodeError) as exc:
        raise CalcstatsError(
            f'--column-map must be JSON such as \'{{"PatID": "patient_id"}}\' or a .json '
            f"file holding it; could not read {text!r}: {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise CalcstatsError(f"--column-map must be a JSON object, got {type(value).__name__}.")
    return value


def _print_problems(err: CohortValidationError, out) -> None:
    print(str(err), file=out)
    print("", file=out)
    cols = ["table", "row", "patient_id", "column", "value", "rule"]
    with pd.option_context(
        "display.max_rows", 200, "display.width", 200, "display.max_colwidth", 40
    ):
        print(err.problems[cols].to_string(index=False, max_rows=200), file=out)


def _print_flow(cohort, out) -> None:
    print("", file=out)
    print("Participant flow:", file=out)
    frame = cohort.flow.to_frame(detail=True).drop(columns=["excluded_ids"])
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(frame.to_string(index=False), file=out)


def _validate(args: argparse.Namespace) -> int:
    out = sys.stdout
    from calcstats.cohort import read_cohort

    try:
        cmap = _column_map(args.column_map)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cohort = read_cohort(args.folder, column_map=cmap, date_format=args.date_format)
                status = 0
            except CohortValidationError as err:
                _print_problems(err, out)
                status = 1
                if not args.exclude:
                    return status
                cohort = read_cohort(
                    args.folder, column_map=cmap, on_error="exclude", date_format=args.date_format
                )
        for w in caught:
            print(f"warning: {w.message}", file=out)
    except CohortValidationError as err:  # problems that excluding cannot fix
        print("Excluding patients cannot fix these problems:", file=out)
        _print_problems(err, out)
        return 1
    except CalcstatsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if status == 0:
        print(f"The cohort tables are valid: {cohort!r}", file=out)
    _print_flow(cohort, out)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m calcstats`` and the ``calcstats`` console script."""
    parser = argparse.ArgumentParser(prog="calcstats", description="calcstats command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    val = sub.add_parser("validate", help="read and validate the cohort tables in a folder")
    val.add_argument("folder", help="folder holding patients/imaging/findings/events files")
    val.add_argument(
        "--column-map",
        default=None,
        help='JSON object (or a .json file) renaming columns, e.g. \'{"PatID": "patient_id"}\'',
    )
    val.add_argument(
        "--exclude",
        action="store_true",
        help="also show the flow after excluding the affected patients",
    )
    val.add_argument(
        "--date-format",
        default=None,
        help="'dmy' or 'mdy' for dates such as 01/02/2020, or a strftime format",
    )
    args = parser.parse_args(argv)
    return _validate(args)


if __name__ == "__main__":
    sys.exit(main())
