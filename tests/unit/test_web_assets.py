"""Static consumer pages in web/: page weight, translations, labels, no third-party URLs, API config, the
Kazakh text in the HTML (so the first paint needs no script), and the web words against docs/glossary.md.

Plain-Python checks (no browser), so they run in CI with only Python 3.11.
"""
from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PAGES = ("index.html", "track.html", "mine.html", "outlet.html", "chain.html")
WIRE_BUDGET = 60 * 1024  # bytes on the wire (gzip, as the server and CloudFront send them) of a page and its assets
# Raw bytes the phone parses; the first-paint Kazakh text and the tracking page sit in it. It was 72 KB, with the
# form at 73.7 KB. The installable app made room first: the result panel, its texts and all that follows a send
# (−4.6 KB) now load only after a send (app.js, app-i18n.js; AFTER_SEND below), the scanner only on a press. What
# it still adds to the first load: the manifest Chromium fetches with the page (1.2 KB), the publication consent
# and the outlet's record and Telegram links (contract items 1–3), the scan button, and in common.js the service
# worker's registration and the on-demand loader; net +2 KB. Hence 76 KB.
PARSE_BUDGET = 76 * 1024
# What the form loads only after a send (the result, the offline queue) or on the first press of "scan": not part
# of its first load, but bounded too, so "on demand" cannot become a place to hide weight.
AFTER_SEND = ("app-i18n.js", "app.js")
SCANNER = ("scan.js", "vendor/jsqr-1.4.0.min.js")
AFTER_SEND_WIRE_BUDGET = 8 * 1024
SCANNER_WIRE_BUDGET = 52 * 1024  # jsQR minified is ~45 KB gzip; phones with BarcodeDetector never fetch it
# Browsers fetch these only when a page is added to the home screen (iOS), not on load.
NOT_ON_LOAD = {"icons/apple-touch-icon.png"}
DEFAULT_LANG = "kk"  # the language of the text in the HTML: <html lang="kk">
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
        self.texts: list[tuple[str, str, str]] = []  # (kind, key, what the HTML has): data-t text, data-ph, data-al
        self.scripts: list[dict] = []
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.body: dict = {}
        self.html_lang = ""
        self.title = ""
        self._open: list[list] = []  # data-t elements being read: [key, tag, text so far]
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        for attr in ("data-t", "data-ph", "data-al", "data-title", "data-desc"):
            if a.get(attr):
                self.i18n_keys.add(a[attr])
        if a.get("data-t"):
            self._open.append([a["data-t"], tag, ""])
        if a.get("data-ph"):
            self.texts.append(("placeholder", a["data-ph"], a.get("placeholder", "")))
        if a.get("data-al"):
            self.texts.append(("aria-label", a["data-al"], a.get("aria-label", "")))
        if tag == "html":
            self.html_lang = a.get("lang", "")
        if tag == "body":
            self.body = a
        if tag == "title":
            self._in_title = True
        if tag == "meta" and a.get("name"):
            self.meta[a["name"]] = a.get("content", "")
        if tag == "script" and a.get("src"):
            self.scripts.append(a)
            self.assets.append(a["src"])
        if tag == "link" and a.get("href") and not a["href"].startswith("data:"):
            self.assets.append(a["href"])
            self.links[a.get("rel", "")] = a["href"]
        if tag in ("img", "source", "iframe") and a.get("src"):
            self.assets.append(a["src"])
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **a})
        if tag == "label" and a.get("for"):
            self.label_for.append(a["for"])

    def handle_data(self, data):
        if self._open:
            self._open[-1][2] += data
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self._open and self._open[-1][1] == tag:
            key, _, text = self._open.pop()
            self.texts.append(("text", key, text))


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed((WEB / page).read_text(encoding="utf-8"))
    return parser


# i18n.js holds the words both pages (or the form alone) use; a page's own extra words are in <page>-i18n.js,
# loaded after it, so one page does not parse the other's texts. app-i18n.js: the words of what follows a send
# (result, offline queue, scanner), which the form loads only then, and the tracking and "my complaints" pages
# load at once (they show complaints already sent).
PAGE_I18N = {"index.html": (), "track.html": ("app-i18n.js", "track-i18n.js"),
             "mine.html": ("app-i18n.js", "mine-i18n.js"),
             "outlet.html": ("public-i18n.js",), "chain.html": ("public-i18n.js",)}
