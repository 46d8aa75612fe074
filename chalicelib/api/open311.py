"""Open311 GeoReport v2 under /open311/v2/ (services, requests; JSON and XML as the specification requires). One Blueprint with full paths (registered in app.py without a prefix)."""
from __future__ import annotations

from chalice import Blueprint

open311_api = Blueprint(__name__)
