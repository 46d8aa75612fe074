"""The agency console and the business inbox in Chromium, against the real local stack, in kk and ru.

Each test submits its own complaint over HTTP, works it through the page as an agent or a seller would, and
then checks through the API that the page really did it. The words expected on screen are the glossary's
(docs/glossary.md) or the server's own labels, not read back from the page's translation file, except for
the pages' own messages, which are looked up in web/console-i18n.js by key.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import open_page, shot

ROOT = Path(__file__).resolve().parents[2]
LANGS = ["kk", "ru"]
# From docs/glossary.md.
GLOSSARY = {
    "agency_h": {"kk": "Орган кабинеті", "ru": "Кабинет органа"},
    "business_h": {"kk": "Сатушы кабинеті", "ru": "Кабинет продавца"},
    "offer_refund": {"kk": "Ақшаны қайтару", "ru": "Возврат денег"},
    "dec_violation_confirmed": {"kk": "Бұзушылық расталды", "ru": "Нарушение подтвердилось"},
}
TEXT = "На ценнике 990 тенге, а на кассе пробили 1290 тенге. Разницу вернуть отказались, чек выдали."


def page_texts() -> dict:
    src = (ROOT / "web" / "console-i18n.js").read_text(encoding="utf-8")
    return json.loads(src[src.index("{"):src.rindex("}") + 1])


T = page_texts()


def submit(stack, outlet, *, text=TEXT, contact=None, share=False) -> dict:
    body = {"outlet_code": outlet["code"], "text": text, "language": "ru", "channel": "web",
            "share_contact_with_business": share}
    if contact:
        body["contact"] = contact
    status, created = stack.json("POST", "/complaints", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, created
    return created


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def wait_listed(stack, path: str, key: str, cid: str) -> None:
    """The queues show a change only after a few seconds' settle lag; wait until the API lists the case."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, page = stack.json("GET", f"{path}?limit=100", headers=auth(key))
        assert status == 200, page
        if any(i["id"] == cid for i in page["items"]):
            return
        time.sleep(0.5)
    raise AssertionError(f"{cid} never appeared in {path}")


def case_api(stack, role: str, key: str, cid: str) -> dict:
    status, body = stack.json("GET", f"/{role}/complaints/{cid}", headers=auth(key))
    assert status == 200, body
    return body


def sign_in(page, key: str) -> None:
    page.fill("#key", key)
    page.click("#signin button")
    page.wait_for_selector("#queue:not([hidden])")


def open_from_list(page, cid: str) -> None:
    """Find the case in the queue (showing more pages if other tests filled it) and open it."""
    link = page.locator(f'#list a[data-id="{cid}"]')
    while not link.count() and page.locator("#more").is_visible():
        page.click("#more")
        page.wait_for_function("() => !document.querySelector('#more').disabled")
    assert link.count() == 1, f"{cid} is not in the list"
    link.click()
    page.wait_for_selector("#case_h")
    assert cid in page.locator("#case_h").inner_text()


def badge(page) -> str:
    return page.locator("#facts .st").first.inner_text()


def stored_key_state(page) -> dict:
    return page.evaluate("""() => ({session: Object.keys(sessionStorage).filter(k => k.startsWith('qalqan.key')),
        local: Object.entries(localStorage).filter(([k, v]) => /key|token/i.test(k) || v.startsWith('qk_')).length,
        cookie: document.cookie})""")


def layout_shift(page) -> float:
    return page.evaluate("""() => new Promise(done => { let s = 0; new PerformanceObserver(l => {
        for (const e of l.getEntries()) if (!e.hadRecentInput) s += e.value; }).observe({type: 'layout-shift', buffered: true});
        setTimeout(() => done(s), 300); })""")


