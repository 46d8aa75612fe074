"""The consumer's pages in Chromium against the real local stack, in kk and ru: the complaint form, the
tracking page, and the answer to the seller's offer with stars.

Domain words expected on screen (statuses, offers, decisions) are the glossary's (docs/glossary.md) or the
server's own labels; the pages' own messages are looked up by key in web/i18n.js. Every test fails on any
console error, uncaught exception or 5xx the page met (see conftest.py), unless it says it expects one.
"""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from tests.browser.conftest import new_page, open_page, running_stack, shot

ROOT = Path(__file__).resolve().parents[2]
LANGS = ["kk", "ru"]
TEXT = "На ценнике 990 тенге, а на кассе пробили 1290 тенге. Разницу вернуть отказались, чек выдали."
# From docs/glossary.md: what the consumer must read, independent of the page's own translation file.
GLOSSARY = {
    "settled": {"kk": "Дау сатушымен реттелді", "ru": "Спор урегулирован с продавцом"},
    "routed": {"kk": "Мемлекеттік органға жіберілді", "ru": "Направлена в государственный орган"},
    "offer_refund": {"kk": "Ақшаны қайтару", "ru": "Возврат денег"},
    "offer_repair": {"kk": "Жөндеу", "ru": "Ремонт"},
    "dec_violation_confirmed": {"kk": "Бұзушылық расталды", "ru": "Нарушение подтвердилось"},
    "business_overdue": {"kk": "Сатушы мерзімінде жауап бермеді", "ru": "Продавец не ответил в срок"},
    "agency_overdue": {"kk": "Орган мерзімінде шешім қабылдамады", "ru": "Орган не принял решение в срок"},
    "full_name": {"kk": "Аты-жөніңіз", "ru": "Фамилия и имя"},
}


def page_texts() -> dict:
    from tests.unit.test_web_assets import load_i18n
    return load_i18n()


T = page_texts()