ON_DEMAND_I18N = {"index.html": ("app-i18n.js",)}


def _dictionary_file(name: str, prefix: str, suffix: str) -> dict:
    """Each dictionary file is `prefix {JSON object literal} suffix`, so Python can read it."""
    source = (WEB / name).read_text(encoding="utf-8").strip()
    if source.startswith("/*"):
        source = source[source.index("*/") + 2:].strip()
    assert source.startswith(prefix) and source.endswith(suffix), f"{name} must be `{prefix}{{...}}{suffix}`"
    return json.loads(source[len(prefix):-len(suffix)])


def load_i18n(page: str | None = None, on_demand: bool = False) -> dict:
    """The words `page` loads (i18n.js and its own file; with on_demand, also what it loads later), or every
    page's words when no page is named."""
    words = _dictionary_file("i18n.js", "window.I18N = ", ";")
    extra = (PAGE_I18N[page] + (ON_DEMAND_I18N.get(page, ()) if on_demand else ()) if page
             else sorted({f for files in PAGE_I18N.values() for f in files}))
    for name in extra:
        more = _dictionary_file(name, "Object.assign(window.I18N, ", ");")
        assert not set(more) & set(words), f"{name} repeats keys of i18n.js: {sorted(set(more) & set(words))}"
        words.update(more)
    return words


# (1) page weight ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_page_and_all_its_assets_exist_and_stay_within_budget(page):
    parsed = parse(page)
    # The pages need these; an empty list would make the budget check meaningless.
    assert {"config.js", "i18n.js", "common.js", "app.css"} <= set(parsed.assets)
    missing = [a for a in parsed.assets if not (WEB / a).is_file()]
    assert not missing, f"{page} references missing files: {missing}"
    absolute = [a for a in parsed.assets if a.startswith("/") or ":" in a]
    assert not absolute, f"{page} must use relative asset paths so it works under any base URL: {absolute}"
    raw = {name: (WEB / name).read_bytes() for name in [page, *parsed.assets] if name not in NOT_ON_LOAD}
    wire = {name: len(gzip.compress(body, compresslevel=6)) for name, body in raw.items()}
    assert sum(wire.values()) < WIRE_BUDGET, f"{page}: {sum(wire.values())} bytes on the wire (budget {WIRE_BUDGET}): {wire}"
    parsed_bytes = sum(len(b) for b in raw.values())
    assert parsed_bytes < PARSE_BUDGET, f"{page}: {parsed_bytes} raw bytes (budget {PARSE_BUDGET})"


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
    known = set(load_i18n(page))
    assert not used - known, f"{page} uses unknown keys: {sorted(used - known)}"


SCRIPTS = ("common.js", "form.js", "track.js", "app.js", "scan.js", "mine.js", "public-page.js", "outlet.js", "chain.js")
# (page, with what it loads on demand): the words each script finds. common.js: every page; app.js and scan.js:
# the form loads them with app-i18n.js.
SCRIPT_PAGE = {"form.js": ("index.html", False), "track.js": ("track.html", False), "common.js": ("index.html", False),
               "app.js": ("index.html", True), "scan.js": ("index.html", True), "mine.js": ("mine.html", False),
               "public-page.js": ("outlet.html", False), "outlet.js": ("outlet.html", False),
               "chain.js": ("chain.html", False)}
# Literals that are dictionary keys wherever they appear in the scripts (element ids never take these prefixes).
KEY_LITERAL = r'"((?:e|fb|offer|dec|f|kind|due|desc|title)_[a-z0-9_]+|not_found|region_ph|fix|retry|loading|checking)"'


def keys_in_scripts(scripts=SCRIPTS) -> set[str]:
    used = set()
    for script in scripts:
        source = (WEB / script).read_text(encoding="utf-8")
        for args in re.findall(r"\bt\(([^()]*)\)", source):  # t("key"), t(x ? "a" : "b", n)
            used |= set(re.findall(r'"([a-z0-9_]+)"', args))
        used |= set(re.findall(r'\{ k: "([a-z0-9_]+)"', source))  # { k: "key" } messages
        used |= set(re.findall(KEY_LITERAL, source))  # field → key tables, offers, decisions, flags, notices
    return used


