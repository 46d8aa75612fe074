"""The QR resolver: a Lambda function URL (payload v2.0) that turns a sticker code into the form.

It runs while a person waits at a shop door, so it imports nothing heavy (no Pillow, no qrcode,
no pydantic) and does one DynamoDB read. It never answers 5xx: if storage fails, it still sends the
consumer to the form, which looks the outlet up again by itself.

Two entry points give the same answers: `app.qr_resolver` (chalice deploy, the local stack, chalice.test) and
`handler` below, which the packaged stack deploys (tools/package.py): it skips app.py and its imports.
"""
from __future__ import annotations

import html
from urllib.parse import parse_qs, quote, unquote

from chalicelib.domain import codes
from chalicelib.domain.errors import InvalidOutletCode


def _each(key: str, langs: list[str]) -> str:
    """`key` in every language, each part marked with its `lang` so a screen reader switches voice."""
    from chalicelib import i18n

    return " / ".join(f'<span lang="{lang}">{html.escape(i18n.text(key, lang))}</span>' for lang in langs)


def _page(status: int, reason: str, typed: str, headers: dict, form_url: str) -> dict:
    """The help page for `reason` ("typo", "unknown", "enter"): every language, the visitor's preferred first."""
    from chalicelib import i18n  # the texts of every page: only a help page needs them, not a redirect

    langs = i18n.preferences(headers.get("accept-language"))
    sections = "".join(
        f'<section lang="{lang}"><h2>{html.escape(i18n.text(f"resolver.{reason}.title", lang))}</h2>'
        f'<p>{html.escape(i18n.text(f"resolver.{reason}.body", lang))}</p></section>'
        for lang in langs
    )
    title = html.escape(i18n.text(f"resolver.{reason}.title", langs[0]))
    body = f"""<!doctype html><html lang="{langs[0]}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title} — Qalqan</title><link rel="icon" href="data:,">
<style>body{{font:17px/1.5 system-ui,sans-serif;max-width:34rem;margin:1rem auto;padding:0 1rem;color:#1b1f24}}
h1{{font-size:1.3rem}}h2{{font-size:1.05rem;margin:.8rem 0 .2rem}}input,button,a.b{{font:inherit;padding:.7rem;
border-radius:.4rem;border:2px solid #0b5cab}}input{{width:100%;box-sizing:border-box;text-transform:uppercase}}
button{{background:#0b5cab;color:#fff;margin-top:.5rem;width:100%}}a.b{{display:block;text-align:center;
margin-top:1rem;color:#0b5cab;text-decoration:none}}:focus{{outline:3px solid #f5a623}}</style></head><body><main>
<h1>{html.escape(i18n.BRAND)}</h1>{sections}
<form method="get" action=""><label for="code">{_each("resolver.label", langs)}</label>
<input id="code" name="code" value="{html.escape(typed)}" autocomplete="off" autocapitalize="characters"
 placeholder="XXXX-XXXX" maxlength="20" required><button type="submit">{_each("resolver.submit", langs)}</button></form>
<a class="b" href="{html.escape(form_url)}">{_each("resolver.nocode", langs)}</a>
</main></body></html>"""
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
        reason = "typo" if exc.reason == "checksum" else "unknown"
        return _page(400 if reason == "typo" else 404, reason, typed[:20], headers, form_url)
    try:
        outlet = find_outlet(code)
    except Exception:  # storage trouble must not strand the consumer: the form retries the lookup
        logger.exception("outlet lookup failed in the resolver")
        return _redirect(settings.form_url(quote(code)))
    if outlet is None or not outlet.active:
        return _page(404, "unknown", codes.display_code(code), headers, form_url)
    return _redirect(settings.form_url(outlet.code))


def handler(event: dict, context) -> dict:
    """The QR resolver's Lambda entry point as packaged: tools/package.py sets the function's Handler to it.

    It answers as `app.qr_resolver` does (tests/functional/test_resolver_entry.py compares the two), but a cold
    start of app.py loads every API route, the wiring of every adapter and Powertools, which cost a person at the
    shop door more than the lookup itself. This entry imports the settings and one botocore reader, and a logger
    only when a lookup fails.
    """
    from chalicelib.settings import get_settings

    # The reader is made inside the lookup, so even a wiring failure ends in the form, not a 5xx.
    return resolve(event, find_outlet=lambda code: _outlet_reader().get(code), settings=get_settings(),
                   logger=_LOGGER)


_reader = None


def _outlet_reader():
    global _reader
    if _reader is None:
        from chalicelib.adapters.outlet_status import OutletStatusReader
        from chalicelib.settings import get_settings

        settings = get_settings()
        _reader = OutletStatusReader(settings.table_name("outlets"), settings.aws_region)
    return _reader


class _LazyLogger:
    """app.py's Powertools Logger (same service and level), imported on the first log line: the resolver logs
    only a failed lookup, so a cold start that finds the outlet never pays for Powertools."""

    _logger = None

    def __getattr__(self, name: str):
        if _LazyLogger._logger is None:
            from aws_lambda_powertools import Logger

            from chalicelib.settings import get_settings

            _LazyLogger._logger = Logger(service="qalqan", level=get_settings().log_level)
        return getattr(_LazyLogger._logger, name)


_LOGGER = _LazyLogger()
