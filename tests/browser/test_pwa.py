"""The installable app in Chromium against the real local stack: install criteria (manifest, icons, a service
worker controlling the page, Chromium's own installability check), a complaint written offline kept and sent
exactly once when the connection is back (counted on the API side), "my complaints" with each status fetched
with its token, the scanner reading a sticker through a fake camera, the publication consent reaching the API,
the outlet's record and "continue in Telegram" links, and the Web Push button's guard.

The words expected on screen are looked up in web/*i18n.js (see test_consumer_pages.py's `tr`).
"""
from __future__ import annotations

import io
import json
import re
import time
import uuid

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ConsoleLog, new_page, open_page, shot
from tests.browser.test_consumer_pages import tr, view

# Offline on purpose: the requests the page makes then fail, and Chromium says so in the console.
SETTLE_S = 2.5  # longer than the local queue index's settling lag
# Only the API's: a page file failing offline would be a bug of the service worker.
OFFLINE_NOISE = r"(?=.*ERR_(INTERNET_DISCONNECTED|FAILED))(?=.*/(routing/preview|complaints|outlets/\w+|push/key)\b)"


@pytest.fixture
def outlet(stack):
    return stack.demo["outlets"][1]


def controlled(page) -> str:
    """Wait until the service worker controls the page; its script URL."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20_000)
    return page.evaluate("() => navigator.serviceWorker.controller.scriptURL")


def agency_complaints(stack, agency: str) -> dict[str, dict]:
    """Every settled complaint in the agency's queue, by id (all pages)."""
    key, items, cursor = stack.demo["keys"]["agencies"][agency], {}, None
    while True:
        status, page = stack.json("GET", "/agency/complaints?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                                  headers={"Authorization": f"Bearer {key}"})
        assert status == 200, page
        items.update({i["id"]: i for i in page["items"]})
        cursor = page.get("next_cursor")
        if not cursor or not page["items"]:  # a change feed: its cursor is there even at the end
            return items


def complaints_with_text(stack, agency: str, text: str, before: set[str], expect: int = 1) -> list[str]:
    """The agency's new complaints with this text. Its queue is an index that settles a moment after a write, so
    this waits for `expect` of them, then looks once more after the settling time, so a late duplicate shows too."""
    def now():
        return sorted(i["id"] for i in agency_complaints(stack, agency).values()
                      if i["id"] not in before and i["excerpt"] == text[:160])
    deadline = time.monotonic() + 15
    while len(found := now()) < expect and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(SETTLE_S)
    return now()


def routed_agency(stack, outlet, text) -> str:
    status, preview = stack.json("POST", "/routing/preview", {"text": text, "outlet_code": outlet["code"]})
    assert status == 200, preview
    return preview["agency"]["id"]


# ---- install criteria ----------------------------------------------------------------------------------------

def test_the_app_meets_chromiums_install_criteria(stack, page):
    status, headers, raw = stack.request("GET", "/manifest.webmanifest")
    assert status == 200 and headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(raw)
    from PIL import Image
    for icon in manifest["icons"]:
        status, headers, raw = stack.request("GET", "/" + icon["src"])
        assert status == 200 and headers["Content-Type"] == "image/png", icon
        assert "x".join(map(str, Image.open(io.BytesIO(raw)).size)) == icon["sizes"]

    open_page(page, stack, "/", "ru")
    assert controlled(page).endswith("/sw.js")
    assert page.evaluate("() => document.querySelector('link[rel=manifest]').href") == stack.base + "/manifest.webmanifest"
    cdp = page.context.new_cdp_session(page)
    errors = {e["errorId"] for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]}
    # Chromium's own check finds nothing missing in the app (manifest, icons, service worker): the one remaining
    # reason is the test's browser context itself, which is an incognito profile (no app can be installed there).
    assert errors <= {"in-incognito"}, errors
    shown = cdp.send("Page.getAppManifest")
    assert not shown["errors"], shown["errors"]


# ---- offline: kept, shown as waiting, sent once ---------------------------------------------------------------

