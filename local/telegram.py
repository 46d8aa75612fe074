"""The local stack's fake Telegram Bot API: what the bot would send is written to the outbox, nothing leaves.

The webhook (POST /channels/telegram/webhook) is the real one; only the Bot API client behind it is swapped,
so a conversation can be driven over HTTP with recorded update JSON (tests/functional/events/telegram/) and
read back from GET /_local/outbox: one line per message, "channel": "telegram", with the "text" the chat would
show and its "buttons" (an inline button's callback_data, or "request_contact").
"""
from __future__ import annotations

from datetime import datetime, timezone


class FakeBotApi:
    """BotApi (chalicelib/services/telegram.py) that records into an outbox (local/outbox.py)."""

    def __init__(self, outbox) -> None:
        self.outbox = outbox

    def send_message(self, chat_id: str, text: str, *, reply_markup: dict | None = None) -> None:
        self._record("sendMessage", chat_id, text, buttons(reply_markup))

    def answer_callback_query(self, callback_id: str, *, text: str | None = None) -> None:
        self._record("answerCallbackQuery", None, text or "", [])

    def _record(self, method: str, chat_id: str | None, text: str, keys: list) -> None:
        from chalicelib.services.notifications import masked

        self.outbox.append({
            "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "channel": "telegram",
            "audience": "consumer", "to": masked(chat_id, "telegram") if chat_id else "", "complaint_id": None,
            "template": method, "language": "", "text": text, "buttons": keys,
        })


def buttons(markup: dict | None) -> list[dict]:
    """The buttons a markup shows, flattened: {"text", "callback_data"} or {"text", "request_contact": true}."""
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [{k: v for k, v in button.items() if k in ("text", "callback_data", "request_contact")}
            for row in rows for button in row]


def install(container, outbox) -> FakeBotApi:
    fake = FakeBotApi(outbox)
    container.telegram = fake
    return fake
