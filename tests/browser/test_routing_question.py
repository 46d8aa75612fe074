"""The one question the complaint form asks when the router is unsure, and the secondary agencies on the
preview line and the tracking page, in Chromium against the real local stack, in kk and ru.

The real model's answers vary with its version, so `POST /routing/preview` is answered here by the test
(Playwright's page.route) in the API's shape, with the catalogue's real names; `POST /complaints` goes to the
real stack and its request body is what the tests check. Texts expected on screen come from web/i18n.js by key
and the names from the catalogue. Every test fails on any console error or 5xx (see conftest.py).
"""
from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.browser.conftest import open_page, shot
from tests.unit.test_web_assets import load_i18n

LANGS = ["kk", "ru"]
TEXT = "Купил кое-что в этом магазине, потом стало плохо, продавец ничего не хочет слышать."
# A plain price-tag case for complaints made through the API: one agency, nothing else concerned.
PLAIN = "На ценнике 990 тенге, а на кассе пробили 1290 тенге. Разницу вернуть отказались, чек выдали."
CANDIDATES = ["expired_food", "defective_goods", "food_poisoning"]  # the likeliest first, as the API orders them
T = load_i18n("track.html")  # i18n.js and the tracking page's own words: every key either page uses


def tr(key: str, lang: str) -> str:
    return T[key][lang]


@pytest.fixture(scope="module")
def catalog(stack) -> dict:
    status, body = stack.json("GET", "/catalog")
    assert status == 200, body
    return {"categories": {c["id"]: c for c in body["categories"]}, "agencies": {a["id"]: a for a in body["agencies"]}}


@pytest.fixture
def outlet(stack):
    return stack.demo["outlets"][0]


def agency(catalog, agency_id):
    a = catalog["agencies"][agency_id]
    return {"id": a["id"], "name": a["name"]}


def preview_answer(catalog, *, unsure: bool, secondary=()):
    """A preview answer in the API's shape: unsure -> KZPP triage with three likely categories."""
    return {
        "agency": agency(catalog, "kzpp" if unsure else "ksek"), "confidence": 0.31 if unsure else 0.93,
        "method": "triage" if unsure else "model", "explanation": "test", "version": "test",
        "needs_category": unsure,
        "candidates": [{"id": c, "name": catalog["categories"][c]["name"]} for c in CANDIDATES] if unsure else [],
        "suggested": agency(catalog, "ksek") if unsure else None,
        "secondary_agencies": [agency(catalog, a) for a in secondary],
    }


class Api:
    """What the page asked: preview bodies (answered by `answer(body)`) and the complaints it posted."""

    def __init__(self, page, answer):
        self.previews: list[dict] = []
        self.complaints: list[dict] = []
        self.keys: list[str] = []

        def on_preview(route):
            body = route.request.post_data_json
            self.previews.append(body)
            route.fulfill(status=200, content_type="application/json", body=json.dumps(answer(body)))

        def on_request(request):
            if request.method == "POST" and request.url.endswith("/complaints"):
                self.complaints.append(request.post_data_json)
                self.keys.append(request.headers.get("idempotency-key"))

        page.route("**/routing/preview", on_preview)
        page.on("request", on_request)

    def previews_of(self, text, *, category=None):
        return [b for b in self.previews if b.get("text") == text and b.get("category") == category]


def unsure_until_a_category(catalog, secondary=()):
    """The router is unsure about the text alone; with a category it is sure (as the real policy is)."""
    return lambda body: preview_answer(catalog, unsure="category" not in body, secondary=secondary)


def open_form(page, stack, outlet, lang):
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", lang)
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()


def type_text_and_wait_for_the_preview(page, catalog, lang, text=TEXT):
    page.fill("#text", text)
    page.locator("#preview strong").filter(has_text=catalog["agencies"]["kzpp"]["name"][lang]).wait_for()


def created_from_done(page) -> dict:
    page.locator("#done").wait_for(state="visible")
    cid, token = re.fullmatch(r".*#id=(\w+)&token=(\w+)", page.locator("#done_link").get_attribute("href")).groups()
    return {"id": cid, "tracking_token": token}


def stored(stack, created) -> dict:
    status, body = stack.json("GET", f"/complaints/{created['id']}", headers={"X-Tracking-Token": created["tracking_token"]})
    assert status == 200, body
    return body


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


