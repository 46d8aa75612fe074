"""The Telegram conversation: update parsing, the state machine (pure, with a desk of fakes), and
handle_update's once-only handling, idempotent submission and failure paths, without AWS or HTTP."""
from __future__ import annotations

import copy
import json
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.domain import codes
from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.model import Business, Outlet
from chalicelib.domain.routing import RoutingDecision, load_rules, route
from chalicelib.i18n.telegram import TEXTS
from chalicelib.services import telegram as tg
from tests.fakes import (
    FakeBotApi, FakeBusinesses, FakeComplaints, FakeContactVault, FakeOutlets, FakeTelegramStore, FixedClock,
)
from tests.telegram_updates import event

SECRET = "unit-secret-unit-secret-unit-secret-0001"
CODE = codes.outlet_code_from_digest(b"telegram-unit-test")
BIN = "940140000385"
CHAT = "512345678"



class Desk:
    def __init__(self, decision: RoutingDecision | None = None) -> None:
        self.catalog = load_catalog()
        self.outlets, self.businesses = FakeOutlets(), FakeBusinesses()
        self.rules = load_rules()
        self.fixed = decision
        self.previews: list[tuple] = []
        now = datetime(2026, 11, 27, tzinfo=timezone.utc)
        self.businesses.add(Business(bin=BIN, kind="bin", name="ТОО «Таза Маркет»", region="71", created_at=now))
        self.outlets.add(Outlet(code=CODE, business_bin=BIN, business_name="ТОО «Таза Маркет»",
                                name="Таза Маркет — Мәңгілік Ел", address="Астана, пр. Мәңгілік Ел, 37", region="71",
                                sector="grocery", created_at=now))

    def outlet(self, code):
        return self.outlets.get(code)

    def business(self, bin):
        return self.businesses.get(bin)

    def preview(self, *, text, category, outlet_code):
        self.previews.append((text, category, outlet_code))
        if self.fixed is not None and category is None:
            return self.fixed
        sector = self.outlets.get(outlet_code).sector if outlet_code else "other"
        return route(text=text, category=category, sector=sector, catalog=self.catalog, rules=self.rules, model=None)

    def form_url(self, outlet_code=None):
        return "http://127.0.0.1:8000/"


def unsure() -> RoutingDecision:
    return RoutingDecision(agency_id="kzpp", method="triage", confidence=0.4, version="t", explanation="unsure",
                           matched=(), needs_category=True, candidates=("overcharge", "no_receipt"))


def nonces():
    counter = iter(range(1, 1000))
    return lambda: f"n{next(counter):04d}"


def run(conv, update, desk, new_nonce=None):
    msg = tg.parse_update(update)
    assert msg is not None
    return tg.step(conv, msg, desk, new_nonce=new_nonce or nonces())


# --- parsing ----------------------------------------------------------------------------------------------
def test_the_recorded_updates_parse_into_what_the_conversation_needs():
    start = tg.parse_update(event("start_deep_link"))
    assert (start.kind, start.chat_id, start.user_id, start.lang, start.text) == (
        "text", CHAT, CHAT, "kk", "/start VVR71X6B")
    contact = tg.parse_update(event("contact"))
    assert (contact.kind, contact.phone, contact.contact_user_id, contact.contact_name) == (
        "contact", "77011234567", CHAT, "Айгерим С.")
    press = tg.parse_update(event("callback_send"))
    assert (press.kind, press.data, press.callback_id, press.chat_id) == (
        "callback", "send:5f1c0a9b2e47", "2201634712345678901", CHAT)
    assert tg.parse_update(event("photo")).kind == "photo"


@pytest.mark.parametrize("name", ["edited_message", "group_message"])
def test_edits_and_group_chats_are_ignored(name):
    assert tg.parse_update(event(name)) is None


@pytest.mark.parametrize("broken", [{}, {"update_id": "1"}, {"update_id": True, "message": {}},
                                    {"update_id": 5, "message": {"chat": {"id": 1, "type": "private"}}},
                                    {"update_id": 5, "callback_query": {"data": "x"}}])
def test_malformed_updates_are_ignored_not_crashed_on(broken):
    assert tg.parse_update(broken) is None


