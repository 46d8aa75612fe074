"""The Telegram channel: the Bot API webhook and the conversation that ends in a complaint. One Blueprint with full paths (registered in app.py without a prefix)."""
from __future__ import annotations

from chalice import Blueprint

telegram_api = Blueprint(__name__)