def tr(key: str, lang: str, n=None) -> str:
    text = T[key][lang]
    return text if n is None else text.replace("{n}", str(n))


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def submit(stack, outlet: dict, *, contact=None) -> dict:
    body = {"outlet_code": outlet["code"], "text": TEXT, "language": "ru", "channel": "web"}
    if contact:
        body["contact"] = contact
    status, created = stack.json("POST", "/complaints", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, created
    return created


def respond(stack, outlet: dict, cid: str, offer="refund", message="Вернём разницу 300 тенге.\nПриходите с чеком."):
    key = stack.demo["keys"]["businesses"][outlet["business_bin"]]
    status, body = stack.json("POST", f"/business/complaints/{cid}/response", {"message": message, "offer": offer},
                              auth(key))
    assert status == 200, body
    return body


def view(stack, created: dict) -> dict:
    status, body = stack.json("GET", f"/complaints/{created['id']}", headers={"X-Tracking-Token": created["tracking_token"]})
    assert status == 200, body
    return body


def track_path(created: dict) -> str:
    return f"/track.html#id={created['id']}&token={created['tracking_token']}"


def open_case(page, stack, created, lang):
    open_page(page, stack, track_path(created), lang)
    page.locator("#res").wait_for(state="visible")
    return page


@pytest.fixture
def outlet(stack):
    return stack.demo["outlets"][0]


# ---- the form --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_form_from_a_sticker_previews_the_agency_and_gives_a_tracking_link(stack, page, outlet, lang):
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", lang)
    assert page.locator("h1").inner_text() == tr("form_h", lang)
    assert page.title() == tr("title_form", lang)
    assert page.locator('meta[name="description"]').get_attribute("content") == tr("desc_form", lang)
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    assert page.locator("#choice").is_hidden()  # the sticker named the outlet: no need to ask
    assert page.locator("label[for=contact_name]").inner_text() == GLOSSARY["full_name"][lang]

    page.fill("#text", TEXT)
    status, preview = stack.json("POST", "/routing/preview", {"text": TEXT, "outlet_code": outlet["code"]})
    assert status == 200, preview
    agency_name = preview["agency"]["name"][lang]
    page.locator("#preview strong").filter(has_text=agency_name).wait_for()
    page.fill("#contact_name", "Серікбаев Ерлан")
    page.fill("#contact_phone", "8 701 123 4567")
    shot(page, f"form-{lang}-filled")
    page.click("#send")

    page.locator("#done").wait_for(state="visible")
    assert page.locator("#done_agency").inner_text() == agency_name
    assert page.locator("#done_kind").inner_text() == tr("kind_appeal", lang)  # a full name and a phone
    link = page.locator("#done_link")
    assert link.inner_text() == tr("done_link", lang)
    href = link.get_attribute("href")
    match = re.fullmatch(r".*track\.html#id=([0-9A-Z]+)&token=([0-9a-z]+)", href)
    assert match, href
    created = {"id": match.group(1), "tracking_token": match.group(2)}
    assert page.locator("#done_id").inner_text() == created["id"]
    stored = view(stack, created)  # the link really opens the complaint just sent
    assert (stored["kind"], stored["outlet"]["code"], stored["agency"]["name"][lang]) == ("appeal", outlet["code"], agency_name)
    shot(page, f"form-{lang}-done")

    link.click()
    page.locator("#res").wait_for(state="visible")
    assert page.locator("h1").inner_text() == tr("track_h", lang)
    assert page.locator("#r_status").inner_text() == GLOSSARY["routed"][lang]
    assert page.locator("#r_agency").inner_text() == agency_name


def test_form_without_a_sticker_sends_the_sellers_bin_and_region(stack, page):
    open_page(page, stack, "/?seller=none", "ru")
    assert page.locator("#mode_none").is_checked() and page.locator("#by_biz").is_visible()
    business = stack.demo["outlets"][0]
    page.fill("#business_bin", business["business_bin"])
    page.fill("#business_name", business["business_name"])
    page.select_option("#business_region", business["region"])
    page.fill("#text", TEXT)
    page.click("#send")
    page.locator("#done").wait_for(state="visible")
    # No contact: an anonymous signal, and the page says so.
    assert page.locator("#done_kind").inner_text() == tr("kind_signal", "ru")
    href = page.locator("#done_link").get_attribute("href")
    cid, token = re.fullmatch(r".*#id=(\w+)&token=(\w+)", href).groups()
    stored = view(stack, {"id": cid, "tracking_token": token})
    assert stored["kind"] == "signal" and stored["outlet"] is None and stored["business"]["name"] == business["business_name"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_text_without_words_is_refused_with_that_reason_not_as_too_short(stack, page, lang):
    open_page(page, stack, "/?seller=none", lang)
    page.fill("#text", "1290 - 990 = 300 !!! ???")
    page.click("#send")
    assert page.locator("#text-e").inner_text() == tr("e_text_words", lang)
    assert tr("e_text_short", lang) not in page.locator("#msg").inner_text()


@pytest.mark.parametrize("code,key", [("no_words", "e_text_words"), ("string_too_long", "e_text_long")])
def test_the_servers_text_reason_is_shown_in_the_pages_words(stack, page, console, outlet, code, key):
    # The client checks the same rules, so to see the server's reason the answer is replaced on the way.
    console.allow(r"status of 422")
    page.route("**/complaints", lambda route: route.fulfill(status=422, content_type="application/json", body=json.dumps(
        {"error": {"code": "validation_failed", "message": "x", "fields": {"text": {"code": code, "message": "x"}}}})))
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "ru")
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    page.fill("#text", TEXT)
    page.click("#send")
    page.locator("#text-e").filter(has_text=tr(key, "ru")).wait_for()
    page.click("button[data-lang=kk]")  # our own message follows a language switch
    assert page.locator("#text-e").inner_text() == tr(key, "kk")


def test_a_reason_the_page_does_not_know_shows_the_servers_message(stack, page, console, outlet):
    console.allow(r"status of 422")
    message = "Мәтінде спам белгілері бар."
    page.route("**/complaints", lambda route: route.fulfill(status=422, content_type="application/json", body=json.dumps(
        {"error": {"code": "validation_failed", "message": "x",
                   "fields": {"text": {"code": "looks_like_spam", "message": message}}}})))
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "kk")
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    page.fill("#text", TEXT)
    page.click("#send")
    page.locator("#text-e").filter(has_text=message).wait_for()
    assert tr("e_text_short", "kk") not in page.locator("#msg").inner_text()
    assert tr("e_text_long", "kk") not in page.locator("#msg").inner_text()