@pytest.mark.parametrize("code,lang", [("kk", "kk"), ("ru", "ru"), ("en-US", "en"), ("uk", "ru"), ("uz", "ru"),
                                       ("de", "en"), (None, "en"), ("", "en")])
def test_the_language_follows_telegram_with_russian_for_the_region_and_english_otherwise(code, lang):
    assert tg.language_for(code) == lang


def test_every_text_exists_in_kk_ru_en_with_the_same_placeholders():
    for key, entry in TEXTS.items():
        assert set(entry) == {"kk", "ru", "en"}, key
        names = {lang: {f[1] for f in string.Formatter().parse(text) if f[1]} for lang, text in entry.items()}
        assert names["kk"] == names["ru"] == names["en"], key


@pytest.mark.parametrize("lang,word,other", [("kk", "жапсырма", "стикер"), ("ru", "наклейк", "стикер")])
def test_the_bot_names_the_sticker_with_the_web_apps_word(lang, word, other):
    web = (Path(__file__).resolve().parents[2] / "web" / "i18n.js").read_text(encoding="utf-8").lower()
    assert word in web and other not in web  # the word the form uses, so a consumer reads one name for it
    said = [entry[lang].lower() for entry in TEXTS.values()]
    assert any(word in text for text in said)
    assert not [text for text in said if other in text]


def test_a_kazakhstan_number_is_called_as_the_form_calls_it():
    assert "Қазақстандық нөмір" in TEXTS["contact_not_kz"]["kk"]
    assert not [key for key, entry in TEXTS.items() if "Қазақстан нөмір" in entry["kk"]]


# --- the state machine ------------------------------------------------------------------------------------
def test_a_deep_link_opens_the_conversation_about_that_outlet_in_the_users_language():
    desk = Desk()
    out = run(None, event("start_deep_link", text=f"/start {CODE}"), desk)
    assert out.conversation.step == "text" and out.conversation.outlet_code == CODE
    assert out.conversation.lang == "kk"
    assert "Таза Маркет — Мәңгілік Ел" in out.replies[0].text and codes.display_code(CODE) in out.replies[0].text
    assert out.replies[0].text.startswith("Шағым")


def test_start_without_a_code_asks_for_the_code_or_a_bin_then_accepts_a_typed_code_with_typos_folded():
    desk = Desk()
    out = run(None, event("start_plain"), desk)
    assert out.conversation.step == "seller" and "БИН/ИИН" in out.replies[0].text
    typed = codes.display_code(CODE).lower()  # "abcd-efgh" as someone types it
    out2 = run(out.conversation, event("start_plain", text=typed), desk)
    assert out2.conversation.step == "text" and out2.conversation.outlet_code == CODE
    assert out2.conversation.nonce == out.conversation.nonce


def test_a_registered_bin_names_the_seller_an_unknown_one_sends_to_the_form_a_bad_one_is_refused():
    desk = Desk()
    conv = run(None, event("start_plain"), desk).conversation
    known = run(conv, event("start_plain", text=BIN), desk)
    assert known.conversation.business_bin == BIN and known.conversation.seller == "ТОО «Таза Маркет»"
    unknown = run(conv, event("start_plain", text="070941024691"), desk)
    assert unknown.conversation.step == "seller" and "http://127.0.0.1:8000/" in unknown.replies[0].text
    bad = run(conv, event("start_plain", text="940140000386"), desk)
    assert bad.conversation.step == "seller" and "контрольная" in bad.replies[0].text


def test_a_code_with_a_typo_and_an_unknown_code_are_told_apart():
    desk = Desk()
    conv = run(None, event("start_plain"), desk).conversation
    typo = CODE[:-1] + ("A" if CODE[-1] != "A" else "B")
    assert "опечатка" in run(conv, event("start_plain", text=typo), desk).replies[0].text
    other = codes.outlet_code_from_digest(b"nobody")
    assert "нет действующей" in run(conv, event("start_plain", text=other), desk).replies[0].text


def test_a_photo_is_not_decoded_the_bot_asks_for_the_printed_code():
    desk = Desk()
    conv = run(None, event("start_plain"), desk).conversation
    out = run(conv, event("photo"), desk)
    assert out.conversation.step == "seller" and "под QR" in out.replies[0].text
    first = run(None, event("photo"), desk)  # a photo as the very first message
    assert first.conversation.step == "seller" and first.replies[0].text == TEXTS["photo_unsupported"]["ru"]


