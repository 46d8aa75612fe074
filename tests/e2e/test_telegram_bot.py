"""The Telegram bot on the real local stack (`python -m local`), driven over HTTP with the recorded update JSON:
the webhook with the demo's secret token, the fake Bot API's messages read back from GET /_local/outbox, a
complaint routed exactly like a form submission, and the agency's action pushed to the chat by the stream pump."""
import re

from tests.telegram_updates import event

CHAT = 700000042
WEBHOOK = "/channels/telegram/webhook"


def update(name: str, update_id: int, **changes) -> dict:
    data = event(name, update_id=update_id)
    body = data.get("message") or data.get("callback_query")
    chat = body["message"]["chat"] if "callback_query" in data else body["chat"]
    chat["id"] = body["from"]["id"] = CHAT
    if "contact" in body:
        body["contact"]["user_id"] = CHAT
    body.update(changes)
    return data


def telegram_lines(stack) -> list[dict]:
    status, outbox = stack.json("GET", "/_local/outbox")
    assert status == 200
    return [item for item in outbox["items"] if item["channel"] == "telegram"]


def send(stack, data, secret=None) -> int:
    secret = stack.demo["telegram"]["secret_token"] if secret is None else secret
    status, _, _ = stack.request("POST", WEBHOOK, data, {"X-Telegram-Bot-Api-Secret-Token": secret})
    return status


def test_the_demo_file_names_the_local_bot_and_outlet_cards_link_to_it(stack):
    telegram = stack.demo["telegram"]
    assert telegram["bot_username"] == "qalqan_local_bot" and len(telegram["secret_token"]) >= 16
    code = stack.demo["outlets"][0]["code"]
    status, card = stack.json("GET", f"/outlets/{code}")
    assert status == 200 and card["telegram_url"] == f"https://t.me/qalqan_local_bot?start={code}"


def test_a_wrong_secret_token_is_refused_over_http(stack):
    before = len(telegram_lines(stack))
    assert send(stack, update("start_plain", 99), secret="not-the-secret-token-at-all") == 403
    assert len(telegram_lines(stack)) == before


def test_a_whole_conversation_ends_in_a_complaint_routed_like_the_form_and_the_agency_action_reaches_the_chat(stack):
    outlet = stack.demo["outlets"][0]
    text = "Продали просроченный кефир, срок годности истёк неделю назад, чек не выдали."
    start = len(telegram_lines(stack))
    assert send(stack, update("start_deep_link", 1001, text=f"/start {outlet['code']}",
                              **{"from": {"id": CHAT, "is_bot": False, "first_name": "Дмитрий",
                                          "language_code": "ru"}})) == 200
    greeting = telegram_lines(stack)[start:]
    assert len(greeting) == 1 and outlet["name"] in greeting[0]["text"] and greeting[0]["to"] == "tg:***42"
    assert send(stack, update("text", 1002, text=text, **{"from": {"id": CHAT, "is_bot": False,
                                                                  "first_name": "Дмитрий", "language_code": "ru"}})) == 200
    lines = telegram_lines(stack)
    preview_line, contact_line = lines[-2], lines[-1]
    status, preview = stack.json("POST", "/routing/preview", {"outlet_code": outlet["code"], "text": text})
    assert status == 200
    assert f"Жалоба будет направлена в орган: {preview['agency']['name']['ru']}" in preview_line["text"]
    assert any(b.get("request_contact") for b in contact_line["buttons"])
    skip = next(b["text"] for b in contact_line["buttons"] if not b.get("request_contact"))
    assert send(stack, update("text", 1003, text=skip, **{"from": {"id": CHAT, "is_bot": False,
                                                                  "first_name": "Дмитрий", "language_code": "ru"}})) == 200
    publish = telegram_lines(stack)[-1]
    yes = next(b["callback_data"] for b in publish["buttons"] if b["callback_data"].endswith(":1"))
    assert send(stack, update("callback_send", 1031, data=yes)) == 200
    summary = telegram_lines(stack)[-1]
    assert "Публикация текста: да" in summary["text"]
    send_button = next(b["callback_data"] for b in summary["buttons"] if b["callback_data"].startswith("send:"))
    confirm = update("callback_send", 1004, data=send_button)
    assert send(stack, confirm) == 200
    assert send(stack, confirm) == 200  # Telegram re-sends it: handled once
    assert send(stack, update("callback_send", 1005, data=send_button)) == 200  # "Send" pressed again
    final = [line for line in telegram_lines(stack) if "track.html#id=" in line["text"]]
    assert len(final) == 1
    complaint_id, token = re.search(r"track\.html#id=([^&\s]+)&token=(\S+)", final[0]["text"]).groups()
    status, tracked = stack.json("GET", f"/complaints/{complaint_id}", headers={"X-Tracking-Token": token})
    assert status == 200 and tracked["agency"]["id"] == preview["agency"]["id"]
    assert tracked["outlet"]["code"] == outlet["code"] and tracked["publish_consent"] is True

    # the agency takes the case; the pump runs the reactions; the chat hears about it
    key = stack.demo["keys"]["agencies"][tracked["agency"]["id"]]
    status, _ = stack.json("POST", f"/agency/complaints/{complaint_id}/status", {"status": "in_review"},
                           {"Authorization": f"Bearer {key}"})
    assert status == 200
    assert stack.json("POST", "/_local/streams/sync")[0] == 200
    status, outbox = stack.json("GET", f"/_local/outbox?complaint_id={complaint_id}")
    pushed = [item for item in outbox["items"] if item["channel"] == "telegram"]
    assert len(pushed) == 1, outbox["items"]
    assert pushed[0]["template"] == "consumer.taken_in_review" and pushed[0]["language"] == "ru"
    assert complaint_id in pushed[0]["text"] and "track.html#id=" in pushed[0]["text"]
    assert "кефир" not in pushed[0]["text"] and pushed[0]["to"] == "tg:***42"
    # a forced redelivery of every stream record sends nothing twice
    assert stack.json("POST", "/_local/streams/redeliver")[0] == 200
    status, again = stack.json("GET", f"/_local/outbox?complaint_id={complaint_id}")
    assert [i for i in again["items"] if i["channel"] == "telegram"] == pushed