LAYOUT_SHIFT_OBSERVER = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
}).observe({ type: "layout-shift", buffered: true });
"""


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
@pytest.mark.parametrize("path", ["/", "/?o={code}&ch=qr", "/track.html#id={id}&token={token}"])
def test_nothing_moves_while_the_page_loads(stack, browser, console, outlet, path, lang):
    # The layout shift was 0.78: the text arrived by script and pushed the form down. Measured in a real
    # first visit in each language (no stored choice: the browser's locale picks it).
    created = submit(stack, outlet)
    respond(stack, outlet, created["id"])
    page = new_page(browser, console, locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}[lang])
    try:
        page.add_init_script(LAYOUT_SHIFT_OBSERVER)
        page.goto(stack.base + path.format(code=outlet["code"], id=created["id"], token=created["tracking_token"]))
        assert page.evaluate("document.documentElement.lang") == lang
        if "track" in path:
            page.locator("#ans").wait_for(state="visible")
        elif "o=" in path:
            page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        cls = page.evaluate("window.__cls")
        assert cls < 0.05, f"layout shift {cls:.3f} on {path} in {lang}"
    finally:
        page.context.close()
    assert not console.unexpected(), console.unexpected()


# ---- the tracking page -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_tracking_page_shows_the_offer_and_accepting_with_four_stars_settles(stack, page, outlet, lang):
    created = submit(stack, outlet, contact={"name": "Серікбаев Ерлан", "phone": "+77011234567"})
    respond(stack, outlet, created["id"])
    before = view(stack, created)
    open_case(page, stack, created, lang)

    assert page.locator("#r_status").inner_text() == before["status_label"][lang]
    assert page.locator("#b_offer").inner_text() == GLOSSARY["offer_refund"][lang]
    assert page.locator("#b_msg").inner_text() == "Вернём разницу 300 тенге.\nПриходите с чеком."
    assert page.locator("#r_due_business").inner_text().strip() != ""
    assert page.locator("#r_due_agency").inner_text().strip() != ""
    labels = page.locator("#r_timeline li .strong").all_inner_texts()
    assert labels == [step["label"][lang] for step in before["timeline"]]
    shot(page, f"track-{lang}-offer")

    # The stars are a real radio group: reachable and checkable by their accessible names.
    page.get_by_role("radio", name=tr("fb_accept", lang)).check()
    page.get_by_role("radiogroup", name=tr("fb_stars", lang)).get_by_role("radio", name=tr("fb_star", lang, 4)).check()
    assert page.locator("#ans_stars_now").inner_text() == tr("fb_rating", lang, 4)
    page.fill("#ans_comment", "Рахмет, ақша қайтарылды.")
    page.click("#ans_send")

    page.locator("#r_status").filter(has_text=GLOSSARY["settled"][lang]).wait_for()
    assert page.locator("#notice").inner_text() == tr("fb_thanks", lang)
    assert page.locator("#ans").is_hidden()  # answered once: the form is gone
    assert page.locator("#g_answer").inner_text() == tr("fb_accepted", lang)
    assert page.locator("#g_stars_t").inner_text() == tr("fb_rating", lang, 4)
    shot(page, f"track-{lang}-settled")
    after = view(stack, created)
    assert after["status"] == "settled"
    assert (after["feedback"]["accepted"], after["feedback"]["stars"], after["feedback"]["comment"]) == \
        (True, 4, "Рахмет, ақша қайтарылды.")


def test_rejecting_the_offer_keeps_the_case_with_the_agency(stack, page, outlet):
    created = submit(stack, outlet)
    respond(stack, outlet, created["id"], offer="repair")
    open_case(page, stack, created, "ru")
    assert page.locator("#b_offer").inner_text() == GLOSSARY["offer_repair"]["ru"]

    page.click("#ans_send")  # nothing chosen: both questions are asked, in the page's language
    assert page.locator("#ans_accepted-e").inner_text() == tr("e_fb_choice", "ru")
    assert page.locator("#ans_stars-e").inner_text() == tr("e_fb_stars", "ru")
    assert page.locator("#ans_accepted").get_attribute("aria-invalid") == "true"
    page.click("button[data-lang=kk]")
    assert page.locator("#ans_stars-e").inner_text() == tr("e_fb_stars", "kk")

    page.check("#ans_no")
    page.locator("label[for=star2]").click()
    page.click("#ans_send")
    page.locator("#r_status").filter(has_text=GLOSSARY["routed"]["kk"]).wait_for()
    assert page.locator("#g_answer").inner_text() == tr("fb_rejected", "kk")
    after = view(stack, created)
    assert (after["status"], after["feedback"]["accepted"], after["feedback"]["stars"]) == ("routed", False, 2)
    assert after["feedback"]["comment"] is None


def test_an_answer_sent_from_another_tab_is_reported_and_the_page_shows_the_case_as_it_is(stack, browser, page, console, outlet):
    console.allow(r"status of 409")
    created = submit(stack, outlet)
    respond(stack, outlet, created["id"])
    open_case(page, stack, created, "ru")
    status, body = stack.json("POST", f"/complaints/{created['id']}/feedback", {"accepted": True, "stars": 5},
                              {"X-Tracking-Token": created["tracking_token"]})
    assert status == 200, body
    page.check("#ans_no")
    page.locator("label[for=star1]").click()
    page.click("#ans_send")
    page.locator("#notice").filter(has_text=tr("e_fb_already", "ru")).wait_for()
    assert page.locator("#r_status").inner_text() == GLOSSARY["settled"]["ru"]
    assert page.locator("#g_answer").inner_text() == tr("fb_accepted", "ru")
    assert view(stack, created)["feedback"]["stars"] == 5  # the page's late answer changed nothing


@pytest.mark.parametrize("lang", LANGS)
def test_tracking_page_shows_the_agencys_decision(stack, page, outlet, lang):
    created = submit(stack, outlet, contact={"name": "Серікбаев Ерлан", "email": "erlan@example.kz"})
    key = stack.demo["keys"]["agencies"][created["agency"]["id"]]
    for body in ({"status": "in_review"},
                 {"status": "resolved", "decision": "violation_confirmed", "result": "Продавцу выдано предписание."}):
        status, answer = stack.json("POST", f"/agency/complaints/{created['id']}/status", body, auth(key))
        assert status == 200, answer
    open_case(page, stack, created, lang)
    assert page.locator("#o_h").inner_text() == tr("result_h", lang)
    assert page.locator("#o_decision").inner_text() == GLOSSARY["dec_violation_confirmed"][lang]
    assert page.locator("#o_text").inner_text() == "Продавцу выдано предписание."
    assert page.locator("#ans").is_hidden() and page.locator("#biz").is_hidden()
    assert page.locator("#r_status").inner_text() == view(stack, created)["status_label"][lang]
    shot(page, f"track-{lang}-resolved")


def test_tracking_page_shows_a_rejection_and_its_reason(stack, page, outlet):
    created = submit(stack, outlet)
    key = stack.demo["keys"]["agencies"][created["agency"]["id"]]
    status, answer = stack.json("POST", f"/agency/complaints/{created['id']}/status",
                                {"status": "rejected", "reason": "Спор о качестве рассматривает суд."}, auth(key))
    assert status == 200, answer
    open_case(page, stack, created, "kk")
    assert page.locator("#o_h").inner_text() == tr("rejection_h", "kk")
    assert page.locator("#o_text").inner_text() == "Спор о качестве рассматривает суд."


def test_overdue_flags_are_shown_next_to_the_due_dates(tmp_path, browser, console):
    # Its own stack: the deadline sweep marks every open case, which other tests' cases must not see.
    with running_stack(tmp_path) as stack:
        outlet = stack.demo["outlets"][0]
        created = submit(stack, outlet, contact={"name": "Серікбаев Ерлан", "phone": "+77011234567"})
        status, swept = stack.json("POST", "/admin/jobs/deadlines", {"as_of": "2099-01-01"},
                                   auth(stack.demo["keys"]["admin"]))
        assert status == 200 and swept["business_overdue"] >= 1 and swept["agency_overdue"] >= 1, swept
        page = new_page(browser, console)
        open_case(page, stack, created, "ru")
        assert page.locator("#r_flags li").all_inner_texts() == [GLOSSARY["business_overdue"]["ru"],
                                                                 GLOSSARY["agency_overdue"]["ru"]]
        assert page.locator("#r_due_business .late").inner_text() == tr("overdue", "ru")
        assert page.locator("#r_due_agency .late").inner_text() == tr("overdue", "ru")
        shot(page, "track-ru-overdue")
        page.context.close()
    assert not console.unexpected(), console.unexpected()


def test_a_wrong_token_reads_as_not_found_and_offers_to_paste_the_link(stack, page, console, outlet):
    console.allow(r"status of 404")
    created = submit(stack, outlet)
    open_page(page, stack, f"/track.html#id={created['id']}&token=wrong{created['tracking_token'][5:]}", "ru")
    page.locator("#msg").filter(has_text=tr("not_found", "ru")).wait_for()
    assert page.locator("#paste").is_visible() and page.locator("#res").is_hidden()
    page.fill("#link", f"{stack.base}{track_path(created)}")
    page.click("#paste button")
    page.locator("#res").wait_for(state="visible")
    assert page.locator("#r_id").inner_text() == created["id"]
