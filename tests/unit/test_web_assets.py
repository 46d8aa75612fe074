"""Static consumer pages in web/: page weight, translations, labels, no third-party URLs, API config.

Plain-Python checks (no browser), so they run in CI with only Python 3.11.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
PAGES = ("index.html", "track.html")
PAGE_BUDGET = 60 * 1024  # raw bytes of a page plus everything it loads
LANGS = {"kk", "ru", "en"}
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


class _Page(HTMLParser):
    """Collects what the checks need from one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[str] = []
        self.controls: list[dict] = []
        self.label_for: list[str] = []
        self.ids: list[str] = []
        self.i18n_keys: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        for attr in ("data-t", "data-ph", "data-al", "data-title"):
            if a.get(attr):
                self.i18n_keys.add(a[attr])
        if tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        if tag == "link" and a.get("href") and not a["href"].startswith("data:"):
            self.assets.append(a["href"])
        if tag in ("img", "source", "iframe") and a.get("src"):
            self.assets.append(a["src"])
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **a})
        if tag == "label" and a.get("for"):
            self.label_for.append(a["for"])


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed((WEB / page).read_text(encoding="utf-8"))
    return parser


def load_i18n() -> dict:
    """i18n.js is `window.I18N = {…};` with a JSON object literal, so Python can read it."""
    source = (WEB / "i18n.js").read_text(encoding="utf-8").strip()
    prefix = "window.I18N = "
    assert source.startswith(prefix) and source.endswith(";"), "i18n.js must be `window.I18N = {...};`"
    return json.loads(source[len(prefix):-1])


# (1) page weight ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_page_and_all_its_assets_exist_and_stay_under_60_kb(page):
    parsed = parse(page)
    # The pages need these; an empty list would make the budget check meaningless.
    assert {"config.js", "i18n.js", "common.js", "app.css"} <= set(parsed.assets)
    missing = [a for a in parsed.assets if not (WEB / a).is_file()]
    assert not missing, f"{page} references missing files: {missing}"
    absolute = [a for a in parsed.assets if a.startswith("/") or ":" in a]
    assert not absolute, f"{page} must use relative asset paths so it works under any base URL: {absolute}"
    sizes = {name: (WEB / name).stat().st_size for name in [page, *parsed.assets]}
    total = sum(sizes.values())
    assert total < PAGE_BUDGET, f"{page} weighs {total} bytes (budget {PAGE_BUDGET}): {sizes}"


# (2) translations -------------------------------------------------------------------------------------------

def test_every_i18n_key_has_non_empty_kk_ru_and_en():
    dictionary = load_i18n()
    assert len(dictionary) > 50
    bad = {
        key: entry for key, entry in dictionary.items()
        if not isinstance(entry, dict) or set(entry) != LANGS
        or any(not isinstance(v, str) or not v.strip() for v in entry.values())
    }
    assert not bad, f"keys without exactly kk, ru and en non-empty strings: {sorted(bad)}"


def test_kazakh_strings_are_kazakh_not_copies_of_russian():
    dictionary = load_i18n()
    same = sorted(k for k, e in dictionary.items() if e["kk"] == e["ru"])
    assert len(same) <= 3, f"kk is identical to ru for {same}"  # only words like "Телефон" may coincide
    with_kazakh_letters = sum(1 for e in dictionary.values() if KAZAKH_LETTERS & set(e["kk"]))
    assert with_kazakh_letters >= len(dictionary) // 2


@pytest.mark.parametrize("page", PAGES)
def test_every_key_a_page_uses_is_in_the_dictionary(page):
    used = parse(page).i18n_keys
    assert used, f"{page} has no translated text"
    assert not used - set(load_i18n()), f"{page} uses unknown keys: {sorted(used - set(load_i18n()))}"


def test_every_key_the_scripts_use_is_in_the_dictionary():
    dictionary = load_i18n()
    used = set()
    for script in ("common.js", "form.js", "track.js"):
        source = (WEB / script).read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\("([a-z0-9_]+)"', source))  # t("key")
        used |= set(re.findall(r'\{ k: "([a-z0-9_]+)" \}', source))  # { k: "key" } messages
        used |= set(re.findall(r'[a-z_]+: "(e_[a-z0-9_]+|region_ph)"', source))  # field → key tables
    assert len(used) > 20
    assert not used - set(dictionary), f"scripts use unknown keys: {sorted(used - set(dictionary))}"


# (3) labels -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_every_form_control_has_an_id_and_a_label_for_it(page):
    parsed = parse(page)
    assert parsed.controls, f"{page} has no form controls"
    without_id = [c for c in parsed.controls if not c.get("id")]
    assert not without_id, f"controls without id in {page}: {without_id}"
    unlabelled = [c["id"] for c in parsed.controls if c["id"] not in parsed.label_for]
    assert not unlabelled, f"controls without <label for> in {page}: {unlabelled}"
    duplicates = {i for i in parsed.ids if parsed.ids.count(i) > 1}
    assert not duplicates, f"duplicate ids in {page}: {duplicates}"


def test_the_form_has_every_control_the_api_fields_map_to():
    # form.js maps an error's dotted path ("contact.phone") to the element id ("contact_phone").
    ids = {c["id"] for c in parse("index.html").controls}
    expected = {"outlet_code", "business_bin", "business_name", "business_region", "category", "text",
                "incident_at", "contact_name", "contact_phone", "contact_email", "share_contact_with_business"}
    assert expected <= ids, f"missing controls: {sorted(expected - ids)}"
    for field in expected:
        assert f'id="{field}-e"' in (WEB / "index.html").read_text(encoding="utf-8"), f"no error slot for {field}"


# (4) no third-party URLs ------------------------------------------------------------------------------------

def test_no_web_asset_contains_an_external_url():
    files = [p for p in WEB.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"index.html", "track.html", "app.css", "i18n.js", "form.js", "track.js"}
    offenders = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = re.findall(r"https?://\S*|(?:src|href)\s*=\s*[\"']//\S*|@import|url\(\s*[\"']?(?:https?:)?//", text, re.I)
        if hits:
            offenders[path.name] = hits
    assert not offenders, f"external references (CDNs, fonts, trackers) are not allowed: {offenders}"


# (5) API base URL -------------------------------------------------------------------------------------------

def test_config_js_sets_the_api_base_url_and_defaults_to_same_origin():
    source = (WEB / "config.js").read_text(encoding="utf-8")
    match = re.fullmatch(r'\s*window\.QALQAN_API\s*=\s*"([^"\\]*)";\s*', source)
    assert match, f"config.js must be a single `window.QALQAN_API = \"...\";` line, got {source!r}"
    assert match.group(1) == "", "the committed config.js must be empty (same origin); deployments rewrite it"
    for page in PAGES:
        assets = parse(page).assets
        assert assets.index("config.js") < assets.index("common.js"), f"{page}: config.js must load before the API is used"