# ---- the question ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_an_unsure_router_gets_one_question_and_the_chosen_category_is_sent(stack, page, catalog, outlet, lang):
    api = Api(page, unsure_until_a_category(catalog))
    open_form(page, stack, outlet, lang)
    type_text_and_wait_for_the_preview(page, catalog, lang)
    assert page.locator("#ask").is_hidden()  # nothing is asked while typing

    page.focus("#send")
    page.keyboard.press("Enter")
    question = page.locator("#ask")
    question.wait_for(state="visible")
    assert api.complaints == []  # asked, not sent
    # The live preview was for exactly this text and outlet: it is reused, not asked again.
    assert api.previews_of(TEXT) == [{"text": TEXT, "outlet_code": outlet["code"]}]
    # An accessible radio group named by the question, the likeliest category first, then "as it is".
    group = page.get_by_role("group", name=tr("ask_h", lang))
    names = [catalog["categories"][c]["name"][lang] for c in CANDIDATES] + [tr("ask_none", lang)]
    assert [group.get_by_role("radio", name=n, exact=True).count() for n in names] == [1, 1, 1, 1]
    assert page.locator("#ask label").all_inner_texts() == names
    assert page.locator("#ask input:checked").count() == 0  # no answer is chosen for the consumer
    assert focused_id(page) == "ask_0"
    shot(page, f"ask-{lang}-question")

    # Keyboard only: the arrow picks the second candidate, Tab reaches the send button, Enter sends.
    page.keyboard.press("ArrowDown")
    assert focused_id(page) == "ask_1" and page.is_checked("#ask_1")
    # The preview now says where that answer sends the complaint.
    page.locator("#preview strong").filter(has_text=catalog["agencies"]["ksek"]["name"][lang]).wait_for()
    assert api.previews_of(TEXT, category=CANDIDATES[1])
    page.keyboard.press("Tab")
    assert focused_id(page) == "send"
    page.keyboard.press("Enter")

    created = created_from_done(page)
    assert len(api.complaints) == 1 and api.complaints[0]["category"] == CANDIDATES[1]
    assert api.complaints[0]["text"] == TEXT and api.complaints[0]["outlet_code"] == outlet["code"]
    assert stored(stack, created)["category"]["id"] == CANDIDATES[1]  # and the server kept it


@pytest.mark.parametrize("lang", LANGS)
def test_send_as_it_is_sends_without_a_category(stack, page, catalog, outlet, lang):
    api = Api(page, unsure_until_a_category(catalog))
    open_form(page, stack, outlet, lang)
    type_text_and_wait_for_the_preview(page, catalog, lang)
    page.click("#send")
    page.locator("#ask").wait_for(state="visible")
    assert focused_id(page) == "ask_0"

    page.keyboard.press("ArrowUp")  # from the first answer the arrow wraps round to the last: "as it is"
    assert focused_id(page) == f"ask_{len(CANDIDATES)}" and page.is_checked(f"#ask_{len(CANDIDATES)}")
    assert page.locator(f"label[for=ask_{len(CANDIDATES)}]").inner_text() == tr("ask_none", lang)
    page.keyboard.press("Enter")  # Enter on the chosen answer sends the form

    created = created_from_done(page)
    assert len(api.complaints) == 1 and "category" not in api.complaints[0]
    assert stored(stack, created)["category"] is None  # the triage lane decides


def test_sending_again_without_an_answer_says_what_is_missing_and_sends_nothing(stack, page, catalog, outlet):
    api = Api(page, unsure_until_a_category(catalog))
    open_form(page, stack, outlet, "kk")
    type_text_and_wait_for_the_preview(page, catalog, "kk")
    page.click("#send")
    page.locator("#ask").wait_for(state="visible")
    page.click("#send")
    page.locator("#ask-e").filter(has_text=tr("e_ask", "kk")).wait_for()
    assert page.locator("#ask").get_attribute("aria-invalid") == "true"
    assert focused_id(page) == "ask_0"
    assert api.complaints == []

    page.click("button[data-lang=ru]")  # the question and its message follow a language switch
    assert page.locator("#ask legend").inner_text() == tr("ask_h", "ru")
    assert page.locator("#ask-e").inner_text() == tr("e_ask", "ru")
    assert page.locator("label[for=ask_0]").inner_text() == catalog["categories"][CANDIDATES[0]]["name"]["ru"]

    page.check("#ask_0")
    assert page.locator("#ask-e").inner_text() == "" and page.locator("#ask").get_attribute("aria-invalid") is None
    page.click("#send")
    created_from_done(page)
    assert [c.get("category") for c in api.complaints] == [CANDIDATES[0]]


def test_the_question_is_asked_once_a_retry_after_a_failure_sends_the_same_answer(stack, page, console, catalog, outlet):
    console.allow(r"status of 503|503 POST .*/complaints")
    api = Api(page, unsure_until_a_category(catalog))
    failures = []

    def fail_once(route):
        if not failures:
            failures.append(route.request.post_data_json)
            return route.fulfill(status=503, content_type="application/json",
                                 body=json.dumps({"error": {"code": "unavailable", "message": "x"}}))
        route.continue_()

    page.route("**/complaints", fail_once)
    open_form(page, stack, outlet, "ru")
    type_text_and_wait_for_the_preview(page, catalog, "ru")
    page.click("#send")
    page.locator("#ask").wait_for(state="visible")
    page.check(f"#ask_{len(CANDIDATES)}")  # as it is
    page.click("#send")
    page.locator("#msg").filter(has_text=tr("e_server", "ru")).wait_for()
    asked = len(api.previews_of(TEXT))

    page.click("#send")  # the same text: no second question, the same answer and the same key
    created_from_done(page)
    assert len(api.previews_of(TEXT)) == asked
    assert len(api.complaints) == 2 and api.complaints[0] == api.complaints[1] and "category" not in api.complaints[1]
    assert api.keys[0] == api.keys[1]
    assert stored(stack, created_from_done(page))["category"] is None


