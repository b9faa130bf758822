"""calcstats.report: assemble tables and figures into one study report (HTML, DOCX)."""

from calcstats.report._report import Report, software_versions

__all__ = ["Report", "software_versions"]
