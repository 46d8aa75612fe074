"""The example Telegram updates in tests/functional/events/telegram/ (the Bot API's shape, see docs/telegram.md),
loaded for the unit, functional and end-to-end tests of the bot."""
from __future__ import annotations

import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parent / "functional" / "events" / "telegram"


def event(name: str, **changes) -> dict:
    """The update `name`; `update_id=` replaces its id, any other keyword a field of its message or callback."""
    update = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    body = update.get("message") or update.get("callback_query")
    for key, value in changes.items():
        if key == "update_id":
            update["update_id"] = value
        else:
            body[key] = value
    return update
