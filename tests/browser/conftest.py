"""Real-browser tests: Debian's Chromium driven by Playwright against the real local stack.

They run only under `make test-browser`, which installs what they need and sets QALQAN_BROWSER_TESTS=1.
`make test` collects the same `tests` tree and must stay free of the browser, so without that variable this
directory is ignored (and playwright is imported only inside the fixtures, so a fresh machine without it
can still run `make test`).

Fixtures for test modules here:
- `stack`: the local stack (`python -m local`) for the whole session, with `stack.demo` (demo.json, keys too)
  and `stack.log` (its last output lines); `running_stack(tmp_path)` starts another one for a test that
  must not share its data (a deadline sweep marks every open case);
- `browser`: one headless Chromium for the session;
- `console`: what the page logged; `console.allow(regex)` accepts an expected error (say, a 422 on purpose);
- `page`: a fresh context and page per test; any console error, uncaught exception, failed request or 5xx
  answer not allowed by `console` fails the test at teardown.
Helpers: `open_page(page, stack, path, lang)` opens a page in kk/ru/en as a returning user would have chosen
it (localStorage "qalqan.lang"); `new_page(browser, console, locale=...)` for a first visit in a locale;
`shot(page, name)` saves a screenshot under /tmp/qalqan-shots/.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, start_stack

ENABLED = os.environ.get("QALQAN_BROWSER_TESTS") == "1"
CHROMIUM = os.environ.get("QALQAN_CHROMIUM", "/usr/bin/chromium")
# Playwright's bundled browser can't be downloaded here; these flags keep Debian's Chromium quiet, offline and
# runnable as root in a container.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("QALQAN_SHOTS", "/tmp/qalqan-shots"))
LANG_KEY = "qalqan.lang"  # web/common.js keeps the consumer's language choice under this key

if not ENABLED:
    collect_ignore_glob = ["test_*.py"]

__all__ = ["Stack", "open_page", "new_page", "shot", "ConsoleLog", "running_stack"]


@contextlib.contextmanager
def running_stack(tmp_path):
    s, _ = start_stack(tmp_path)  # it keeps reading the stack's output into s.log
    try:
        yield s
    finally:
        s.process.terminate()
        s.process.wait(timeout=20)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    with running_stack(tmp_path_factory.mktemp("browser-stack")) as s:
        yield s


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
                    "(`make test-browser` does it when run as root), or set QALQAN_CHROMIUM", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` Python package is missing: run `make test-browser` "
                    "(it installs requirements-browser.txt into .venv)", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class ConsoleLog:
    """Everything a page reported that a user would call broken, minus what the test said to expect."""

    def __init__(self) -> None:
        self.entries: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def record(self, kind: str, text: str) -> None:
        self.entries.append(f"{kind}: {text}")

    def unexpected(self) -> list[str]:
        return [e for e in self.entries if not any(p.search(e) for p in self.allowed)]

    def watch(self, page) -> None:
        page.on("console", lambda m: m.type == "error" and self.record("console", f"{m.text} ({m.location.get('url', '')})"))
        page.on("pageerror", lambda exc: self.record("pageerror", str(exc)))
        page.on("requestfailed", lambda r: self.record("requestfailed", f"{r.method} {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 500 and self.record("http", f"{r.status} {r.request.method} {r.url}"))


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


def new_page(browser, console: ConsoleLog, locale: str | None = None, **context_options):
    """A page in a fresh context (no stored language, cookies or storage), watched by `console`."""
    context = browser.new_context(locale=locale, viewport={"width": 412, "height": 915}, **context_options)
    context.set_default_timeout(20_000)  # generous: the machine may be busy with other test runs
    page = context.new_page()
    console.watch(page)
    return page


@pytest.fixture
def page(browser, console):
    p = new_page(browser, console)
    yield p
    p.context.close()
    bad = console.unexpected()
    if bad:
        pytest.fail("the page reported errors:\n  " + "\n  ".join(bad), pytrace=False)


def open_page(page, stack: Stack, path: str, lang: str | None = None):
    """Open `path` of the local stack with `lang` as the consumer's stored choice. The choice is written once,
    before the page's scripts run, so a later click on another language and a reload behave as for a user."""
    if lang:
        token = uuid.uuid4().hex
        page.add_init_script(
            "(() => { try { const k = '__qalqan_test_langs', done = JSON.parse(localStorage.getItem(k) || '[]');"
            f" if (done.includes({json.dumps(token)})) return;"
            f" localStorage.setItem({json.dumps(LANG_KEY)}, {json.dumps(lang)});"
            f" done.push({json.dumps(token)}); localStorage.setItem(k, JSON.stringify(done)); }} catch (e) {{}} }})();")
    page.goto(stack.base + path, wait_until="load")
    if lang:
        page.wait_for_function("l => document.documentElement.lang === l", arg=lang)
    return page


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
