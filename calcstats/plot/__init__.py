"""calcstats.plot: publication figures. Reads result objects; never computes statistics.

Importing this module never changes matplotlib's global state; use :func:`theme` to
style figures (as a setter, a ``with`` block or a decorator).
"""

from calcstats.plot._competing import cumulative_incidence_causes
from calcstats.plot._distribution import distribution
from calcstats.plot._effects import dose_response, prevalence
from calcstats.plot._flow import flow_diagram
from calcstats.plot._forest import forest
from calcstats.plot._landmark import landmark
from calcstats.plot._love import love
from calcstats.plot._multistate import state_probabilities, transitions
from calcstats.plot._overlap import overlap
from calcstats.plot._ph import ph_diagnostics
from calcstats.plot._risk_table import risk_table
from calcstats.plot._save import save_figure
from calcstats.plot._segment_map import segment_map
from calcstats.plot._survival import survival
from calcstats.plot._theme import JOURNALS, LINESTYLES, OKABE_ITO, theme

__all__ = [
    "JOURNALS",
    "LINESTYLES",
    "OKABE_ITO",
    "cumulative_incidence_causes",
    "distribution",
    "dose_response",
    "flow_diagram",
    "forest",
    "landmark",
    "love",
    "overlap",
    "ph_diagnostics",
    "prevalence",
    "risk_table",
    "save_figure",
    "segment_map",
    "state_probabilities",
    "survival",
    "theme",
    "transitions",
]