def test_sending_before_the_live_preview_asks_the_router_first(stack, page, catalog, outlet):
    api = Api(page, unsure_until_a_category(catalog))
    open_form(page, stack, outlet, "ru")
    page.fill("#text", TEXT)
    page.click("#send")  # at once: the live preview (600 ms after typing) has not run yet
    page.locator("#ask").wait_for(state="visible")
    assert api.previews_of(TEXT)[0] == {"text": TEXT, "outlet_code": outlet["code"]}
    assert api.complaints == []
    # The preview line shows the triage it would go to as it is.
    assert page.locator("#preview strong").inner_text() == catalog["agencies"]["kzpp"]["name"]["ru"]


def test_a_category_chosen_in_the_list_is_never_questioned(stack, page, catalog, outlet):
    api = Api(page, unsure_until_a_category(catalog))
    open_form(page, stack, outlet, "kk")
    page.select_option("#category", "no_receipt")
    page.fill("#text", TEXT)
    page.click("#send")
    created_from_done(page)
    assert page.locator("#ask").is_hidden()
    assert [c.get("category") for c in api.complaints] == ["no_receipt"]
    assert api.previews_of(TEXT) == []  # the router was not consulted without the category
    assert stored(stack, created_from_done(page))["category"]["id"] == "no_receipt"


# ---- a sure router, and the secondary agencies -----------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_sure_preview_sends_at_once_and_names_the_agencies_also_informed(stack, page, catalog, outlet, lang):
    api = Api(page, lambda body: preview_answer(catalog, unsure=False, secondary=["kgd", "ktrm"]))
    open_form(page, stack, outlet, lang)
    page.fill("#text", TEXT)
    names = ", ".join(catalog["agencies"][a]["name"][lang] for a in ("kgd", "ktrm"))
    also = page.locator("#preview p").filter(has_text=tr("also", lang))
    also.wait_for()
    assert also.inner_text() == f"{tr('also', lang)}: {names}"
    assert page.locator("#preview strong").inner_text() == catalog["agencies"]["ksek"]["name"][lang]
    shot(page, f"ask-{lang}-also")

    page.click("#send")
    created_from_done(page)
    assert page.locator("#ask").is_hidden()
    assert len(api.complaints) == 1 and "category" not in api.complaints[0]
    assert len(api.previews_of(TEXT)) == 1  # the live answer was reused at sending


def test_the_preview_line_drops_the_agencies_also_informed_when_the_text_no_longer_concerns_them(stack, page, catalog, outlet):
    Api(page, lambda body: preview_answer(catalog, unsure=False, secondary=["kgd"] if "чек" in body["text"] else []))
    open_form(page, stack, outlet, "ru")
    page.fill("#text", TEXT + " И чек не дали.")
    page.locator("#preview p").filter(has_text=tr("also", "ru")).wait_for()
    page.fill("#text", TEXT)
    page.locator("#preview p").filter(has_text=tr("also", "ru")).wait_for(state="detached")
    assert page.locator("#preview strong").inner_text() == catalog["agencies"]["ksek"]["name"]["ru"]


# ---- the tracking page -----------------------------------------------------------------------------------

def submit_real(stack, outlet) -> dict:
    body = {"outlet_code": outlet["code"], "text": PLAIN, "language": "ru", "channel": "web"}
    status, created = stack.json("POST", "/complaints", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, created
    return created


@pytest.mark.parametrize("lang", LANGS)
def test_the_tracking_page_names_the_agencies_also_informed_under_the_agency(stack, page, catalog, outlet, lang):
    created = submit_real(stack, outlet)
    also = [agency(catalog, "kgd"), agency(catalog, "ksek")]

    def with_secondary(route):
        response = route.fetch()
        body = response.json()
        body["secondary_agencies"] = also
        route.fulfill(response=response, body=json.dumps(body))

    page.route(f"**/complaints/{created['id']}", with_secondary)
    open_page(page, stack, f"/track.html#id={created['id']}&token={created['tracking_token']}", lang)
    page.locator("#res").wait_for(state="visible")
    row = page.locator("#r_also")
    assert row.is_visible()
    assert row.inner_text() == ", ".join(a["name"][lang] for a in also)
    # Right under the considering agency, labelled with the glossary's words.
    labels = page.locator("#res dl.kv > div:visible dt").all_inner_texts()
    assert labels[labels.index(tr("agency", lang)) + 1] == tr("also", lang)
    shot(page, f"track-{lang}-also")

    page.click("button[data-lang=en]")
    assert row.inner_text() == ", ".join(a["name"]["en"] for a in also)


def test_the_tracking_page_has_no_also_informed_row_without_secondary_agencies(stack, page, outlet):
    created = submit_real(stack, outlet)
    assert stored(stack, created)["secondary_agencies"] == []
    open_page(page, stack, f"/track.html#id={created['id']}&token={created['tracking_token']}", "kk")
    page.locator("#res").wait_for(state="visible")
    assert page.locator("#r_also").is_hidden()
