"""The QR resolver: a Lambda function URL (payload v2.0) that turns a sticker code into the form.

It runs while a person waits at a shop door, so it imports nothing heavy (no Pillow, no qrcode,
no pydantic) and does one DynamoDB read. It never answers 5xx: if storage fails, it still sends the
consumer to the form, which looks the outlet up again by itself.
"""
from __future__ import annotations

import html
from urllib.parse import parse_qs, quote, unquote

from chalicelib.domain import codes
from chalicelib.domain.errors import InvalidOutletCode

_TEXT = {
    "kk": {
        "title": "Сатушы табылмады",
        "typo": "Кодта қате бар сияқты. Жапсырмадағы кодты тексеріп, қайта теріңіз.",
        "unknown": "Бұл кодпен белсенді сауда нүктесі жоқ. Жапсырмадағы кодты тексеріңіз.",
        "enter": "Жапсырмадағы кодты енгізіңіз.",
        "label": "Жапсырмадағы код",
        "submit": "Ашу",
        "nocode": "Кодсыз шағым жіберу",
    },
    "ru": {
        "title": "Продавец не найден",
        "typo": "В коде, похоже, опечатка. Проверьте код на наклейке и введите его ещё раз.",
        "unknown": "Нет действующей торговой точки с таким кодом. Проверьте код на наклейке.",
        "enter": "Введите код с наклейки.",
        "label": "Код с наклейки",
        "submit": "Открыть",
        "nocode": "Подать жалобу без кода",
    },
    "en": {
        "title": "Seller not found",
        "typo": "The code seems to have a typo. Check the code on the sticker and type it again.",
        "unknown": "No active outlet has this code. Check the code on the sticker.",
        "enter": "Type the code from the sticker.",
        "label": "Code on the sticker",
        "submit": "Open",
        "nocode": "Complain without a code",
    },
}


def _languages(headers: dict) -> list[str]:
    """kk, ru and en, the visitor's preferred one first (from Accept-Language)."""
    accept = (headers.get("accept-language") or "").lower()
    order = sorted(("kk", "ru", "en"), key=lambda lang: (accept.find(lang) if lang in accept else 999))
    return order


def _page(status: int, reason: str, typed: str, headers: dict, form_url: str) -> dict:
    langs = _languages(headers)
    sections = []
    for lang in langs:
        t = _TEXT[lang]
        message = t[reason] if reason != "enter" else t["enter"]
        sections.append(
            f'<section lang="{lang}"><h2>{html.escape(t["title"] if reason != "enter" else t["label"])}</h2>'
            f"<p>{html.escape(message)}</p></section>"
        )
    first = _TEXT[langs[0]]
    labels = " / ".join(_TEXT[lang]["label"] for lang in langs)
    body = f"""<!doctype html><html lang="{langs[0]}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Qalqan</title><link rel="icon" href="data:,">
<style>body{{font:17px/1.5 system-ui,sans-serif;max-width:34rem;margin:1rem auto;padding:0 1rem;color:#1b1f24}}
h1{{font-size:1.3rem}}h2{{font-size:1.05rem;margin:.8rem 0 .2rem}}input,button,a.b{{font:inherit;padding:.7rem;
border-radius:.4rem;border:2px solid #0b5cab}}input{{width:100%;box-sizing:border-box;text-transform:uppercase}}
button{{background:#0b5cab;color:#fff;margin-top:.5rem;width:100%}}a.b{{display:block;text-align:center;
margin-top:1rem;color:#0b5cab;text-decoration:none}}:focus{{outline:3px solid #f5a623}}</style></head><body>
<h1>Қалқан · Qalqan</h1>{''.join(sections)}
<form method="get" action=""><label for="code">{html.escape(labels)}</label>
<input id="code" name="code" value="{html.escape(typed)}" autocomplete="off" autocapitalize="characters"
 placeholder="XXXX-XXXX" maxlength="20" required><button type="submit">{html.escape(first["submit"])}</button></form>
<a class="b" href="{html.escape(form_url)}">{html.escape(" / ".join(_TEXT[lang]["nocode"] for lang in langs))}</a>
</body></html>"""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        "body": body,
    }


def _redirect(location: str) -> dict:
    return {"statusCode": 302, "headers": {"Location": location, "Cache-Control": "no-store"}, "body": ""}


def resolve(event: dict, *, find_outlet, settings, logger) -> dict:
    """Answer one function-URL request. `rawPath` ends in the code; `?code=` comes from the retype form."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    query = parse_qs(event.get("rawQueryString") or "")
    # rawPath is percent-encoded: a code typed with Cyrillic look-alikes arrives as %D0%A5...
    segments = [unquote(s) for s in (event.get("rawPath") or "/").split("/") if s]
    typed = (query.get("code") or [""])[0] or (segments[-1] if segments and segments[-1].lower() != "q" else "")
    form_url = f"{settings.form_url()}?seller=none"
    if not typed:
        return _page(200, "enter", "", headers, form_url)
    try:
        code = codes.parse_outlet_code(typed)
    except InvalidOutletCode as exc:
        reason = "typo" if exc.fields["outlet_code"]["code"] == "invalid_checksum" else "unknown"
        return _page(400 if reason == "typo" else 404, reason, typed[:20], headers, form_url)
    try:
        outlet = find_outlet(code)
    except Exception:  # storage trouble must not strand the consumer: the form retries the lookup
        logger.exception("outlet lookup failed in the resolver")
        return _redirect(settings.form_url(quote(code)))
    if outlet is None or not outlet.active:
        return _page(404, "unknown", codes.display_code(code), headers, form_url)
    return _redirect(settings.form_url(outlet.code))