def test_a_complaint_written_offline_waits_and_is_sent_exactly_once_when_back_online(stack, page, console, outlet):
    console.allow(OFFLINE_NOISE)
    text = f"Кассир отказался выдать чек и сдачу 500 тенге, проверка {uuid.uuid4().hex[:8]}."
    agency = routed_agency(stack, outlet, text)
    before = set(agency_complaints(stack, agency))
    posts = []
    page.context.on("request", lambda r: r.method == "POST" and r.url.endswith("/complaints") and posts.append(
        r.headers.get("idempotency-key")))

    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "ru")
    controlled(page)
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    page.context.set_offline(True)
    page.fill("#text", text)
    page.click("#send")
    page.locator("#done_h").filter(has_text=tr("queued_h", "ru")).wait_for()
    assert page.locator("#done_state").inner_text() == tr("st_waiting", "ru")
    shot(page, "pwa-offline-waiting")
    assert complaints_with_text(stack, agency, text, before, expect=0) == []

    # Closed and opened again while still offline: the service worker serves the form, the complaint is kept.
    page.reload()
    page.locator("#f").wait_for(state="visible")
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('qalqan.queue'))")
    assert len(kept) == 1 and kept[0]["body"]["text"] == text and kept[0]["state"] == "waiting"
    # "My complaints", offline too, lists it as waiting.
    open_page(page, stack, "/mine.html")
    page.locator(f"li[data-key='{kept[0]['key']}'] .badge").filter(has_text=tr("st_waiting", "ru")).wait_for()
    assert page.locator(".lead").inner_text() == tr("mine_lead", "ru")  # its own texts came from the cache too

    page.context.set_offline(False)
    item = page.locator("#list li[data-id]")
    item.wait_for()
    page.wait_for_function("() => localStorage.getItem('qalqan.queue') === null")
    found = complaints_with_text(stack, agency, text, before)
    assert len(found) == 1, found  # sent, and only once
    assert set(posts[-1:]) == {kept[0]["key"]}  # with the key chosen when it was first sent
    assert all(k == kept[0]["key"] for k in posts)
    assert item.get_attribute("data-id") == found[0]
    mine = page.evaluate("() => JSON.parse(localStorage.getItem('qalqan.mine'))")
    created = {"id": found[0], "tracking_token": mine[0]["token"]}
    label = view(stack, created)["status_label"]["ru"]
    item.locator(".badge").filter(has_text=label).wait_for()
    shot(page, "pwa-mine-after-online")


def test_two_open_tabs_back_online_send_the_kept_complaint_once(stack, browser, console, outlet):
    console.allow(OFFLINE_NOISE)
    page = new_page(browser, console)
    try:
        text = f"Просроченный кефир на полке, дата истекла неделю назад, проверка {uuid.uuid4().hex[:8]}."
        agency = routed_agency(stack, outlet, text)
        before = set(agency_complaints(stack, agency))
        open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "kk")
        controlled(page)
        page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
        page.context.set_offline(True)
        page.fill("#text", text)
        page.click("#send")
        page.locator("#done_state").wait_for()
        other = page.context.new_page()
        console.watch(other)
        other.goto(stack.base + "/mine.html")
        other.locator("li[data-key] .badge").wait_for()
        page.context.set_offline(False)  # both tabs hear "online" and both try
        other.wait_for_function("() => localStorage.getItem('qalqan.queue') === null")
        page.locator("#done_agency").wait_for()  # the waiting panel became the result
        assert page.locator("#done_h").inner_text() == tr("done_h", "kk")
        assert len(complaints_with_text(stack, agency, text, before)) == 1
    finally:
        page.context.close()
    assert not console.unexpected(), console.unexpected()


# ---- my complaints: status with each token; push button only where the server offers push -----------------------

def test_my_complaints_shows_each_status_and_offers_push_only_when_the_server_has_a_key(stack, page, console, outlet):
    console.allow(r"status of 404 .*/push/key")  # the server without push, as the test makes it answer
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "en")
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    page.fill("#text", "The scales showed 1.2 kg, the bag weighed 0.9 kg at home. Overcharged for meat.")
    page.click("#send")
    if page.locator("#ask").is_visible():
        page.locator("#ask_opts input").last.check()
        page.click("#send")
    page.locator("#done_agency").wait_for()
    cid = page.locator("#done_id").inner_text()
    token = re.search(r"token=([\w-]+)", page.locator("#done_link").get_attribute("href")).group(1)
    label = view(stack, {"id": cid, "tracking_token": token})["status_label"]["en"]

    # The server without push: GET /push/key answers 404 push_unavailable, and no button is offered.
    page.route("**/push/key", lambda r: r.fulfill(status=404, content_type="application/json",
                                                  body=json.dumps({"error": {"code": "push_unavailable", "message": "-"}})))
    page.goto(stack.base + "/mine.html")
    row = page.locator(f"#list li[data-id='{cid}']")
    row.locator(".badge").filter(has_text=label).wait_for()
    assert row.locator(".strong").inner_text()  # the agency
    assert row.get_by_role("link", name=tr("done_link", "en")).get_attribute("href").endswith(f"token={token}")
    page.wait_for_load_state("networkidle")
    assert row.get_by_role("button", name=tr("push_on", "en")).count() == 0

    # With a VAPID key the button is there (subscribing itself needs a push service headless Chromium lacks).
    key = "B" + "A" * 86  # 87 base64url characters: the shape of an uncompressed P-256 point
    page.unroute("**/push/key")
    page.route("**/push/key", lambda r: r.fulfill(status=200, content_type="application/json",
                                                  body=json.dumps({"public_key": key})))
    page.reload()
    page.locator(f"#list li[data-id='{cid}']").get_by_role("button", name=tr("push_on", "en")).wait_for()
    page.locator(f"#list li[data-id='{cid}']").get_by_role("button", name=tr("remove", "en")).click()
    assert page.locator(f"#list li[data-id='{cid}']").count() == 0
    assert page.locator("#empty").is_visible() == (page.locator("#list li").count() == 0)


