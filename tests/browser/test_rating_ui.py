"""The outlet's rating on the complaint form and the quick rating from the QR page, in Chromium against the
real local stack (its stream pump turns complaints into rating counters within about a second).

These tests run on a stack of their own: quick ratings are limited per address (3 per outlet a day, and every
request here comes from 127.0.0.1), and the complaints seeded to publish a rating must not show up in the
other tests' queues. Every outlet that really gets quick ratings serves one test (the published one takes one
more), so a limit is met only where a test wants it; "spare" is never rated. Expected words come from
web/i18n.js by key, and figures from the API's own rating answer.
"""
from __future__ import annotations

import json
import math
import re
import time
import uuid

import pytest

from tests.browser.conftest import new_page, open_page, running_stack, shot
from tests.unit.test_web_assets import load_i18n

LANGS = ["kk", "ru"]
TEXT = "На ценнике 990 тенге, а на кассе пробили 1290 тенге. Разницу вернуть отказались."
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


T = load_i18n("index.html")  # the words the form loads


def tr(key: str, lang: str, n=None) -> str:
    text = T[key][lang]
    return text if n is None else text.replace("{n}", str(n))


def js_round(x: float) -> int:
    return math.floor(x + 0.5)  # Math.round for the positive numbers shown here (Python's round is banker's)


def score_text(score: float, lang: str) -> str:
    decimal = f"{score:.1f}" if lang == "en" else f"{score:.1f}".replace(".", ",")
    return tr("fb_star", lang, decimal)


def stars_text(score: float) -> str:
    n = js_round(score)
    return "★" * n + "☆" * (5 - n)


@pytest.fixture(scope="module")
def rstack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("rating-stack")) as s:
        yield s


@pytest.fixture(scope="module")
def outlets(rstack):
    """One demo outlet per purpose, so no test meets another's ratings or limits."""
    names = ["published", "fresh_kk", "fresh_ru", "keyboard", "limit_kk", "limit_ru", "lost_answer", "spare"]
    assert len(rstack.demo["outlets"]) >= len(names), "the demo data has fewer outlets than these tests need"
    return dict(zip(names, rstack.demo["outlets"]))


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def rating_of(stack, code: str) -> dict:
    status, body = stack.json("GET", f"/ratings/outlets/{code}")
    assert status == 200, body
    return body


def wait_for_rating(stack, code: str, ready, timeout: float = 20.0) -> dict:
    """The counters move when the stream pump has handed the records over: poll the public read."""
    deadline = time.monotonic() + timeout
    while True:
        body = rating_of(stack, code)
        if ready(body) or time.monotonic() > deadline:
            assert ready(body), f"the rating did not reach the expected state in {timeout}s: {body}"
            return body
        time.sleep(0.25)


