"""Moved to chalicelib.i18n; this re-export keeps current importers working until they switch."""
from chalicelib.i18n import ERRORS, FIELDS, localise, negotiate as language  # noqa: F401