def test_the_text_is_checked_like_the_forms_then_the_routing_preview_and_the_contact_question_follow():
    desk = Desk()
    conv = run(None, event("start_deep_link", text=f"/start {CODE}"), desk).conversation
    short = run(conv, event("text", text="плохо!!"), desk)
    assert short.conversation.step == "text" and short.replies[0].text == TEXTS["text_too_short"]["kk"]
    digits = run(conv, event("text", text="1234567890123"), desk)
    assert digits.conversation.step == "text"
    assert run(conv, event("text", text="а" * 5001), desk).replies[0].text == TEXTS["text_too_long"]["kk"]
    text = "Мерзімі өткен айран сатты, чек бермеді.\u202e"
    out = run(conv, event("text", text=text), desk)
    assert out.conversation.step == "contact" and out.conversation.text == text[:-1]  # the override is dropped
    expected = route(text=text[:-1], category=None, sector="grocery", catalog=desk.catalog, rules=desk.rules)
    assert out.conversation.agency_id == expected.agency_id
    assert desk.catalog.agencies[expected.agency_id].name["kk"] in out.replies[0].text
    keyboard = out.replies[1].markup["keyboard"]
    assert keyboard[0][0]["request_contact"] is True and keyboard[1][0]["text"] == TEXTS["skip_button"]["kk"]


def test_an_unsure_router_asks_its_one_category_question_with_buttons_of_this_conversation():
    desk = Desk(decision=unsure())
    conv = run(None, event("start_deep_link", text=f"/start {CODE}"), desk).conversation
    out = run(conv, event("text", text="Что-то непонятное произошло в магазине"), desk)
    assert out.conversation.step == "category" and out.conversation.candidates == ("overcharge", "no_receipt")
    data = [row[0]["callback_data"] for row in out.replies[0].markup["inline_keyboard"]]
    assert data == [f"cat:{conv.nonce}:overcharge", f"cat:{conv.nonce}:no_receipt", f"cat:{conv.nonce}:-"]
    picked = run(out.conversation, event("callback_send", data=f"cat:{conv.nonce}:no_receipt"), desk)
    assert picked.conversation.step == "contact" and picked.conversation.category == "no_receipt"
    assert desk.previews[-1][1] == "no_receipt"
    # a category that was not offered is not taken: the question comes again
    forged = run(out.conversation, event("callback_send", data=f"cat:{conv.nonce}:warranty"), desk)
    assert forged.conversation.step == "category" and forged.conversation.category is None
    unknown = run(out.conversation, event("callback_send", data=f"cat:{conv.nonce}:-"), desk)
    assert unknown.conversation.step == "contact" and unknown.conversation.category is None


def _at_contact(desk):
    conv = run(None, event("start_deep_link", text=f"/start {CODE}"), desk).conversation
    return run(conv, event("text"), desk).conversation