# ---- the form's additions: consent, the outlet's record, Telegram ------------------------------------------------

def test_the_publication_consent_reaches_the_api_and_the_outlet_links_are_offered(stack, page, outlet):
    status, api_outlet = stack.json("GET", f"/outlets/{outlet['code']}")
    assert status == 200
    tg = api_outlet.get("telegram_url")
    if not tg:  # the local bot not configured: the form must still show the link when the API gives one
        tg = f"https://t.me/qalqan_demo_bot?start={outlet['code']}"

        def with_tg(route):
            response = route.fetch()
            route.fulfill(response=response, json={**response.json(), "telegram_url": tg})
        page.route(f"**/outlets/{outlet['code']}", with_tg)
    sent = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/complaints") and sent.append(r.post_data_json))

    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "kk")
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    record = page.locator("#card_record")
    assert record.inner_text() == tr("outlet_record", "kk")
    assert record.get_attribute("href") == f"outlet.html?code={outlet['code']}"
    assert page.locator("#card_tg").is_visible() and page.locator("#card_tg").get_attribute("href") == tg
    assert page.locator("#card_tg").inner_text() == tr("tg_continue", "kk")
    assert page.locator("label[for=publish_consent]").inner_text() == tr("publish_label", "kk")

    page.fill("#text", "Дүкенде баға белгісі 450 теңге, кассада 520 теңге алды, айырмасын қайтармады.")
    page.check("#publish_consent")
    page.click("#send")
    if page.locator("#ask").is_visible():
        page.locator("#ask_opts input").last.check()
        page.click("#send")
    page.locator("#done_agency").wait_for()
    assert sent[-1]["publish_consent"] is True
    token = re.search(r"token=([\w-]+)", page.locator("#done_link").get_attribute("href")).group(1)
    case = view(stack, {"id": page.locator("#done_id").inner_text(), "tracking_token": token})
    assert case.get("publish_consent") is True, case  # the tracking view echoes what was stored


def test_without_consent_the_form_sends_false(stack, page, outlet):
    sent = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/complaints") and sent.append(r.post_data_json))
    open_page(page, stack, f"/?o={outlet['code']}&ch=qr", "ru")
    page.locator("#card_name").filter(has_text=outlet["name"]).wait_for()
    page.fill("#text", "Продали телефон с трещиной на экране, в обмене отказали, чек сохранён.")
    page.click("#send")
    if page.locator("#ask").is_visible():
        page.locator("#ask_opts input").last.check()
        page.click("#send")
    page.locator("#done_agency").wait_for()
    assert sent[-1]["publish_consent"] is False


# ---- the scanner, with Chromium's fake camera showing a sticker's QR code ----------------------------------------

def y4m_of_qr(url: str, path) -> None:
    """A still video (Y4M, 4:2:0) of the QR code of `url` on white, for --use-file-for-fake-video-capture."""
    import qrcode
    from PIL import Image

    qr = qrcode.make(url, box_size=8, border=4).get_image().convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr.resize((360, 360)), (140, 60))
    y = frame.tobytes()
    uv = bytes([128]) * (320 * 240)
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            f.write(b"FRAME\n" + y + uv + uv)


def test_the_scanner_reads_a_sticker_through_the_camera_and_opens_the_outlet(stack, browser, tmp_path, outlet):
    video = tmp_path / "sticker.y4m"
    y4m_of_qr(f"{stack.base}/q/{outlet['code']}", video)
    console = ConsoleLog()
    # A second Chromium from the same Playwright, with a fake camera that films the sticker.
    b = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        page = new_page(b, console, permissions=["camera"])
        open_page(page, stack, "/", "ru")
        assert page.evaluate("() => typeof window.jsQR") == "undefined"  # not in the first load
        page.locator("#scan").click()
        # The dialog may already be gone here: the fake camera's sticker is read within a few frames.
        page.locator("#card_name").filter(has_text=outlet["name"]).wait_for(timeout=30_000)
        assert page.locator("dialog.scan").count() == 0  # closed, the camera released
        assert page.locator("#outlet_code").input_value() == outlet["code"]
        # No BarcodeDetector on Linux Chromium: the library, loaded on the press, read it.
        assert page.evaluate("() => typeof window.jsQR") == "function"
        shot(page, "pwa-scanned")
    finally:
        b.close()
    assert not console.unexpected(), console.unexpected()