def test_every_key_the_scripts_use_is_in_the_dictionary():
    used = keys_in_scripts()
    assert len(used) > 60
    unknown = used - set(load_i18n())
    assert not unknown, f"scripts use unknown keys: {sorted(unknown)}"
    for script, (page, later) in SCRIPT_PAGE.items():  # and each script finds its words in what its page loads
        missing = keys_in_scripts((script,)) - set(load_i18n(page, later))
        assert not missing, f"{script} uses keys {page} does not load: {sorted(missing)}"


def test_every_dictionary_key_is_used_by_a_page_or_a_script():
    # A key nobody uses is a text nobody maintains: it drifts from the glossary and still costs bytes.
    used = keys_in_scripts().union(*(parse(page).i18n_keys for page in PAGES))
    unused = set(load_i18n()) - used
    assert not unused, f"dictionary keys no page or script uses: {sorted(unused)}"


# (2b) first paint in Kazakh, no layout shift -----------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_the_html_carries_the_kazakh_text_the_script_would_set(page):
    # Text arriving by script pushed the form down (layout shift 0.78). The HTML now holds the default
    # language's words, so the first paint is complete and a Kazakh reader's page never changes.
    parsed, dictionary = parse(page), load_i18n()
    assert parsed.html_lang == DEFAULT_LANG
    assert len(parsed.texts) > (6 if page == "mine.html" else 8)  # the list of complaints is all data
    wrong = [(kind, key, html) for kind, key, html in parsed.texts if html != dictionary[key][DEFAULT_LANG]]
    assert not wrong, f"{page}: HTML text differs from i18n.js {DEFAULT_LANG} (kind, key, html): {wrong}"
    assert parsed.title == dictionary[parsed.body["data-title"]][DEFAULT_LANG]
    assert parsed.meta.get("description") == dictionary[parsed.body["data-desc"]][DEFAULT_LANG]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_meta_description_in_every_language(page):
    parsed, dictionary = parse(page), load_i18n()
    key = parsed.body.get("data-desc")
    assert key in dictionary, f"{page}: <body data-desc> must name the description's key"
    for lang, text in dictionary[key].items():
        assert 50 <= len(text) <= 170, f"{page}: {lang} description should be 50–170 characters, is {len(text)}"


@pytest.mark.parametrize("page", PAGES)
def test_scripts_are_deferred_and_block_rendering_until_the_language_is_applied(page):
    # defer: the HTML parses without waiting; blocking="render": Chromium paints once, in the chosen language.
    scripts = parse(page).scripts
    assert len(scripts) >= 4
    bad = [s["src"] for s in scripts if "defer" not in s or s.get("blocking") != "render"]
    assert not bad, f"{page}: scripts without defer and blocking=render: {bad}"


# (2c) the web words are the glossary's -----------------------------------------------------------------------

def glossary_table(heading: str) -> dict[str, dict[str, str]]:
    """Rows of the first table under `heading` in docs/glossary.md: {first cell: {kk, ru, en}}."""
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    start = text.index(heading)
    rows = {}
    for line in text[start:].splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("", "offer", "decision", "flag", "status") and not set(cells[0]) <= set("-"):
            rows[cells[0]] = {"kk": cells[1], "ru": cells[2], "en": cells[3]}
    assert rows, f"no table under {heading!r} in docs/glossary.md"
    return rows


@pytest.mark.parametrize("heading,prefix", [("Offers of the seller", "offer_"), ("Decisions of the agency", "dec_"),
                                            ("Flags (not statuses", "f_")])
def test_offers_decisions_and_flags_use_the_glossary_words(heading, prefix):
    dictionary = load_i18n()
    table = glossary_table(heading)
    mine = {k[len(prefix):]: v for k, v in dictionary.items() if k.startswith(prefix)}
    assert set(mine) == set(table), f"{prefix}* keys {sorted(mine)} vs glossary {sorted(table)}"
    differ = {k: (mine[k], table[k]) for k in table if mine[k] != table[k]}
    assert not differ, f"web words differ from docs/glossary.md: {differ}"


def test_the_contact_note_states_the_rule_the_server_applies():
    # A complaint is a formal complaint only with a name AND a phone or email (Contact.identifies_person);
    # the note used to promise that any contact would do. Each language must name both conditions.
    note = load_i18n()["contact_note"]
    assert "фамилию и имя" in note["ru"] and "телефон или электронную почту" in note["ru"]
    assert "аты-жөніңізді" in note["kk"] and "телефоныңызды немесе электрондық поштаңызды" in note["kk"]
    assert "full name" in note["en"] and "phone number or email" in note["en"]
    labels = load_i18n()["cname_label"]
    assert (labels["kk"], labels["ru"]) == ("Аты-жөніңіз", "Фамилия и имя")