@pytest.fixture(scope="module")
def published(rstack, outlets):
    """An outlet with a published rating, seeded through the API as consumers, the seller and the agency would:
    10 complaints (the minimum count); the seller answers 3, two consumers accept with stars 5 and 4 (settled),
    and the agency decides one more (closed without the consumer's acceptance), so the shares are not trivial."""
    outlet = outlets["published"]
    created = []
    for _ in range(10):
        body = {"outlet_code": outlet["code"], "text": TEXT, "language": "ru", "channel": "qr",
                "contact": {"name": "Серікбаев Ерлан", "phone": "+77011234567"}}
        status, answer = rstack.json("POST", "/complaints", body, {"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, answer
        created.append(answer)
    business_key = rstack.demo["keys"]["businesses"][outlet["business_bin"]]
    for case in created[:3]:
        status, answer = rstack.json("POST", f"/business/complaints/{case['id']}/response",
                                     {"message": "Вернём разницу.", "offer": "refund"}, auth(business_key))
        assert status == 200, answer
    for case, stars in zip(created[:2], (5, 4)):
        status, answer = rstack.json("POST", f"/complaints/{case['id']}/feedback", {"accepted": True, "stars": stars},
                                     {"X-Tracking-Token": case["tracking_token"]})
        assert status == 200, answer
    decided = created[3]
    agency_key = rstack.demo["keys"]["agencies"][decided["agency"]["id"]]
    for body in ({"status": "in_review"},
                 {"status": "resolved", "decision": "violation_confirmed", "result": "Выдано предписание."}):
        status, answer = rstack.json("POST", f"/agency/complaints/{decided['id']}/status", body, auth(agency_key))
        assert status == 200, answer
    rating = wait_for_rating(rstack, outlet["code"], lambda r: r["published"] and r["components"]["settled"]["count"] == 3
                             and r["components"]["stars"]["count"] == 2)
    assert rating["count"] == 10 and rating["components"]["answered_in_time"]["count"] == 3
    return outlet


def open_form(page, stack, outlet, lang):
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", lang)
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    return page


def rating_posts(page) -> list:
    """Every quick rating the page sends, as (headers, body)."""
    sent = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/ratings")
            and sent.append((r.headers, r.post_data_json)))
    return sent


def expect_published(page, rating: dict, lang: str) -> None:
    components = rating["components"]
    page.locator("#rt_text").filter(has_text=score_text(rating["score"], lang)).wait_for()
    assert page.locator("#rt dt").inner_text() == tr("rt_h", lang)
    assert page.locator("#rt_stars").inner_text() == stars_text(rating["score"])
    assert page.locator("#rt_stars").get_attribute("aria-hidden") == "true"  # the number is what is read out
    assert page.locator("#rt_parts li").all_inner_texts() == [
        tr("rt_count", lang, rating["count"]),
        tr("rt_time", lang, js_round(components["answered_in_time"]["share"] * 100)),
        tr("rt_settled", lang, js_round(components["settled"]["share"] * 100)),
    ]


# ---- the rating on the outlet's card ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_published_rating_shows_its_score_count_and_shares(rstack, published, page, lang):
    rating = rating_of(rstack, published["code"])
    assert rating["published"] and rating["score"] is not None
    assert (rating["components"]["answered_in_time"]["share"], rating["components"]["settled"]["share"]) == (1.0, 0.67)
    open_form(page, rstack, published, lang)
    expect_published(page, rating, lang)
    assert page.locator("#qr").is_visible()
    shot(page, f"rating-{lang}-published")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_an_unpublished_rating_says_there_are_too_few_yet(rstack, outlets, page, lang):
    outlet = outlets["spare"]  # nobody rates it: always below the minimum
    rating = rating_of(rstack, outlet["code"])
    assert (rating["published"], rating["reason"]) == (False, "too_few")
    open_form(page, rstack, outlet, lang)
    page.locator("#rt_text").filter(has_text=tr("rt_few", lang, rating["min_count"])).wait_for()
    assert page.locator("#rt_stars").inner_text() == ""  # no stars, no score: nothing to misread
    assert page.locator("#rt_parts li").count() == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_rating_held_for_review_says_so(rstack, outlets, page, lang):
    # A hold needs a burst of at least 10 quick ratings in an hour, more than one address may send here, so the
    # card's answer is the real one with the rating in the state the server reports during a hold.
    outlet = outlets["spare"]
    status, card = rstack.json("GET", f"/outlets/{outlet['code']}")
    assert status == 200 and "rating" in card, card
    card["rating"].update(published=False, score=None, reason="held_for_review", count=4, held=9)
    page.route(f"**/outlets/{outlet['code']}", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(card)))
    open_form(page, rstack, outlet, lang)
    page.locator("#rt_text").filter(has_text=tr("rt_review", lang)).wait_for()
    assert tr("rt_few", lang, 10) not in page.locator("#rt").inner_text()
    page.click("button[data-lang=en]")  # the reason follows a language switch
    assert page.locator("#rt_text").inner_text() == tr("rt_review", "en")


