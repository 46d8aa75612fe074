"""POST /channels/telegram/webhook through the Chalice test client, on moto, with the real adapters: the
conversation table (DynamoTelegramStore), the Bot API client (HttpBotApi, urllib) against a stub Bot API server
on 127.0.0.1, and the stream reactions pushing a status change to the chat (AwsNotifier -> sendMessage).

GIVEN a configured bot, WHEN Telegram (or someone else) calls the webhook, THEN the secret token decides,
an update is handled once, and a whole conversation ends in one complaint routed like the form's.
"""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.telegram_updates import event

SECRET_TOKEN = "functional-telegram-secret-0123456789"
BOT_TOKEN = "123456789:AAHfunctional-test-token-for-qalqan"
WEBHOOK = "/channels/telegram/webhook"
CHAT = 512345678



class StubBotApi:
    """A Bot API on 127.0.0.1: records each call (method, JSON payload, the token in its path)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                token, _, method = self.path.lstrip("/").partition("/")
                stub.calls.append((method, token, payload))
                result = {"message_id": len(stub.calls)}
                if method == "getWebhookInfo":
                    hooks = [p for m, _, p in stub.calls if m == "setWebhook"]
                    result = {"url": hooks[-1]["url"] if hooks else "", "pending_update_count": 3,
                              "allowed_updates": hooks[-1]["allowed_updates"] if hooks else []}
                body = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self) -> list[dict]:
        return [payload for method, _, payload in self.calls if method == "sendMessage"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot_api():
    stub = StubBotApi()
    yield stub
    stub.close()


@pytest.fixture
def bot(aws, demo, client, bot_api):
    """The app with the bot configured, its replies and pushes going to the stub Bot API."""
    from chalicelib.adapters.messaging import AwsNotifier
    from chalicelib.adapters.telegram import HttpBotApi
    from chalicelib.bootstrap import container, use_container

    base = container()
    settings = replace(base.settings, telegram_bot_token_value=BOT_TOKEN, telegram_secret_token_value=SECRET_TOKEN,
                       telegram_bot_username="qalqan_test_bot", telegram_api_base_url=bot_api.url)
    c = replace(base, settings=settings, telegram=HttpBotApi(BOT_TOKEN, bot_api.url), notifier=AwsNotifier(settings))
    use_container(c)
    return c


def call(client, update, *, secret: str | None = SECRET_TOKEN, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = raw if raw is not None else json.dumps(update, ensure_ascii=False).encode("utf-8")
    return client.http.post(WEBHOOK, body=body, headers=headers)


def items():
    from chalicelib.adapters.tables import TelegramTable

    return sum(1 for _ in TelegramTable.scan())  # test-only: never in a request path


# --- the secret ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("secret,status,code", [(None, 401, "missing_secret_token"), ("", 401, "missing_secret_token"),
                                                ("wrong-secret-wrong-secret-0123456", 403, "invalid_secret_token"),
                                                (SECRET_TOKEN[:-1], 403, "invalid_secret_token")])
def test_a_missing_or_wrong_secret_token_is_refused_and_nothing_happens(bot, client, bot_api, secret, status, code):
    response = call(client, event("start_plain"), secret=secret)
    assert response.status_code == status
    assert json.loads(response.body)["error"]["code"] == code
    assert bot_api.calls == [] and items() == 0


def test_without_a_configured_bot_the_webhook_does_not_exist(aws, client):
    response = call(client, event("start_plain"))
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "telegram_unavailable"


@pytest.mark.parametrize("raw,code", [(b"not json", "malformed_json"), (b"[1, 2]", "malformed_json"),
                                      (b'{"message": {}}', "invalid_update"), (b'{"update_id": "7"}', "invalid_update")])
def test_a_body_that_is_no_update_is_a_400_in_the_house_shape(bot, client, raw, code):
    response = call(client, None, raw=raw)
    assert response.status_code == 400 and json.loads(response.body)["error"]["code"] == code


def test_updates_the_bot_ignores_are_still_answered_200_so_telegram_stops_sending_them(bot, client, bot_api):
    for name in ("edited_message", "group_message"):
        response = call(client, event(name))
        assert response.status_code == 200 and json.loads(response.body)["status"] == "ignored"
    assert bot_api.calls == []


# --- once only ----------------------------------------------------------------------------------------------
def test_the_same_update_id_twice_is_processed_once(bot, client, bot_api, demo):
    update = event("start_deep_link", text=f"/start {demo['outlets'][0]['code']}")
    first, again = call(client, update), call(client, update)
    assert (first.status_code, again.status_code) == (200, 200)
    assert (json.loads(first.body)["status"], json.loads(again.body)["status"]) == ("handled", "duplicate")
    assert len(bot_api.messages()) == 1
    # the token travels in the URL path only, as the Bot API wants it
    assert bot_api.calls[0][:2] == ("sendMessage", f"bot{BOT_TOKEN}")
    assert bot_api.messages()[0]["chat_id"] == CHAT


def test_an_update_another_worker_holds_is_a_503_so_telegram_re_sends_it_and_it_is_not_lost(bot, client, bot_api,
                                                                                             demo):
    from chalicelib.services.telegram import LEASE_SECONDS

    update = event("start_deep_link", text=f"/start {demo['outlets'][0]['code']}", update_id=77)
    store = bot.telegram_store
    assert store.claim_update(77, now=bot.clock.now(), lease_seconds=LEASE_SECONDS) == "claimed"
    busy = call(client, update)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == str(int(LEASE_SECONDS))
    assert json.loads(busy.body)["error"]["code"] == "update_in_progress"
    assert bot_api.messages() == []
    store.release_update(77)  # the other worker failed and gave the claim up: Telegram's re-send is handled
    again = call(client, update)
    assert again.status_code == 200 and json.loads(again.body)["status"] == "handled"
    assert len(bot_api.messages()) == 1


# --- a whole conversation -----------------------------------------------------------------------------------
def _converse(client, bot_api, code: str) -> dict:
    """/start <code>, what happened, the phone, then "Send"; returns the stub's last message."""
    assert call(client, event("start_deep_link", text=f"/start {code}", update_id=1)).status_code == 200
    assert call(client, event("text", update_id=2)).status_code == 200
    keyboard = bot_api.messages()[-1]["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    assert call(client, event("contact", update_id=3)).status_code == 200
    publish = bot_api.messages()[-1]["reply_markup"]["inline_keyboard"][0]
    no = next(b["callback_data"] for b in publish if b["callback_data"].endswith(":0"))
    assert call(client, event("callback_send", data=no, update_id=30)).status_code == 200
    buttons = bot_api.messages()[-1]["reply_markup"]["inline_keyboard"][0]
    send = next(b["callback_data"] for b in buttons if b["callback_data"].startswith("send:"))
    return event("callback_send", data=send, update_id=4)


def test_a_whole_conversation_creates_one_complaint_routed_like_the_form(bot, client, bot_api, demo):
    from chalicelib.adapters.tables import ComplaintTable, ContactTable

    outlet = demo["outlets"][0]
    confirm = _converse(client, bot_api, outlet["code"])
    assert sum(1 for _ in ComplaintTable.scan()) == 0  # nothing until "Send"
    assert call(client, confirm).status_code == 200
    again = event("callback_send", data=confirm["callback_query"]["data"], update_id=5)
    assert call(client, again).status_code == 200   # "Send" pressed a second time
    assert call(client, confirm).status_code == 200  # and the first press re-sent by Telegram
    complaints = list(ComplaintTable.scan())
    assert len(complaints) == 1
    complaint = complaints[0]
    preview = json.loads(client.http.post("/routing/preview", headers={"Content-Type": "application/json"}, body=json.dumps(
        {"outlet_code": outlet["code"], "text": event("text")["message"]["text"]})).body)
    assert complaint.agency_id == preview["agency"]["id"]
    assert (complaint.channel, complaint.outlet_code, complaint.language) == ("telegram", outlet["code"], "kk")
    assert complaint.identified is True and complaint.publish_consent is False
    # the phone is in the vault, the complaint has only a reference
    assert ContactTable.get(complaint.contact_ref).phone == "+77011234567"
    final = bot_api.messages()[-1]["text"]
    assert complaint.id in final and f"track.html#id={complaint.id}&token=" in final
    assert preview["agency"]["name"]["kk"] in final
    answers = [p for m, _, p in bot_api.calls if m == "answerCallbackQuery"]
    assert answers and complaint.id in answers[-1]["text"]  # the second press: "already sent"
    tracking = json.loads(client.http.get(f"/complaints/{complaint.id}?token={final.split('token=')[1].split()[0]}").body)
    assert tracking["id"] == complaint.id


def test_the_chat_id_is_kept_on_the_vault_side_never_on_the_complaint(bot, client, bot_api, demo):
    from chalicelib.adapters.tables import ComplaintTable, TelegramTable

    call(client, _converse(client, bot_api, demo["outlets"][0]["code"]))
    complaint = next(iter(ComplaintTable.scan()))
    assert str(CHAT) not in json.dumps(complaint.serialize(), default=str)
    link = TelegramTable.get(f"complaint#{complaint.id}")
    assert link.chat_id == str(CHAT) and link.expires_at is not None
    assert TelegramTable.Meta.table_name.endswith("-telegram")


def test_a_status_change_is_pushed_to_the_chat_after_the_agency_acts(bot, client, bot_api, demo):
    from chalicelib.adapters.tables import ComplaintTable
    from local.streams import StreamReader

    reader = StreamReader(ComplaintTable.Meta.table_name)
    reader.read()
    call(client, _converse(client, bot_api, demo["outlets"][0]["code"]))
    complaint = next(iter(ComplaintTable.scan()))
    key = demo["keys"]["agencies"][complaint.agency_id]
    response = client.http.post(f"/agency/complaints/{complaint.id}/status", body=json.dumps({"status": "in_review"}),
                                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.body
    before = len(bot_api.messages())
    records = reader.read()
    client.lambda_.invoke("reactions", {"Records": records})
    pushed = bot_api.messages()[before:]
    assert len(pushed) == 1, pushed  # the submission itself was answered by the bot, not pushed again
    assert pushed[0]["chat_id"] == CHAT and complaint.id in pushed[0]["text"]
    assert "track.html#id=" in pushed[0]["text"]
    assert "айран" not in pushed[0]["text"]  # never the complaint's text
    client.lambda_.invoke("reactions", {"Records": records})  # Lambda delivers the batch again
    assert len(bot_api.messages()) == before + 1


def test_outlet_cards_carry_the_deep_link_only_when_the_bot_is_named(aws, demo, client):
    from chalicelib.bootstrap import container, use_container

    code = demo["outlets"][0]["code"]
    assert "telegram_url" not in json.loads(client.http.get(f"/outlets/{code}").body)
    base = container()
    use_container(replace(base, settings=replace(base.settings, telegram_bot_username="qalqan_test_bot")))
    card = json.loads(client.http.get(f"/outlets/{code}").body)
    assert card["telegram_url"] == f"https://t.me/qalqan_test_bot?start={code}"


# --- the admin command ----------------------------------------------------------------------------------
def test_the_admin_command_sets_the_webhook_with_the_secret_token_and_prints_neither_secret(bot_api):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET_TOKEN,
           "TELEGRAM_API_BASE_URL": bot_api.url}
    url = "https://api.dev.qalqan.kz/api/channels/telegram/webhook"
    done = subprocess.run([sys.executable, "-m", "tools.admin", "telegram-set-webhook", "--url", url,
                           "--drop-pending-updates"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    method, token, payload = bot_api.calls[0]
    assert (method, token) == ("setWebhook", f"bot{BOT_TOKEN}")
    assert payload == {"url": url, "secret_token": SECRET_TOKEN, "max_connections": 40,
                       "allowed_updates": ["message", "callback_query"], "drop_pending_updates": True}
    assert url in done.stdout and "pending updates: 3" in done.stdout
    output = done.stdout + done.stderr
    assert BOT_TOKEN not in output and SECRET_TOKEN not in output
    refused = subprocess.run([sys.executable, "-m", "tools.admin", "telegram-set-webhook", "--url",
                              "http://api.dev.qalqan.kz/api/channels/telegram/webhook"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "https" in refused.stderr and len(bot_api.calls) == 2
