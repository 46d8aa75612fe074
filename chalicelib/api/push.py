"""Web Push for the installable app: the server's public key and a complaint's push subscriptions. One Blueprint with full paths (registered in app.py without a prefix)."""
from __future__ import annotations

from chalice import Blueprint

push_api = Blueprint(__name__)