def test_a_published_rating_without_complaints_to_judge_shows_no_shares(rstack, outlets, page):
    # Published on stars alone (say, quick ratings from many devices): no share of answered or settled
    # complaints exists yet, and the page must not print an empty or made-up one.
    outlet = outlets["spare"]
    status, card = rstack.json("GET", f"/outlets/{outlet['code']}")
    assert status == 200, card
    card["rating"].update(published=True, score=4.4, reason=None, count=12)
    card["rating"]["components"]["stars"].update(average=4.6, count=12)
    page.route(f"**/outlets/{outlet['code']}", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(card)))
    open_form(page, rstack, outlet, "kk")
    page.locator("#rt_text").filter(has_text=score_text(4.4, "kk")).wait_for()
    assert page.locator("#rt_stars").inner_text() == "★★★★☆"
    assert page.locator("#rt_parts li").all_inner_texts() == [tr("rt_count", "kk", 12)]


def test_an_outlet_typed_by_its_code_shows_its_rating_too(rstack, published, page):
    rating = rating_of(rstack, published["code"])
    open_page(page, rstack, "/", "ru")
    page.fill("#outlet_code", published["code"])
    page.locator("#card_name").filter(has_text=published["name"]).wait_for()
    expect_published(page, rating, "ru")
    page.fill("#outlet_code", "")  # another code: the old outlet's rating and stars go with it
    assert page.locator("#rt").is_hidden() and page.locator("#qr").is_hidden()


