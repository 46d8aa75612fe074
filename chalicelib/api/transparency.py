"""Public transparency: the outlet's and the business's public record, and the open-data files. One Blueprint with full paths (registered in app.py without a prefix)."""
from __future__ import annotations

from chalice import Blueprint

transparency_api = Blueprint(__name__)