@pytest.mark.parametrize("lang", LANGS)
def test_agency_lists_opens_takes_and_resolves_a_complaint(stack, page, lang):
    outlet = stack.demo["outlets"][0]
    created = submit(stack, outlet, contact={"name": "Сейтқали Айгүл", "phone": "+77011234567"})
    agency = created["agency"]["id"]
    key = stack.demo["keys"]["agencies"][agency]
    cid = created["id"]
    wait_listed(stack, "/agency/complaints", key, cid)

    open_page(page, stack, "/agency.html", lang)
    assert page.locator("h1").inner_text() == GLOSSARY["agency_h"][lang]
    assert page.locator("#signin").is_visible()
    assert layout_shift(page) < 0.1
    shot(page, f"console-agency-signin-{lang}")

    sign_in(page, key)
    assert page.locator("#who").inner_text() == created["agency"]["name"][lang]
    item = page.locator("#list li", has=page.locator(f'a[data-id="{cid}"]'))
    assert outlet["name"] in item.inner_text()
    # The key is in this tab's sessionStorage only: nothing in localStorage, no cookie.
    assert stored_key_state(page) == {"session": ["qalqan.key.agency"], "local": 0, "cookie": ""}
    shot(page, f"console-agency-queue-{lang}")

    open_from_list(page, cid)
    routed = case_api(stack, "agency", key, cid)["status_label"][lang]
    assert badge(page) == routed
    assert TEXT in page.locator("#facts blockquote").first.inner_text()
    assert "Сейтқали Айгүл" in page.locator("#facts").inner_text()
    assert page.locator("#resolve_d").is_hidden()  # resolving needs the case in review first

    page.click("#take")
    page.wait_for_selector("#case_ok:not(:empty)")
    assert page.locator("#case_ok").inner_text() == T["taken_ok"][lang]
    in_review = case_api(stack, "agency", key, cid)
    assert in_review["status"] == "in_review"
    assert badge(page) == in_review["status_label"][lang]
    assert page.locator("#take_f").is_hidden()

    # Empty resolve: both fields say what is missing and nothing is sent.
    page.click("#resolve_d summary")
    page.click("#resolve")
    assert page.locator("#decision-e").inner_text() == T["e_decision"][lang]
    assert page.locator("#result-e").inner_text() == T["e_required"][lang]
    assert case_api(stack, "agency", key, cid)["status"] == "in_review"

    page.check("#dec_violation_confirmed")
    result = "Проведена проверка, продавцу выдано предписание, разница в цене возвращена."
    page.fill("#result", result)
    page.click("#resolve")
    page.wait_for_selector("#no_actions:not([hidden])")
    assert page.locator("#case_ok").inner_text() == T["resolved_ok"][lang]
    done = case_api(stack, "agency", key, cid)
    assert done["status"] == "resolved"
    assert done["decision"]["decision"] == "violation_confirmed" and done["decision"]["result"] == result
    assert badge(page) == done["status_label"][lang]
    facts = page.locator("#facts").inner_text()
    assert GLOSSARY["dec_violation_confirmed"][lang] in facts and result in facts
    history = page.locator("#history").inner_text()
    for entry in done["timeline"]:
        assert entry["label"][lang] in history
    shot(page, f"console-agency-case-{lang}")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, f"console-agency-case-desk-{lang}")

    # Back in the queue, under the default "open" filter, the decided case has left the list.
    page.click("#case .back")
    page.wait_for_selector("#queue:not([hidden])")
    assert page.locator(f'#list a[data-id="{cid}"]').count() == 0