LAYOUT_SHIFT_OBSERVER = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
}).observe({ type: "layout-shift", buffered: true });
"""


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
@pytest.mark.parametrize("which", ["published", "spare"])
def test_nothing_moves_when_the_rating_arrives(rstack, outlets, published, browser, console, which, lang):
    # From a sticker the rating row and the quick rating are in place, loading, before the first paint; the
    # answer fills them in. A first visit in each language (the browser's locale picks it).
    outlet = published if which == "published" else outlets[which]
    page = new_page(browser, console, locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}[lang])
    try:
        page.add_init_script(LAYOUT_SHIFT_OBSERVER)
        page.goto(f"{rstack.base}/?o={outlet['code']}&ch=qr")
        page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
        page.locator("#rt_text:not(:text-is('\u2026'))").wait_for()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        cls = page.evaluate("window.__cls")
        assert cls < 0.02, f"layout shift {cls:.3f} for the {which} outlet in {lang}"
    finally:
        page.context.close()
    assert not console.unexpected(), console.unexpected()


# ---- the quick rating ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_quick_rating_is_sent_once_even_on_a_double_click(rstack, outlets, page, lang):
    outlet = outlets["fresh_" + lang]
    sent = rating_posts(page)
    open_form(page, rstack, outlet, lang)
    group = page.get_by_role("radiogroup", name=tr("qr_h", lang))
    group.get_by_role("radio", name=tr("fb_star", lang, 3)).check()
    assert page.locator("#qr_stars label.on").count() == 3  # filled stars up to the choice
    page.fill("#qr_comment", "Кассир сыпайы, бірақ кезек ұзын.")
    page.dblclick("#qr_send")
    page.locator("#qr_msg").filter(has_text=tr("qr_thanks", lang)).wait_for()
    page.wait_for_timeout(500)  # a second request would have left by now
    assert len(sent) == 1, sent
    headers, body = sent[0]
    assert body["stars"] == 3 and body["comment"] == "Кассир сыпайы, бірақ кезек ұзын."
    assert DEVICE_ID.match(body["device_id"]), body
    assert body["device_id"] == page.evaluate("localStorage.getItem('qalqan.device')")
    assert headers.get("idempotency-key")
    assert page.locator("#qr_in").is_hidden()  # rated: the stars are gone, the thanks stays
    assert page.evaluate("document.activeElement.id") == "qr_msg"
    rating = rating_of(rstack, outlet["code"])
    assert (rating["count"], rating["components"]["stars"]["count"]) == (1, 1)  # counted once
    assert not page.locator("#msg").inner_text()  # the complaint form was not sent or checked
    shot(page, f"rating-{lang}-thanks")


def test_the_answer_replaces_the_shown_rating(rstack, published, page):
    before = rating_of(rstack, published["code"])
    open_form(page, rstack, published, "ru")
    expect_published(page, before, "ru")
    page.get_by_role("radio", name=tr("fb_star", "ru", 5)).check()
    with page.expect_response(lambda r: r.url.endswith("/ratings") and r.request.method == "POST") as answer:
        page.click("#qr_send")
    after = answer.value.json()["rating"]
    assert after["count"] == before["count"] + 1
    page.locator("#rt_parts li").first.filter(has_text=tr("rt_count", "ru", after["count"])).wait_for()
    expect_published(page, after, "ru")
    assert after == rating_of(rstack, published["code"])  # what the page shows is what the API now says


def test_rating_with_the_keyboard_only(rstack, outlets, page):
    outlet = outlets["keyboard"]
    sent = rating_posts(page)
    open_form(page, rstack, outlet, "kk")
    for _ in range(30):  # Tab from the top of the page to the stars, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "stars":
            break
    assert page.evaluate("document.activeElement.id") == "qs1"
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # moves along the group and checks each star
    assert page.evaluate("document.activeElement.id") == "qs4" and page.is_checked("#qs4")
    assert page.evaluate("getComputedStyle(document.activeElement.parentNode).outlineStyle") != "none"  # focus shows
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "qr_comment"
    page.keyboard.type("Жақсы")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # Enter on a star sends the rating (its own form), not the complaint
    page.locator("#qr_msg").filter(has_text=tr("qr_thanks", "kk")).wait_for()
    assert [body["stars"] for _, body in sent] == [4] and sent[0][1]["comment"] == "Жақсы"
    assert not page.locator("#msg").inner_text() and page.locator("#f").is_visible()


@pytest.mark.parametrize("lang", LANGS)
def test_a_second_rating_from_the_same_device_today_is_refused_with_the_reason(rstack, outlets, browser, console, lang):
    outlet = outlets["limit_" + lang]
    console.allow(r"status of 429")
    page = new_page(browser, console)
    try:
        open_form(page, rstack, outlet, lang)
        page.get_by_role("radio", name=tr("fb_star", lang, 5)).check()
        page.click("#qr_send")
        page.locator("#qr_msg").filter(has_text=tr("qr_thanks", lang)).wait_for()
        device = page.evaluate("localStorage.getItem('qalqan.device')")

        page.reload()  # the same browser comes back: the same device id
        page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
        page.get_by_role("radio", name=tr("fb_star", lang, 1)).check()
        with page.expect_response(lambda r: r.url.endswith("/ratings")) as answer:
            page.click("#qr_send")
        assert answer.value.status == 429 and answer.value.json()["error"]["code"] == "limit_reached"
        assert answer.value.request.post_data_json["device_id"] == device
        page.locator("#qr_msg").filter(has_text=tr("qr_limit", lang)).wait_for()
        assert page.locator("#qr_in").is_hidden()
        shot(page, f"rating-{lang}-limit")
    finally:
        page.context.close()
    assert not console.unexpected(), console.unexpected()
    rating = rating_of(rstack, outlet["code"])
    assert rating["count"] == 1  # the refused one counted nothing


def test_stars_are_required_before_anything_is_sent(rstack, outlets, page):
    outlet = outlets["spare"]
    sent = rating_posts(page)
    open_form(page, rstack, outlet, "ru")
    page.click("#qr_send")
    assert page.locator("#qr_stars-e").inner_text() == tr("e_fb_stars", "ru")
    assert page.locator("#qr_stars").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "qs1"
    page.fill("#qr_comment", "я" * 501)
    page.get_by_role("radio", name=tr("fb_star", "ru", 2)).check()
    assert page.locator("#qr_stars-e").inner_text() == ""  # a choice clears the stars' error
    page.click("#qr_send")
    assert page.locator("#qr_comment-e").inner_text() == tr("e_fb_comment", "ru", 500)
    page.click("button[data-lang=kk]")
    assert page.locator("#qr_comment-e").inner_text() == tr("e_fb_comment", "kk", 500)
    assert sent == []


def test_the_servers_field_errors_show_next_to_their_fields(rstack, outlets, page, console):
    # The page checks the same rules, so the server's real 422 for bad stars and a long comment is taken from
    # the API and given to the page's (valid) request on the way.
    outlet = outlets["spare"]
    console.allow(r"status of 422")
    status, refusal = rstack.json("POST", f"/outlets/{outlet['code']}/ratings", {"stars": 9, "comment": "x" * 501})
    assert status == 422 and set(refusal["error"]["fields"]) == {"stars", "comment"}, refusal
    page.route(f"**/outlets/{outlet['code']}/ratings", lambda route: route.fulfill(
        status=422, content_type="application/json", body=json.dumps(refusal)))
    open_form(page, rstack, outlet, "kk")
    page.get_by_role("radio", name=tr("fb_star", "kk", 4)).check()
    page.click("#qr_send")
    page.locator("#qr_stars-e").filter(has_text=tr("e_fb_stars", "kk")).wait_for()
    assert page.locator("#qr_comment-e").inner_text() == tr("e_fb_comment", "kk", 500)
    assert page.locator("#qr_msg").inner_text() == tr("fix", "kk")
    assert page.locator("#qr_in").is_visible()  # nothing was counted: the consumer can correct and send


def test_a_rating_held_for_review_is_thanked_and_explained(rstack, outlets, page):
    outlet = outlets["spare"]
    status, card = rstack.json("GET", f"/outlets/{outlet['code']}")
    assert status == 200, card
    answer = {"accepted": True, "held": True, "rating": {**card["rating"], "reason": "held_for_review", "held": 10}}
    page.route(f"**/outlets/{outlet['code']}/ratings", lambda route: route.fulfill(
        status=201, content_type="application/json", body=json.dumps(answer)))
    open_form(page, rstack, outlet, "ru")
    page.get_by_role("radio", name=tr("fb_star", "ru", 1)).check()
    page.click("#qr_send")
    page.locator("#qr_msg").filter(has_text=tr("qr_held", "ru")).wait_for()
    assert page.locator("#rt_text").inner_text() == tr("rt_review", "ru")  # the answer's rating replaced the card's


def test_a_lost_answer_is_retried_with_the_same_key_and_counted_once(rstack, outlets, page, console):
    # The request reaches the server and is counted, but its answer never reaches the page; the consumer
    # presses again, and the same attempt's key makes the server answer the same instead of counting twice.
    outlet = outlets["lost_answer"]
    console.allow(r"requestfailed: POST .*/ratings")
    console.allow(r"net::ERR_FAILED")
    sent, lost = rating_posts(page), []

    def lose_first_answer(route):
        if lost:
            return route.continue_()
        lost.append(route.fetch().status)  # the server did its work...
        route.abort()  # ...and the page hears nothing

    page.route(f"**/outlets/{outlet['code']}/ratings", lose_first_answer)
    open_form(page, rstack, outlet, "ru")
    page.get_by_role("radio", name=tr("fb_star", "ru", 4)).check()
    page.click("#qr_send")
    page.locator("#qr_msg").filter(has_text=tr("e_network", "ru")).wait_for()
    assert lost == [201] and page.locator("#qr_in").is_visible()
    page.click("#qr_send")
    page.locator("#qr_msg").filter(has_text=tr("qr_thanks", "ru")).wait_for()
    assert len(sent) == 2 and sent[0][0]["idempotency-key"] == sent[1][0]["idempotency-key"]
    assert sent[0][1] == sent[1][1]
    assert rating_of(rstack, outlet["code"])["count"] == 1


def test_another_outlet_starts_a_fresh_quick_rating(rstack, outlets, published, page):
    # After "a different outlet", nothing of the first outlet's choice or errors is left on the page.
    sent = rating_posts(page)
    open_form(page, rstack, published, "ru")
    page.get_by_role("radio", name=tr("fb_star", "ru", 2)).check()
    page.fill("#qr_comment", "я" * 501)
    page.click("#qr_send")
    assert page.locator("#qr_comment-e").inner_text() == tr("e_fb_comment", "ru", 500)
    page.click("#change")
    outlet = outlets["spare"]
    page.fill("#outlet_code", outlet["code"])
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    page.locator("#rt_text").filter(has_text=tr("rt_few", "ru", 10)).wait_for()
    assert page.locator("#qr_comment-e").inner_text() == "" and page.locator("#qr_msg").inner_text() == ""
    assert page.locator("#qr_stars input:checked").count() == 0 and page.input_value("#qr_comment") == ""
    assert sent == []
