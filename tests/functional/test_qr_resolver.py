"""The QR resolver as Lambda would call it: function-URL events (payload v2.0) through client.lambda_."""
import json
import subprocess
import sys
from pathlib import Path

from local.server import function_url_event

ROOT = Path(__file__).resolve().parents[2]


def _invoke(client, path, query="", headers=None):
    event = function_url_event("GET", f"/q{path}", query, headers or {})
    return client.lambda_.invoke("qr_resolver", event).payload


def test_a_valid_code_redirects_to_the_form_with_the_outlet(client, demo):
    code = demo["outlets"][0]["code"]
    response = _invoke(client, f"/{code}")
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == f"http://127.0.0.1:8000/?o={code}&ch=qr"


def test_the_aws_path_shape_and_lowercase_codes_work(client, demo):
    code = demo["outlets"][1]["code"]
    event = function_url_event("GET", f"/q/{code.lower()[:4]}-{code.lower()[4:]}", "", {})
    event["rawPath"] = f"/{code.lower()[:4]}-{code.lower()[4:]}"  # as a function URL at a bare domain sends it
    response = client.lambda_.invoke("qr_resolver", event).payload
    assert response["headers"]["Location"].endswith(f"?o={code}&ch=qr")


def test_a_mistyped_code_gets_a_helpful_page_in_three_languages(client, demo):
    code = demo["outlets"][0]["code"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = _invoke(client, f"/{typo}", headers={"Accept-Language": "kk-KZ,kk;q=0.9"})
    assert response["statusCode"] == 400
    page = response["body"]
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert '<html lang="kk"' in page
    assert "<h2>Кодта қате бар</h2>" in page and "<h2>В коде опечатка</h2>" in page and "<h2>The code has a typo</h2>" in page
    # the outlet is «not found» only when it is unknown, never for a typo
    assert "не найден" not in page and "табылмады" not in page
    assert 'name="code"' in page and 'href="http://127.0.0.1:8000/?seller=none"' in page


def _between(page, start, end):
    return page[page.index(start) + len(start):page.index(end, page.index(start))]


def test_the_help_page_is_accessible_in_each_language(client, demo):
    from chalicelib.domain.codes import new_outlet_code

    # GIVEN a Russian speaker's browser WHEN the code is well formed but no outlet has it
    response = _invoke(client, f"/{new_outlet_code()}", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert response["statusCode"] == 404
    page = response["body"]
    # THEN the page has one main landmark holding all of its content
    assert page.count("<main>") == 1 and page.count("</main>") == 1
    assert page.index("<main>") < page.index("<h1>") and page.index("</a>") < page.index("</main>")
    # AND each language's part is marked, the preferred one first, the page itself in it
    assert '<html lang="ru"' in page
    sections = [page.index(f'<section lang="{lang}">') for lang in ("ru", "en", "kk")]
    assert sections == sorted(sections)
    assert "<h2>Торговая точка не найдена</h2>" in page and "<title>Торговая точка не найдена — Qalqan</title>" in page
    # AND the label, the button and the link say their words in all three languages, each part with its lang
    label = _between(page, '<label for="code">', "</label>")
    assert label == ('<span lang="ru">Код с наклейки</span> / <span lang="en">Code from the sticker</span> / '
                     '<span lang="kk">Жапсырмадағы код</span>')
    button = _between(page, '<button type="submit">', "</button>")
    assert button == '<span lang="ru">Найти</span> / <span lang="en">Find</span> / <span lang="kk">Іздеу</span>'
    link = _between(page, 'seller=none">', "</a>")
    assert link == ('<span lang="ru">Подать жалобу без кода</span> / <span lang="en">Complain without a code</span> / '
                    '<span lang="kk">Кодсыз шағым беру</span>')


def test_the_entry_page_without_accept_language_still_shows_all_three(client, demo):
    page = _invoke(client, "/")["body"]
    assert '<html lang="en"' in page and "<main>" in page
    for lang in ("kk", "ru", "en"):
        # the section, then the label's, the button's and the link's parts
        assert page.count(f'<section lang="{lang}">') == 1 and page.count(f'<span lang="{lang}">') == 3


def test_unknown_and_suspended_codes_get_the_page_not_an_error(client, demo):
    from chalicelib.adapters.tables import OutletTable
    from chalicelib.domain.codes import new_outlet_code

    assert _invoke(client, f"/{new_outlet_code()}")["statusCode"] == 404
    code = demo["outlets"][2]["code"]
    OutletTable.get(code).update(actions=[OutletTable.status.set("suspended")])
    response = _invoke(client, f"/{code}")
    assert response["statusCode"] == 404 and "No active outlet" in response["body"]


def test_the_retype_form_posts_back_a_code(client, demo):
    code = demo["outlets"][0]["code"]
    response = _invoke(client, "/", query=f"code={code[:4]}-{code[4:]}")
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == f"http://127.0.0.1:8000/?o={code}&ch=qr"


def test_the_bare_resolver_shows_the_entry_form(client, demo):
    response = _invoke(client, "/")
    assert response["statusCode"] == 200 and 'name="code"' in response["body"]


def test_echoed_input_is_escaped(client, demo):
    response = _invoke(client, "/", query="code=%3Cscript%3E")
    assert "<script>" not in response["body"] and "&lt;script&gt;" in response["body"]


def test_storage_failure_still_sends_the_consumer_to_the_form(client, demo, services, monkeypatch):
    code = demo["outlets"][0]["code"]

    def broken(_code):
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(services.outlets, "get", broken)
    response = _invoke(client, f"/{code}")
    assert response["statusCode"] == 302 and response["headers"]["Location"].endswith(f"?o={code}&ch=qr")


def test_the_resolver_path_never_imports_pillow_or_qrcode():
    # GIVEN a fresh interpreter WHEN app is imported and the resolver answers an event
    script = (
        "import os, sys, json\n"
        "from tests import conftest\n"
        "from moto import mock_aws\n"
        "with mock_aws():\n"
        "    from chalicelib.adapters.tables import create_tables\n"
        "    create_tables()\n"
        "    import app\n"
        "    from local.server import function_url_event\n"
        "    r = app.qr_resolver(function_url_event('GET', '/q/7K3M9QX2', '', {}), None)\n"
        "    print(json.dumps({'status': r['statusCode'], 'mods': [m for m in ('PIL', 'qrcode', 'pydantic', 'chalicelib.domain.classifier') if m in sys.modules]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # THEN it answered and neither Pillow, qrcode, pydantic nor the routing model was loaded
    assert result["status"] in (400, 404)
    assert result["mods"] == []


def test_a_link_with_cyrillic_look_alikes_arrives_percent_encoded_and_still_resolves(client, demo):
    from urllib.parse import quote

    from tests.fakes import cyrillic_spelling

    code, cyrillic = cyrillic_spelling(demo)
    response = _invoke(client, "/" + quote(cyrillic))
    assert response["statusCode"] == 302 and response["headers"]["Location"].endswith(f"?o={code}&ch=qr")
