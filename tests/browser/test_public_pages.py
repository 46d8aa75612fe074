"""The public record pages in Chromium against the real local stack: outlet.html (what a shopper sees after
scanning a sticker) and chain.html (the seller across its outlets), in kk, ru and en.

They run on a stack of their own: the complaints seeded here move the counters these pages show, and must not
show up in the other tests' queues. Expected words come from web/i18n.js and web/public-i18n.js by key, and
figures from the API's own answer, so the test checks that the page shows what the API says, in the reader's
language.
"""
from __future__ import annotations

import time
import uuid

import pytest

from tests.browser.conftest import open_page, running_stack, shot
from tests.unit.test_web_assets import load_i18n

T = load_i18n("outlet.html")
TEXT = "Продали просроченный йогурт, чек не выдали, на замечание ответили грубо."


def tr(key: str, lang: str, n=None) -> str:
    text = T[key][lang]
    return text if n is None else text.replace("{n}", str(n))


@pytest.fixture(scope="module")
def pstack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("public-stack")) as s:
        yield s


def _public(stack, path):
    status, body = stack.json("GET", path)
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def seeded(pstack):
    """Three complaints on the first grocery outlet, one answered by the seller, counted by the pump."""
    outlet = next(o for o in pstack.demo["outlets"] if o["sector"] == "grocery")
    made = []
    for _ in range(3):
        status, answer = pstack.json("POST", "/complaints", {"outlet_code": outlet["code"], "text": TEXT,
                                                             "language": "ru", "channel": "qr"},
                                     {"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, answer
        made.append(answer)
    key = pstack.demo["keys"]["businesses"][outlet["business_bin"]]
    status, answer = pstack.json("POST", f"/business/complaints/{made[0]['id']}/response",
                                 {"message": "Деньги вернём.", "offer": "refund"}, {"Authorization": f"Bearer {key}"})
    assert status == 200, answer
    deadline = time.monotonic() + 20
    while True:  # the stream pump hands the records to the reactions within about a second
        page = _public(pstack, f"/public/outlets/{outlet['code']}")
        if page["rating"]["count"] == 3 and page["sector_average"]["complaints"] >= 3:
            return outlet, page
        assert time.monotonic() < deadline, f"the counters did not move: {page}"
        time.sleep(0.25)


def _cells(page, row: int) -> list[str]:
    return [c.strip() for c in page.locator("#r_table tbody tr").nth(row).locator("th, td").all_inner_texts()]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_outlet_page_shows_why_the_rating_is_withheld_and_the_sector_beside_it(page, pstack, seeded, lang):
    outlet, api = seeded
    open_page(page, pstack, f"/outlet.html?code={outlet['code']}", lang)
    page.wait_for_selector("#record:not([hidden])")
    assert page.locator("h1").inner_text() == outlet["name"]
    assert page.locator("#o_seller").inner_text() == outlet["business_name"]
    assert page.locator("#o_sector").inner_text() == api["outlet"]["sector"]["name"][lang]
    # the rating is not published, and the page says why, in the reader's language, with the count behind it
    box = page.locator("#r_box").inner_text()
    assert tr("pub_not_published", lang) in box and api["rating"]["reason_text"][lang] in box
    assert tr("pub_based", lang, 3) in box
    head = [c.strip() for c in page.locator("#r_table thead").all_inner_texts()[0].split("\t") if c.strip()]
    assert head[0] == tr("pub_this_outlet", lang) and head[1].startswith(tr("pub_sector_avg", lang))
    assert _cells(page, 0)[0] == tr("pub_answered", lang)
    assert _cells(page, 2) == [tr("pub_complaints", lang), "3", str(api["sector_average"]["complaints"])]
    # below the minimum count the share is withheld, not shown as a percentage
    assert tr("pub_withheld", lang) in _cells(page, 0)[1] and "%" not in _cells(page, 0)[1]
    assert page.locator("#o_complain").get_attribute("href") == f"./?o={outlet['code']}&ch=web"
    assert page.locator("#o_chain").get_attribute("href") == f"chain.html?bin={outlet['business_bin']}"
    assert page.title() == f"{outlet['name']} — {tr('title_outlet', lang)}"
    shot(page, f"outlet-{lang}")


def test_switching_language_rewords_the_page_without_reloading(page, pstack, seeded):
    outlet, api = seeded
    open_page(page, pstack, f"/outlet.html?code={outlet['code']}", "kk")
    page.wait_for_selector("#record:not([hidden])")
    page.click("button[data-lang=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert api["rating"]["reason_text"]["en"] in page.locator("#r_box").inner_text()
    assert page.locator("#rating_h").inner_text() == tr("pub_rating_h", "en")
    assert _cells(page, 1)[0] == tr("pub_settled", "en")


def test_chain_page_lists_the_sellers_outlets_and_links_each(page, pstack, seeded):
    outlet, _ = seeded
    bin = outlet["business_bin"]
    api = _public(pstack, f"/public/businesses/{bin}?limit=20")
    open_page(page, pstack, f"/chain.html?bin={bin}", "ru")
    page.wait_for_selector("#outlets:not([hidden])")
    assert page.locator("h1").inner_text() == api["business"]["name"]
    items = page.locator("#o_list li")
    mine = [o for o in pstack.demo["outlets"] if o["business_bin"] == bin]
    assert items.count() == len(mine) == len(api["outlets"])
    assert tr("pub_based", "ru", api["rating"]["count"]) in page.locator("#r_box").inner_text()
    assert page.locator("#more").is_hidden()  # one page holds them all
    assert page.locator("#s_table tbody tr").count() == len(api["sector_averages"])
    page.locator(f"#o_list li[data-code='{outlet['code']}'] a").click()
    page.wait_for_selector("#record:not([hidden])")
    assert page.locator("h1").inner_text() == outlet["name"]


def test_a_sole_proprietors_outlet_does_not_link_its_iin(page, pstack):
    taxi = next(o for o in pstack.demo["outlets"] if o["sector"] == "taxi")
    open_page(page, pstack, f"/outlet.html?code={taxi['code']}", "ru")
    page.wait_for_selector("#record:not([hidden])")
    assert page.locator("#o_chain").is_hidden()
    assert taxi["business_bin"] not in page.content()


@pytest.mark.parametrize("path,key", [
    ("/outlet.html", "pub_e_code"),
    ("/outlet.html?code=%3Cscript%3E", "pub_e_code"),
    ("/chain.html?bin=12345", "pub_e_bin"),
])
def test_a_missing_or_malformed_link_says_what_is_wrong(page, pstack, path, key):
    open_page(page, pstack, path, "kk")
    page.wait_for_function("() => document.getElementById('msg').textContent.length > 0")
    assert page.locator("#msg").inner_text() == tr(key, "kk")
    assert page.locator("#rating").is_hidden()


def test_an_unknown_outlet_says_so(page, console, pstack, seeded):
    outlet, _ = seeded
    # another outlet's code with its last character changed fails the checksum: a typo, said as such
    code = outlet["code"][:-1] + ("2" if outlet["code"][-1] != "2" else "3")
    console.allow(r"status of 400|status of 404")  # the API's answer, shown to the reader as words
    open_page(page, pstack, f"/outlet.html?code={code}", "ru")
    page.wait_for_function("() => document.getElementById('msg').textContent.length > 0")
    assert page.locator("#msg").inner_text() in (tr("pub_e_code", "ru"), tr("pub_e_outlet", "ru"))
