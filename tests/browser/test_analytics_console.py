"""The analytics console (web/analytics.html) in Chromium, against a local stack seeded with demo history.

The stack is this module's own (`python -m local --history 600`): the session's shared stack starts without
history, and the console needs some to show. The numbers on the page are checked against the API's own
answers for the same view, so a page that drew the wrong region or the wrong figure fails.

Measured here and printed (run with -s), and written to $QALQAN_SHOTS/analytics-metrics.json: the time from
navigation to the first coloured map (the page's `qalqan:map-rendered` mark) and the console's weight on the
wire, gzip, of every same-origin file the page loaded.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import SHOTS, new_page
from tests.e2e.conftest import start_stack

HISTORY = 600
REGIONS = {"10", "11", "15", "19", "23", "27", "31", "33", "35", "39", "43", "47", "55", "59", "61", "62", "63",
           "71", "75", "79"}
WIRE_BUDGET = 160_000     # bytes, gzip: the page, its scripts and styles, the libraries and the map
MAP_BUDGET_MS = 60_000    # generous: the stack shares two cores with other test runs
TODAY = datetime.now(timezone(timedelta(hours=5))).date()
FROM, TO = (TODAY - timedelta(days=89)).isoformat(), TODAY.isoformat()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s, _ = start_stack(tmp_path_factory.mktemp("analytics-stack"), "--history", str(HISTORY), timeout=180)
    try:
        yield s
    finally:
        s.process.terminate()
        s.process.wait(timeout=20)


def api(stack, path):
    request = urllib.request.Request(stack.base + path, headers={"Authorization": f"Bearer {stack.demo['keys']['analyst']}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


@pytest.fixture
def page(browser, console, stack):
    """A desk-sized page that already holds the analyst key (sessionStorage, as after signing in)."""
    p = new_page(browser, console, locale="ru-RU")
    p.set_viewport_size({"width": 1280, "height": 900})
    p.context.set_default_timeout(120_000)
    key = json.dumps(stack.demo["keys"]["analyst"])
    p.add_init_script(f"try {{ sessionStorage.setItem('qalqan.key.analyst', {key}); }} catch (e) {{}}")
    yield p
    p.context.close()
    bad = console.unexpected()
    if bad:
        pytest.fail("the page reported errors:\n  " + "\n  ".join(bad), pytrace=False)


def open_console(page, stack, query=""):
    page.goto(f"{stack.base}/analytics.html?from={FROM}&to={TO}{query}", wait_until="load")
    page.wait_for_function("() => performance.getEntriesByName('qalqan:map-rendered').length > 0")
    page.wait_for_function("() => document.querySelectorAll('#areas tbody tr').length === 20")
    return page


def table(page, selector):
    """The rows of a table as shown: each cell's plain value (data-v) where it has one, else its text."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.dataset.v !== undefined ? c.dataset.v : c.textContent.trim()))")


def test_the_map_draws_every_region_with_the_apis_numbers_and_it_is_measured(page, stack):
    started = time.monotonic()
    open_console(page, stack)
    codes = page.eval_on_selector_all("#map path", "ps => ps.map(p => [p.dataset.code, p.getAttribute('d').length, "
                                                  "p.getAttribute('class')])")
    assert {code for code, _, _ in codes} == REGIONS and len(codes) == 20
    assert all(length > 20 for _, length, _ in codes)              # a real outline, not an empty path
    assert all(" q" in cls and "qn" not in cls for _, _, cls in codes)  # every region got a colour class
    areas = api(stack, f"/analytics/areas?from={FROM}&to={TO}")
    expected = {r["code"]: r for r in areas["rows"]}
    shown = {row[0]: row for row in table(page, "#areas")}
    assert set(shown) == REGIONS
    for code, row in shown.items():
        assert int(row[1]) == expected[code]["count"]
        assert float(row[2]) == expected[code]["per_10k"]  # every region has its population
    assert sum(expected[c]["count"] for c in REGIONS) == areas["total"] > 0
    # The numbers on hover: Astana's tooltip shows its count as the table does.
    page.hover('#map path[data-code="71"]')
    tip = page.inner_text("#tip")
    assert "Астана" in tip and f"{expected['71']['count']}" in tip.replace("\u00a0", "").replace(" ", "")
    # measured: time to the first coloured map, and the weight on the wire (gzip) of what the page loaded
    map_ms = page.evaluate("() => performance.getEntriesByName('qalqan:map-rendered')[0].startTime")
    files = page.evaluate("() => [location.href.split('?')[0], ...performance.getEntriesByType('resource')"
                          ".map(e => e.name).filter(u => u.startsWith(location.origin) && !u.includes('/analytics/')"
                          " && !u.includes('/catalog'))]")
    sizes = {}
    for url in files:
        with urllib.request.urlopen(url, timeout=30) as response:
            raw = response.read()
        sizes[urlparse(url).path] = {"bytes": len(raw), "gzip": len(gzip.compress(raw, 9))}
    wire = sum(s["gzip"] for s in sizes.values())
    assert {"/analytics.html", "/analytics.js", "/vendor/d3-geo.min.js", "/geo/kz-regions.topo.json"} <= set(sizes)
    assert wire < WIRE_BUDGET, sizes
    assert map_ms < MAP_BUDGET_MS
    SHOTS.mkdir(parents=True, exist_ok=True)
    metrics = {"first_map_render_ms": round(map_ms), "wire_gzip_bytes": wire, "files": sizes,
               "complaints_in_range": areas["total"], "test_seconds": round(time.monotonic() - started, 1)}
    (SHOTS / "analytics-metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"\nanalytics console: first map render {map_ms:.0f} ms, wire weight {wire} bytes gzip "
          f"({len(sizes)} files)")