@pytest.mark.parametrize("lang", LANGS)
def test_business_sees_a_complaint_about_its_outlet_and_answers_with_an_offer(stack, page, lang):
    outlet = next(o for o in stack.demo["outlets"] if o["sector"] == "electronics")
    created = submit(stack, outlet, text="Продали неисправный телефон, через день перестал включаться, "
                     "в обмене и возврате денег отказали.", contact={"name": "Омаров Ерлан",
                     "email": "erlan@example.kz"}, share=True)
    cid, key = created["id"], stack.demo["keys"]["businesses"][outlet["business_bin"]]
    wait_listed(stack, "/business/complaints", key, cid)

    open_page(page, stack, "/business.html", lang)
    assert page.locator("h1").inner_text() == GLOSSARY["business_h"][lang]
    sign_in(page, key)
    assert page.locator("#who").inner_text() == outlet["business_name"]
    open_from_list(page, cid)
    facts = page.locator("#facts").inner_text()
    assert "Омаров Ерлан" in facts and "erlan@example.kz" in facts  # the consumer agreed to share them
    assert page.locator("#facts a[href^='mailto:']").get_attribute("href") == "mailto:erlan@example.kz"

    page.click("#respond")
    assert page.locator("#message-e").inner_text() == T["e_required"][lang]
    assert page.locator("#offer-e").inner_text() == T["e_offer"][lang]

    message = "Просим прощения. Принесите телефон в магазин: вернём деньги в тот же день."
    page.fill("#message", message)
    page.check("#offer_refund")
    page.click("#respond")
    page.wait_for_selector("#respond_f", state="hidden")
    assert page.locator("#case_ok").inner_text() == T["responded_ok"][lang]
    answered = case_api(stack, "business", key, cid)
    assert answered["status"] == "business_responded" and answered["actions"] == []
    assert answered["business_response"]["offer"] == "refund" and answered["business_response"]["message"] == message
    assert badge(page) == answered["status_label"][lang]
    facts = page.locator("#facts").inner_text()
    assert GLOSSARY["offer_refund"][lang] in facts and message in facts
    assert page.locator("#no_actions").is_visible()
    shot(page, f"console-business-case-{lang}")

    # Switching language redraws the case from the data it has, labels and all.
    other = "ru" if lang == "kk" else "kk"
    page.click(f'[data-lang="{other}"]')
    assert page.locator("html").get_attribute("lang") == other
    assert badge(page) == answered["status_label"][other]
    assert GLOSSARY["offer_refund"][other] in page.locator("#facts").inner_text()
    assert page.locator("#case_ok").inner_text() == T["responded_ok"][other]
    page.click(f'[data-lang="{lang}"]')
    page.click("#case .back")
    page.wait_for_selector("#queue:not([hidden])")
    shot(page, f"console-business-inbox-{lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_a_wrong_key_is_refused_and_nothing_is_kept(stack, page, console, lang):
    console.allow(r"status of 40[13]")  # Chromium logs every 4xx answer as a console error
    open_page(page, stack, "/agency.html", lang)
    page.fill("#key", "qk_not-a-real-key.0000000000000000")
    page.click("#signin button")
    page.wait_for_selector("#key-e:not(:empty)")
    assert page.locator("#key-e").inner_text() == T["e_key_rejected"][lang]
    assert page.locator("#key").get_attribute("aria-invalid") == "true"
    assert page.locator("#in").is_hidden()
    assert stored_key_state(page)["session"] == []
    shot(page, f"console-agency-wrong-key-{lang}")

    # Pasted with a stray Cyrillic letter: refused on the spot (it can't be sent as a header at all).
    sent = []
    page.on("request", lambda r: "/agency/" in r.url and sent.append(r.url))
    page.fill("#key", "qk_ключ.0000")
    page.click("#signin button")
    page.wait_for_function("t => document.querySelector('#key-e').textContent === t", arg=T["e_key_rejected"][lang])
    assert sent == []

    # A real key of the wrong role: the server says 403, the page says which console the key is not for.
    page.fill("#key", next(iter(stack.demo["keys"]["businesses"].values())))
    page.click("#signin button")
    page.wait_for_function("t => document.querySelector('#key-e').textContent === t", arg=T["e_key_role_agency"][lang])
    assert stored_key_state(page)["session"] == []


def test_sign_out_forgets_the_key(stack, page):
    key = stack.demo["keys"]["businesses"][stack.demo["outlets"][0]["business_bin"]]
    open_page(page, stack, "/business.html", "ru")
    sign_in(page, key)
    assert stored_key_state(page)["session"] == ["qalqan.key.business"]
    page.reload()
    page.wait_for_selector("#queue:not([hidden])")  # the same tab keeps the key across a reload
    page.click("#signout")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.locator("#ok").inner_text() == T["signed_out"]["ru"]
    assert stored_key_state(page)["session"] == [] and page.locator("#list li").count() == 0
    page.reload()
    page.wait_for_selector("#signin:not([hidden])")


def test_check_for_new_merges_a_new_complaint_and_a_change(stack, page):
    outlet = stack.demo["outlets"][0]
    first = submit(stack, outlet)
    key = stack.demo["keys"]["agencies"][first["agency"]["id"]]
    wait_listed(stack, "/agency/complaints", key, first["id"])
    open_page(page, stack, "/agency.html", "ru")
    sign_in(page, key)
    while page.locator("#more").is_visible():  # to the end of the feed, where polling starts
        page.click("#more")
        page.wait_for_function("() => !document.querySelector('#more').disabled")
    before = page.locator("#list li").count()

    second = submit(stack, outlet)
    status, _ = stack.json("POST", f"/agency/complaints/{first['id']}/status", {"status": "in_review"}, auth(key))
    assert status == 200
    wait_listed(stack, "/agency/complaints", key, second["id"])
    time.sleep(3.5)  # the take above must be past the settle lag too
    page.click("#check")
    page.wait_for_function("() => /\\d/.test(document.querySelector('#polled').textContent)")

    assert page.locator("#list li").count() == before + 1  # the new one added, the changed one not repeated
    new = page.locator("#list li", has=page.locator(f'a[data-id="{second["id"]}"]'))
    changed = page.locator("#list li", has=page.locator(f'a[data-id="{first["id"]}"]'))
    assert new.locator(".mark").inner_text() == T["m_new"]["ru"]
    assert changed.locator(".mark").inner_text() == T["m_changed"]["ru"]
    in_review = case_api(stack, "agency", key, first["id"])["status_label"]["ru"]
    assert changed.locator(".st").inner_text() == in_review
    assert T["checked_n"]["ru"].replace("{n}", "2") in page.locator("#polled").inner_text()


def test_a_case_changed_elsewhere_gets_409_the_servers_words_and_is_reloaded(stack, page, console):
    console.allow(r"status of 409")
    outlet = stack.demo["outlets"][0]
    created = submit(stack, outlet)
    cid, key = created["id"], stack.demo["keys"]["agencies"][created["agency"]["id"]]
    open_page(page, stack, f"/agency.html#case={cid}", "kk")
    page.fill("#key", key)
    page.click("#signin button")
    page.wait_for_selector("#case_h")  # a deep link opens the case right after signing in
    assert page.locator("#take_f").is_visible()

    # Another agent closes the case while this page still offers "take".
    status, _ = stack.json("POST", f"/agency/complaints/{cid}/status", {"status": "rejected", "reason": "Дубликат"},
                           auth(key))
    assert status == 200
    page.click("#take")
    page.wait_for_selector("#case_msg:not(:empty)")
    status, err = stack.json("POST", f"/agency/complaints/{cid}/status", {"status": "in_review"},
                             {**auth(key), "Accept-Language": "kk"})
    assert status == 409 and err["error"]["code"] == "invalid_transition"
    assert err["error"]["message"] in page.locator("#case_msg").inner_text()
    assert T["conflict"]["kk"] in page.locator("#case_msg").inner_text()
    page.wait_for_selector("#no_actions:not([hidden])")  # reloaded: a closed case offers nothing
    rejected = case_api(stack, "agency", key, cid)["status_label"]["kk"]
    assert badge(page) == rejected and "Дубликат" in page.locator("#facts").inner_text()


def test_reroute_sends_the_case_to_another_agency(stack, page, console):
    outlet = stack.demo["outlets"][0]
    created = submit(stack, outlet)
    cid, here = created["id"], created["agency"]["id"]
    key = stack.demo["keys"]["agencies"][here]
    there = "ktrm" if here != "ktrm" else "kzpp"
    wait_listed(stack, "/agency/complaints", key, cid)
    open_page(page, stack, "/agency.html", "ru")
    sign_in(page, key)
    open_from_list(page, cid)
    page.click("#reroute_d summary")
    options = page.locator("#agency_id option").evaluate_all("os => os.map(o => o.value)")
    assert here not in options and there in options  # the case's own agency is not a target
    page.select_option("#agency_id", there)
    page.fill("#reroute_reason", "Весы на кассе недовешивают: это метрология.")
    page.click("#reroute")
    page.wait_for_selector("#queue:not([hidden])")
    status, moved = stack.json("GET", f"/agency/complaints/{cid}", headers=auth(stack.demo["keys"]["agencies"][there]))
    assert status == 200 and moved["agency"]["id"] == there
    assert page.locator("#ok").inner_text() == T["rerouted_ok"]["ru"].replace("{n}", moved["agency"]["name"]["ru"])
    assert page.locator(f'#list a[data-id="{cid}"]').count() == 0
    status, _ = stack.json("GET", f"/agency/complaints/{cid}", headers=auth(key))
    assert status == 404  # no longer this agency's case


def test_an_overdue_case_is_highlighted_with_its_flag(stack, page):
    outlet = stack.demo["outlets"][0]
    created = submit(stack, outlet)
    cid, key = created["id"], stack.demo["keys"]["agencies"][created["agency"]["id"]]
    due = case_api(stack, "agency", key, cid)["business_due_at"]
    # The sweep for the day after the seller's due date (due dates end at local midnight, UTC+5).
    as_of = (datetime.fromisoformat(due.replace("Z", "+00:00")) + timedelta(hours=5, days=1)).date().isoformat()
    status, report = stack.json("POST", "/admin/jobs/deadlines", {"as_of": as_of}, auth(stack.demo["keys"]["admin"]))
    assert status == 200 and report["business_overdue"] >= 1, report
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # listed again once the flag's change is past the settle lag
        status, queue = stack.json("GET", "/agency/complaints?limit=100", headers=auth(key))
        row = next((i for i in queue["items"] if i["id"] == cid), None)
        if row and row["flags"]["business_overdue"]:
            break
        time.sleep(0.5)
    assert row and row["overdue"] and not row["flags"]["agency_overdue"]

    open_page(page, stack, "/agency.html", "ru")
    sign_in(page, key)
    item = page.locator("#list li", has=page.locator(f'a[data-id="{cid}"]'))
    assert "late" in item.get_attribute("class").split()
    assert item.locator(".chip.bad").all_inner_texts() == [T["flag_business_overdue"]["ru"]]
    open_from_list(page, cid)
    late = page.locator("#facts .kv .late")
    assert late.count() == 1 and T["due_business"]["ru"] in late.inner_text() and T["overdue"]["ru"] in late.inner_text()
    shot(page, "console-agency-overdue-ru")
