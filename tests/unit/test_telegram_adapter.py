"""The Bot API client (urllib) against a local server that misbehaves on demand, and the Telegram settings.

The token is in every URL: no error, repr or log line may show it."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.adapters.telegram import HttpBotApi
from chalicelib.services.telegram import BotApiError
from chalicelib.settings import ConfigurationError, load_settings

TOKEN = "987654321:AAE-unit-test-token-not-real-000"


class Server:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                if outer.mode == "slow":
                    time.sleep(1.0)
                status, answer = {
                    "ok": (200, {"ok": True, "result": {"message_id": 1}}),
                    "slow": (200, {"ok": True, "result": {}}),
                    "blocked": (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
                    "flood": (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3"}),
                    "down": (502, {}),
                    "refused": (200, {"ok": False, "description": "Bad Request: chat not found"}),
                    "garbage": (200, None),
                }[outer.mode]
                raw = b"<html>" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def test_send_message_posts_json_to_the_method_url_with_the_chat_as_a_number(server):
    server.mode = "ok"
    HttpBotApi(TOKEN, server.url).send_message("512345678", "Сәлем", reply_markup={"remove_keyboard": True})
    path, body = server.requests[-1]
    assert path == f"/bot{TOKEN}/sendMessage"
    assert body == {"chat_id": 512345678, "text": "Сәлем", "disable_web_page_preview": True,
                    "reply_markup": {"remove_keyboard": True}}


def test_a_text_over_telegrams_limit_is_cut_not_refused(server):
    server.mode = "ok"
    HttpBotApi(TOKEN, server.url).send_message("1", "я" * 5000)
    assert len(server.requests[-1][1]["text"]) == 4096


@pytest.mark.parametrize("mode,transient,words", [
    ("blocked", False, "HTTP 403 Forbidden: bot was blocked by the user"), ("flood", True, "HTTP 429"),
    ("down", True, "HTTP 502"), ("refused", False, "chat not found"), ("garbage", True, "not JSON")])
def test_failures_say_what_and_whether_to_retry_and_never_show_the_token(server, mode, transient, words):
    server.mode = mode
    with pytest.raises(BotApiError) as caught:
        HttpBotApi(TOKEN, server.url).send_message("1", "x")
    assert caught.value.transient is transient and words in str(caught.value)
    assert TOKEN not in str(caught.value) and caught.value.__cause__ is None


def test_a_slow_bot_api_is_given_up_after_the_timeout(server):
    server.mode = "slow"
    started = time.monotonic()
    with pytest.raises(BotApiError) as caught:
        HttpBotApi(TOKEN, server.url, timeout=0.2).answer_callback_query("1")
    assert time.monotonic() - started < 0.9 and caught.value.transient and TOKEN not in str(caught.value)


def test_an_unreachable_bot_api_is_a_transient_failure_without_the_url():
    with pytest.raises(BotApiError) as caught:
        HttpBotApi(TOKEN, "http://127.0.0.1:9", timeout=0.5).send_message("1", "x")
    assert caught.value.transient and TOKEN not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    assert TOKEN not in repr(HttpBotApi(TOKEN))


def test_set_webhook_sends_the_secret_and_only_the_updates_the_bot_reads(server):
    server.mode = "ok"
    HttpBotApi(TOKEN, server.url).set_webhook("https://api.example.kz/api/channels/telegram/webhook",
                                              secret_token="s" * 20)
    path, body = server.requests[-1]
    assert path.endswith("/setWebhook") and body["secret_token"] == "s" * 20
    assert body["allowed_updates"] == ["message", "callback_query"]


BASE = {"QALQAN_SECRET": "x" * 40, "AWS_REGION": "eu-central-1"}


def test_the_bot_is_off_until_both_secrets_are_given_and_they_are_never_in_the_repr():
    assert not load_settings(BASE).telegram_configured
    assert not load_settings({**BASE, "TELEGRAM_BOT_TOKEN": TOKEN}).telegram_configured
    on = load_settings({**BASE, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": "s" * 24,
                        "TELEGRAM_BOT_USERNAME": "@qalqan_bot"})
    assert on.telegram_configured and on.telegram_bot_username == "qalqan_bot"
    assert TOKEN not in repr(on) and "s" * 24 not in repr(on)
    by_parameter = load_settings({**BASE, "TELEGRAM_BOT_TOKEN_PARAMETER": "/qalqan/dev/telegram-bot-token",
                                  "TELEGRAM_SECRET_TOKEN_PARAMETER": "/qalqan/dev/telegram-secret-token"})
    assert by_parameter.telegram_configured  # known without reading SSM


@pytest.mark.parametrize("env,problem", [
    ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
    ({"TELEGRAM_SECRET_TOKEN": "short"}, "TELEGRAM_SECRET_TOKEN"),
    ({"TELEGRAM_SECRET_TOKEN": "has spaces in it, not allowed"}, "TELEGRAM_SECRET_TOKEN"),
    ({"TELEGRAM_BOT_USERNAME": "qalqan"}, "TELEGRAM_BOT_USERNAME"),
    ({"TELEGRAM_API_BASE_URL": "api.telegram.org"}, "TELEGRAM_API_BASE_URL")])
def test_bad_telegram_settings_fail_at_cold_start_naming_the_setting(env, problem):
    with pytest.raises(ConfigurationError) as caught:
        load_settings({**BASE, **env})
    assert problem in str(caught.value)
    assert TOKEN not in str(caught.value)