def test_only_the_users_own_kazakhstan_number_is_taken_and_the_summary_masks_it():
    desk = Desk()
    conv = _at_contact(desk)
    other = event("contact")
    other["message"]["contact"]["user_id"] = 111
    assert run(conv, other, desk).conversation.step == "contact"
    foreign = event("contact")
    foreign["message"]["contact"]["phone_number"] = "+49 30 901820"
    assert run(conv, foreign, desk).conversation.contact_phone is None
    out = run(conv, event("contact"), desk)
    assert out.conversation.step == "publish"
    assert (out.conversation.contact_phone, out.conversation.contact_name) == ("+77011234567", "Айгерим С.")
    assert out.replies[0].markup == {"remove_keyboard": True}
    assert out.replies[1].text == TEXTS["ask_publish"]["kk"]
    summary = run(out.conversation, event("callback_send", data=f"pub:{conv.nonce}:1"), desk)
    assert summary.conversation.step == "confirm" and summary.conversation.publish_consent is True
    text = summary.replies[0].text
    assert "+7 7** *** ** 67" in text and "77011234567" not in text
    assert "Мәтінді жариялау: иә" in text
    buttons = summary.replies[0].markup["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"send:{conv.nonce}", f"cancel:{conv.nonce}"]


def _at_confirm(desk, publish="0"):
    conv = run(_at_contact(desk), event("text", text="/skip"), desk).conversation
    return run(conv, event("callback_send", data=f"pub:{conv.nonce}:{publish}"), desk).conversation


def test_skipping_the_contact_then_declining_publication_leads_to_an_anonymous_unpublished_summary():
    desk = Desk()
    out = run(_at_contact(desk), event("text", text=TEXTS["skip_button"]["kk"]), desk)
    assert out.conversation.step == "publish" and out.conversation.contact_phone is None
    typed = run(out.conversation, event("text", text="иә"), desk)  # typed, not pressed: the question again
    assert typed.conversation.step == "publish" and typed.replies[0].text == TEXTS["ask_publish"]["kk"]
    forged = run(out.conversation, event("callback_send", data=f"pub:{out.conversation.nonce}:yes"), desk)
    assert forged.conversation.step == "publish"
    done = run(out.conversation, event("callback_send", data=f"pub:{out.conversation.nonce}:0"), desk)
    assert done.conversation.step == "confirm" and done.conversation.publish_consent is False
    assert TEXTS["anonymous"]["kk"] in done.replies[0].text


def test_send_asks_for_the_submission_and_stale_or_foreign_buttons_do_nothing():
    desk = Desk()
    conv = _at_confirm(desk)
    assert run(conv, event("callback_send", data=f"send:{conv.nonce}"), desk).submit is True
    stale = run(conv, event("callback_send", data="send:n9999"), desk)
    assert not stale.submit and stale.conversation == conv and stale.toast == TEXTS["stale_button"]["kk"]
    expired = run(None, event("callback_send", data=f"send:{conv.nonce}"), desk)
    assert not expired.submit and expired.conversation is None
    typed = run(conv, event("text", text="ну отправь уже"), desk)
    assert not typed.submit and typed.conversation == conv


def test_cancel_forgets_the_conversation_and_nothing_is_submitted():
    desk = Desk()
    conv = _at_confirm(desk)
    out = run(conv, event("callback_send", data=f"cancel:{conv.nonce}"), desk)
    assert out.conversation is None and not out.submit
    assert run(conv, event("text", text="/cancel"), desk).conversation is None


def test_the_state_survives_a_round_trip_through_its_stored_form():
    desk = Desk(decision=unsure())
    conv = run(None, event("start_deep_link", text=f"/start {CODE}"), desk).conversation
    conv = run(conv, event("text"), desk).conversation
    assert tg.Conversation.from_dict(json.loads(json.dumps(conv.to_dict()))) == conv


# --- handle_update: once only, idempotent, failures ---------------------------------------------------------
class World:
    def __init__(self) -> None:
        self.desk = Desk()
        self.store, self.bot, self.clock = FakeTelegramStore(), FakeBotApi(), FixedClock()
        self.complaints, self.contacts = FakeComplaints(), FakeContactVault()
        self.submissions = 0
        self.nonce = nonces()

    def submit(self, conv):
        from chalicelib.api.telegram import submit_conversation

        self.submissions += 1
        c = type("C", (), {})()
        c.outlets, c.businesses, c.complaints, c.contacts = (self.desk.outlets, self.desk.businesses,
                                                             self.complaints, self.contacts)
        c.catalog, c.rules, c.routing_rules, c.clock = self.desk.catalog, load_deadline_rules(), self.desk.rules, self.clock
        c.settings = type("S", (), {"secret": SECRET})()
        c.routing_model = lambda: None
        return submit_conversation(conv, c)

    def handle(self, update):
        return tg.handle_update(update, store=self.store, bot=self.bot, desk=self.desk, submit=self.submit,
                                clock=self.clock, link_for=lambda cid: f"https://t/track#{cid}", new_nonce=self.nonce)


def conversation(world: World, *, contact: bool = True) -> dict:
    """Drive a whole conversation up to the confirm question; return the confirm update (not yet sent)."""
    world.handle(event("start_deep_link", text=f"/start {CODE}", update_id=1))
    world.handle(event("text", update_id=2))
    world.handle(event("contact", update_id=3) if contact else event("text", text="/skip", update_id=3))
    nonce = world.store.chats[CHAT][0]["nonce"]
    world.handle(event("callback_send", data=f"pub:{nonce}:1", update_id=4))
    return event("callback_send", data=f"send:{nonce}", update_id=5)


def test_a_whole_conversation_creates_one_complaint_like_the_form_and_links_the_chat():
    world = World()
    confirm = conversation(world)
    result = world.handle(confirm)
    assert result.created and result.step == "done"
    complaint = world.complaints.get(result.complaint_id)
    assert complaint.channel == "telegram" and complaint.outlet_code == CODE and complaint.language == "kk"
    assert complaint.publish_consent is True
    assert complaint.id == codes.complaint_id_for_key(SECRET, f"telegram:{world.store.chats[CHAT][0]['nonce']}")
    assert world.contacts.get(complaint.contact_ref).phone == "+77011234567"
    expected = route(text="Мерзімі өткен айран сатты, чек бермеді.", category=None, sector="grocery",
                     catalog=world.desk.catalog, rules=world.desk.rules)
    assert complaint.agency_id == expected.agency_id
    assert world.store.chat_for(complaint.id) == (CHAT, "kk")
    last = world.bot.messages(CHAT)[-1][2]
    assert complaint.id in last and f"https://t/track#{complaint.id}" in last
    assert ("answer", "2201634712345678901", None) in world.bot.sent


def test_the_same_update_twice_is_handled_once():
    world = World()
    confirm = conversation(world)
    first, again = world.handle(confirm), world.handle(copy.deepcopy(confirm))
    assert (first.status, again.status) == ("handled", "duplicate")
    assert world.submissions == 1 and len(world.complaints.items) == 1
    assert world.handle(event("text", update_id=2)).status == "duplicate"


def test_send_pressed_twice_creates_one_complaint_and_says_it_was_sent():
    world = World()
    confirm = conversation(world)
    first = world.handle(confirm)
    second = world.handle(event("callback_send", data=confirm["callback_query"]["data"], update_id=6))
    assert second.status == "handled" and second.complaint_id is None
    assert len(world.complaints.items) == 1
    toast = world.bot.sent[-1]
    assert toast[0] == "answer" and first.complaint_id in toast[2]


def test_a_failure_after_the_complaint_was_written_replays_to_the_same_complaint():
    world = World()
    confirm = conversation(world)
    real_link = world.store.link_complaint

    def broken(*args, **kwargs):
        raise ConnectionError("the vault is unreachable")

    world.store.link_complaint = broken
    with pytest.raises(ConnectionError):
        world.handle(confirm)
    assert 5 not in world.store.updates  # the claim was released: Telegram's retry is handled
    assert len(world.complaints.items) == 1
    world.store.link_complaint = real_link
    retried = world.handle(confirm)
    assert retried.status == "handled" and len(world.complaints.items) == 1
    assert world.store.chat_for(retried.complaint_id) == (CHAT, "kk")


def test_a_bot_api_failure_does_not_undo_the_step_or_block_the_update():
    world = World()
    world.bot.fail = True
    result = world.handle(event("start_deep_link", text=f"/start {CODE}", update_id=1))
    assert result.status == "handled" and result.send_failures == 1 and result.step == "text"
    assert world.store.updates[1][0] == "done"


def test_an_outlet_suspended_before_send_ends_the_conversation_with_the_reason():
    world = World()
    confirm = conversation(world, contact=False)
    world.desk.outlets.set_status(CODE, "suspended")
    result = world.handle(confirm)
    assert result.complaint_id is None and not world.complaints.items and result.step is None
    assert TEXTS["outlet_gone"]["kk"] in world.bot.messages(CHAT)[-1][2]


def test_the_profile_name_reaches_the_vault_cleaned_like_the_forms_name():
    world = World()
    world.handle(event("start_deep_link", text=f"/start {CODE}", update_id=1))
    world.handle(event("text", update_id=2))
    shared = event("contact", update_id=3)
    shared["message"]["contact"].update(first_name="\u202eАйге\u200bрим\x00", last_name="С.\n\tТест")
    world.handle(shared)
    nonce = world.store.chats[CHAT][0]["nonce"]
    world.handle(event("callback_send", data=f"pub:{nonce}:0", update_id=4))
    result = world.handle(event("callback_send", data=f"send:{nonce}", update_id=5))
    contact = world.contacts.get(world.complaints.get(result.complaint_id).contact_ref)
    assert (contact.name, contact.phone) == ("Айгерим С. Тест", "+77011234567")


def test_a_seller_gone_before_send_is_refused_in_the_conversations_language_not_in_english():
    world = World()
    world.handle(event("start_deep_link", text=BIN, update_id=1))
    world.handle(event("text", update_id=2))
    world.handle(event("text", text="/skip", update_id=3))
    nonce = world.store.chats[CHAT][0]["nonce"]
    world.handle(event("callback_send", data=f"pub:{nonce}:0", update_id=4))
    del world.desk.businesses.items[BIN]  # deregistered while the consumer read the summary
    result = world.handle(event("callback_send", data=f"send:{nonce}", update_id=5))
    assert result.complaint_id is None and not world.complaints.items and result.step is None
    last = world.bot.messages(CHAT)[-1][2]
    assert TEXTS["seller_gone"]["kk"] in last
    assert last == TEXTS["submit_refused"]["kk"].format(reason=TEXTS["seller_gone"]["kk"])  # no English inside


@pytest.mark.parametrize("field,code,key", [
    ("contact.phone", "invalid_phone", "phone_refused"), ("text", "string_too_long", "text_refused"),
    ("business.region", "unknown_region", "seller_gone"), ("outlet_code", "unknown_outlet", "outlet_gone"),
    ("incident_at", "in_future", "refused_other"),
])
@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_refused_submission_names_the_reason_by_its_code_in_the_users_language(field, code, key, lang):
    from chalicelib.domain.errors import ValidationFailed

    world = World()
    start = event("start_deep_link", text=f"/start {CODE}", update_id=1)
    start["message"]["from"]["language_code"] = lang
    world.handle(start)
    world.handle(event("text", update_id=2))
    world.handle(event("text", text="/skip", update_id=3))
    nonce = world.store.chats[CHAT][0]["nonce"]
    world.handle(event("callback_send", data=f"pub:{nonce}:0", update_id=4))

    def refuse(conv):
        raise ValidationFailed("Some fields are invalid.", fields={field: {"code": code, "message": "english detail"}})

    world.submit = refuse
    world.handle(event("callback_send", data=f"send:{nonce}", update_id=5))
    last = world.bot.messages(CHAT)[-1][2]
    assert last == TEXTS["submit_refused"][lang].format(reason=TEXTS[key][lang])
    assert "english detail" not in last and "Some fields" not in last


def test_the_chat_id_and_phone_never_reach_a_log(caplog):
    caplog.set_level("DEBUG")
    world = World()
    world.handle(conversation(world))
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert CHAT not in logged and "7011234567" not in logged


def test_a_chat_sends_at_most_the_daily_limit_and_the_next_day_it_may_again():
    world = World()
    nonces_seen = []
    for n in range(tg.DAILY_LIMIT + 1):
        base = 100 * (n + 1)
        world.handle(event("start_deep_link", text=f"/start {CODE}", update_id=base + 1))
        world.handle(event("text", text=f"Мерзімі өткен айран сатты, чек бермеді, {n}-рет.", update_id=base + 2))
        world.handle(event("text", text="/skip", update_id=base + 3))
        nonce = world.store.chats[CHAT][0]["nonce"]
        nonces_seen.append(nonce)
        world.handle(event("callback_send", data=f"pub:{nonce}:0", update_id=base + 4))
        result = world.handle(event("callback_send", data=f"send:{nonce}", update_id=base + 5))
    assert len(world.complaints.items) == tg.DAILY_LIMIT
    assert result.complaint_id is None and result.notes == ["daily_limit"] and result.step == "confirm"
    assert str(tg.DAILY_LIMIT) in world.bot.messages(CHAT)[-1][2]
    world.clock.advance(days=1)  # the same "Send" works the next day
    tomorrow = world.handle(event("callback_send", data=f"send:{nonces_seen[-1]}", update_id=9999))
    assert tomorrow.created and len(world.complaints.items) == tg.DAILY_LIMIT + 1
