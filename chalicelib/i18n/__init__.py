"""One home for the server's translations: Accept-Language negotiation and one lookup over one catalogue.

- `negotiate(header)`: the one language of an API answer ("kk", "ru" or "en").
- `preferences(header)`: all three, the visitor's preferred first, for pages that show every language.
- `localise(code, message, fields, lang)`: an API error's message and field messages in `lang`.
- `label(kind, key)`: {"kk", "ru", "en"} for a status, timeline event, decision, offer or flag.
- `text(key, lang)`: a page or print text (the QR resolver, the sticker).

The words follow docs/glossary.md. Pure Python with no imports beyond this package: the QR resolver loads it
on a cold start while a person waits at a shop door.
"""
from __future__ import annotations

from chalicelib.i18n.catalogue import BRAND, ERRORS, FIELDS, LABELS, TEXTS

__all__ = ["LANGUAGES", "BRAND", "ERRORS", "FIELDS", "LABELS", "TEXTS",
           "negotiate", "preferences", "localise", "label", "text"]

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "en"  # what a client that names none of ours gets: API clients are machines more often than people

# A header longer than this is not a browser's; parsing only its start keeps a hostile one cheap.
_MAX_HEADER = 1024


def _weights(header: str | None) -> dict[str, float]:
    """The best q-value the header gives each of our languages (absent ones are left out).

    "kk-KZ" counts as "kk"; a malformed or out-of-range q counts as 0, which RFC 9110 reads as "not acceptable".
    """
    weights: dict[str, float] = {}
    for part in (header or "")[:_MAX_HEADER].split(","):
        tag, *params = part.split(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # also false for NaN
                    q = 0.0
        weights[lang] = max(q, weights.get(lang, 0.0))
    return weights


def preferences(header: str | None) -> list[str]:
    """kk, ru and en, most preferred first: by q-value, then by order in the header.

    Languages the header does not name (or refuses with q=0) follow in the order kk, ru, en: someone who reads
    one of the country's two languages most likely reads the other. A header naming none of them puts English
    first, so the first is always `negotiate(header)`.
    """
    weights = _weights(header)
    named = [lang for lang, q in weights.items() if q > 0]  # dicts keep the header's order
    named.sort(key=lambda lang: -weights[lang])  # stable: equal q keeps the earlier one first
    head = named or [DEFAULT]
    return head + [lang for lang in LANGUAGES if lang not in head]


def negotiate(header: str | None) -> str:
    """The first of kk, ru, en that the client accepts (by q-value); English when it names none of them."""
    return preferences(header)[0]


def _fill(template: str, detail: dict) -> str | None:
    """`template` with the error's context filled in, or None if the context lacks a value it names."""
    try:
        return template.format_map(detail)
    except (KeyError, IndexError, ValueError, AttributeError):
        return None


def localise(code: str, message: str, fields: dict, lang: str) -> tuple[str, dict]:
    """An API error's top-level message and field messages in `lang`.

    English keeps the server's own text, which can be more specific than the catalogue's. A code the catalogue
    does not know keeps the server's text too, rather than a wrong or empty translation.
    """
    if lang == "en":
        return message, fields
    message = ERRORS.get(code, {}).get(lang, message)
    translated = {}
    for path, detail in fields.items():
        template = FIELDS.get(detail.get("code"), {}).get(lang)
        filled = _fill(template, detail) if template else None
        if template and filled is None:  # context missing: say it generically, still in the right language
            filled = FIELDS["invalid"][lang]
        translated[path] = {**detail, "message": filled or detail.get("message")}
    return message, translated


def label(kind: str, key: str) -> dict[str, str]:
    """{"kk", "ru", "en"} for a value of `kind` ("status", "event", "decision", "offer", "flag").

    An unknown kind or key raises KeyError: a value without a label is a bug to catch in tests, not to paper over.
    """
    return dict(LABELS[kind][key])


def text(key: str, lang: str) -> str:
    """The page or print text `key` in `lang` (one of LANGUAGES); KeyError for an unknown key or language."""
    return TEXTS[key][lang]
