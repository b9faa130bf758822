"""Package-level contract: no global side effects on import."""

from __future__ import annotations

import subprocess
import sys


def test_import_leaves_warning_filters_and_matplotlib_alone():
    code = (
        "import warnings, matplotlib; f = list(warnings.filters); "
        "rc = dict(matplotlib.rcParams); import calcstats; "
        "assert warnings.filters == f, warnings.filters[: len(warnings.filters) - len(f)]; "
        "assert dict(matplotlib.rcParams) == rc; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