# (3) labels -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ("index.html", "track.html"))  # mine.html has no form: its buttons are the list's
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


# (6) the installable app: manifest, icons, service worker, what loads on demand ----------------------------------

def manifest() -> dict:
    return json.loads((WEB / "manifest.webmanifest").read_text(encoding="utf-8"))


def test_the_manifest_has_what_chromium_and_safari_need_to_install_the_app():
    m = manifest()
    assert m["name"] and m["short_name"] == "Qalqan" and len(m["short_name"]) <= 12
    assert m["display"] == "standalone" and m["start_url"] == "./" and m["scope"] == "./" and m["id"] == "./"
    assert re.fullmatch(r"#[0-9a-f]{6}", m["theme_color"]) and re.fullmatch(r"#[0-9a-f]{6}", m["background_color"])
    by_purpose = {(i["sizes"], i.get("purpose", "any")) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= by_purpose
    for shortcut in m.get("shortcuts", []):
        assert (WEB / shortcut["url"]).is_file(), shortcut


def test_every_icon_is_a_png_of_its_stated_size_and_what_tools_app_icons_draws():
    from PIL import Image, ImageChops

    from tools.app_icons import FILES, draw

    declared = {i["src"]: i["sizes"] for i in manifest()["icons"]}
    for name, (size, kind) in FILES.items():
        with Image.open(WEB / "icons" / name) as img:
            assert img.format == "PNG" and img.size == (size, size), name
            if f"icons/{name}" in declared:
                assert declared[f"icons/{name}"] == f"{size}x{size}"
            # Drawn anew, the same pixels: the committed icons are not edited by hand away from the mark.
            assert ImageChops.difference(img.convert("RGBA"), draw(size, kind)).getbbox() is None, name
        if kind == "maskable":  # the launcher may cut everything outside the central 80 % circle: no shield there
            img = draw(size, kind)
            yellow = [(x, y) for x in range(0, size, 4) for y in range(0, size, 4) if img.getpixel((x, y))[0] > 200]
            assert yellow and all((x - size / 2) ** 2 + (y - size / 2) ** 2 <= (0.4 * size) ** 2 for x, y in yellow)


@pytest.mark.parametrize("page", PAGES)
def test_every_consumer_page_links_the_manifest_and_the_ios_icon(page):
    links = parse(page).links
    assert links.get("manifest") == "manifest.webmanifest"
    assert links.get("apple-touch-icon") == "icons/apple-touch-icon.png"
    assert parse(page).meta.get("theme-color") == manifest()["theme_color"]


def test_the_service_worker_stores_the_offline_shell_and_never_an_api_answer_with_a_token():
    sw = (WEB / "sw.js").read_text(encoding="utf-8")
    shell = json.loads("[" + re.search(r"const SHELL = \[(.*?)\];", sw, re.S).group(1) + "]")
    missing = [f for f in shell if f != "./" and not (WEB / f).is_file()]
    assert not missing, f"the service worker would fail to install: {missing}"
    # The form and everything it loads, and what a send loads, so a complaint can be written and kept offline.
    need = {"index.html", *parse("index.html").assets, *AFTER_SEND, "mine.html", *parse("mine.html").assets}
    assert need - NOT_ON_LOAD <= set(shell), f"not kept for offline use: {sorted(need - NOT_ON_LOAD - set(shell))}"
    assert "push" in sw and "notificationclick" in sw
    assert "X-Tracking-Token" not in sw and "/complaints" not in sw  # tracking answers are never cached


def test_the_form_loads_the_scanner_and_what_follows_a_send_only_on_demand():
    first = set(parse("index.html").assets)
    assert not first & {*AFTER_SEND, *SCANNER}
    form = (WEB / "form.js").read_text(encoding="utf-8")
    assert 'Q.load("app.js")' in form and 'Q.load("scan.js")' in form
    assert f'"{SCANNER[1]}"' in (WEB / "scan.js").read_text(encoding="utf-8")
    for files, budget in ((AFTER_SEND, AFTER_SEND_WIRE_BUDGET), (SCANNER, SCANNER_WIRE_BUDGET)):
        wire = sum(len(gzip.compress((WEB / f).read_bytes(), compresslevel=6)) for f in files)
        assert wire < budget, f"{files}: {wire} bytes on the wire (budget {budget})"
