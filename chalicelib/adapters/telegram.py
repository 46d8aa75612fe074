"""The Telegram Bot API over HTTPS with the standard library (urllib): no SDK, a few calls, short timeouts.

The token is part of every method's URL (https://api.telegram.org/bot<token>/<method>), so no URL, request or
urllib exception text ever reaches a log or an exception message from here: errors name the method, the HTTP
status and Telegram's own `description` only. Chat ids are not logged either (they reach a person).
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

from chalicelib.services.telegram import BotApiError

# The webhook answers Telegram while the consumer waits: a reply that cannot be sent in a few seconds is
# given up (the conversation state is already saved) rather than holding the request.
TIMEOUT_SECONDS = 4.0
MAX_TEXT = 4096  # Telegram's limit for one message


class HttpBotApi:
    """BotApi (chalicelib/services/telegram.py) against `base_url` (Telegram's, or the local stack's fake)."""

    def __init__(self, token: str, base_url: str = "https://api.telegram.org", *, timeout: float = TIMEOUT_SECONDS,
                 opener=None) -> None:
        self._token = token
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._open = opener or urllib.request.build_opener(urllib.request.HTTPHandler, urllib.request.HTTPSHandler).open

    def __repr__(self) -> str:
        return f"HttpBotApi(base_url={self._base!r})"  # never the token

    def call(self, method: str, payload: dict) -> dict:
        """One Bot API method; its `result`, or BotApiError (transient for timeouts, 429 and 5xx)."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(f"{self._base}/bot{self._token}/{method}", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with self._open(request, timeout=self._timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            description = _description(exc)
            raise BotApiError(f"Bot API {method}: HTTP {exc.code} {description}".rstrip(),
                              transient=exc.code == 429 or exc.code >= 500) from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BotApiError(f"Bot API {method}: not reached ({reason.__class__.__name__})", transient=True) from None
        except ValueError:
            raise BotApiError(f"Bot API {method}: the answer is not JSON", transient=True) from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            description = answer.get("description", "") if isinstance(answer, dict) else ""
            raise BotApiError(f"Bot API {method}: {str(description)[:200]}", transient=False)
        return answer.get("result") or {}

    def send_message(self, chat_id: str, text: str, *, reply_markup: dict | None = None) -> None:
        payload = {"chat_id": int(chat_id), "text": text[:MAX_TEXT], "disable_web_page_preview": True}
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        self.call("sendMessage", payload)

    def answer_callback_query(self, callback_id: str, *, text: str | None = None) -> None:
        payload = {"callback_query_id": callback_id}
        if text:
            payload["text"] = text
        self.call("answerCallbackQuery", payload)

    def set_webhook(self, url: str, *, secret_token: str, max_connections: int = 40,
                    drop_pending_updates: bool = False) -> dict:
        """Point Telegram at our webhook, with the secret it must echo in X-Telegram-Bot-Api-Secret-Token.
        Only the update types the conversation reads are asked for."""
        return self.call("setWebhook", {
            "url": url, "secret_token": secret_token, "max_connections": max_connections,
            "allowed_updates": ["message", "callback_query"], "drop_pending_updates": drop_pending_updates,
        })

    def get_webhook_info(self) -> dict:
        return self.call("getWebhookInfo", {})


def _description(exc: urllib.error.HTTPError) -> str:
    try:
        answer = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    return str(answer.get("description", ""))[:200] if isinstance(answer, dict) else ""


def bot_from_settings(settings) -> HttpBotApi:
    return HttpBotApi(settings.telegram_bot_token, settings.telegram_api_base_url)