def test_a_filter_changes_the_numbers_and_lives_in_a_shareable_url(page, stack):
    open_console(page, stack)
    before = page.inner_text("#areas_total")
    page.select_option("#f_sector", "food_service")
    page.wait_for_function("() => new URLSearchParams(location.search).get('sector') === 'food_service'")
    expected = api(stack, f"/analytics/areas?from={FROM}&to={TO}&sector=food_service")
    page.wait_for_function("t => document.getElementById('areas_total').dataset.v === String(t)", arg=expected["total"])
    assert page.inner_text("#areas_total") != before
    shown = {row[0]: int(row[1]) for row in table(page, "#areas")}
    assert shown == {r["code"]: r["count"] for r in expected["rows"]}
    breakdown = api(stack, f"/analytics/summary?from={FROM}&to={TO}&group_by=sector&sector=food_service")
    sectors = table(page, "#by_sector")
    assert [(r[0], int(r[1])) for r in sectors] == [("food_service", breakdown["totals"]["count"])]
    # the URL is the view: opened afresh, it shows the same filter and numbers
    url = page.url
    assert parse_qs(urlparse(url).query)["sector"] == ["food_service"]
    page.goto(url, wait_until="load")
    page.wait_for_function("t => document.getElementById('areas_total').dataset.v === String(t)", arg=expected["total"])
    assert page.input_value("#f_sector") == "food_service"


def test_the_csv_download_holds_exactly_the_table(page, stack):
    open_console(page, stack, "&measure=per_outlet")
    for table_id in ("areas", "by_category"):
        with page.expect_download() as info:
            page.click(f'button[data-csv="{table_id}"]')
        text = Path(info.value.path()).read_text(encoding="utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        header = page.eval_on_selector_all(f"#{table_id} thead th", "hs => hs.map(h => h.textContent.trim())")
        assert rows[0] == header
        assert rows[1:] == table(page, f"#{table_id}")
    # and the rows are in the order shown: per registered outlet, highest first
    per_outlet = [float(r[4]) for r in table(page, "#areas") if r[4] not in ("", "—")]
    assert per_outlet == sorted(per_outlet, reverse=True)


def test_astana_by_district_and_a_problem_zones_cases_without_personal_data(page, stack):
    open_console(page, stack)
    page.click('#map path[data-code="71"]')
    page.wait_for_selector("#district_s:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#districts tbody tr').length >= 5")
    districts = api(stack, f"/analytics/areas?from={FROM}&to={TO}&level=district&region=71")
    assert [int(r[1]) for r in table(page, "#districts")] == [r["count"] for r in districts["rows"]]
    assert sum(r["count"] for r in districts["rows"]) + districts["unassigned"] == districts["total"]
    page.wait_for_selector("#hotspots tbody tr button")
    page.click("#hotspots tbody tr:first-child button")
    page.wait_for_selector("#cases_box:not([hidden])")
    rows = table(page, "#cases")
    assert rows, "the first problem zone has cases in its window"
    shown = " ".join(" ".join(r) for r in rows)
    for secret in ("Демо: синтетическая", "@", "+7"):
        assert secret not in shown    # the demo texts have no consent to publication
