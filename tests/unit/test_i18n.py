"""chalicelib.i18n: one catalogue of the server's texts in kk, ru and en, and one Accept-Language negotiation."""
import ast
import re
import string
from pathlib import Path

import pytest

from chalicelib import i18n
from chalicelib.domain import errors
from chalicelib.i18n import ERRORS, FIELDS, LABELS, TEXTS, label, localise, negotiate, preferences, text

KAZAKH_ONLY = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
# Letters Russian uses and Kazakh does not (modern Kazakh spelling writes «е» for «ё»; «ъ» and «щ» occur only
# in a handful of unadapted loanwords, none of which belongs in these texts).
RUSSIAN_ONLY = set("ёъщЁЪЩ")
# Short Russian words that never occur in Kazakh text («не» does: "what", "or"): their presence means a Russian phrase was pasted.
RUSSIAN_WORDS = {"и", "в", "на", "с", "или", "по", "для", "что", "это", "нет", "уже"}
# Spelled the same in both languages, checked by hand.
SAME_IN_KK_AND_RU = {"sticker.code"}  # «Код»


def _entries():
    for name, table in (("ERRORS", ERRORS), ("FIELDS", FIELDS), ("TEXTS", TEXTS)):
        for key, texts in table.items():
            yield f"{name}.{key}", key, texts
    for kind, table in LABELS.items():
        for key, texts in table.items():
            yield f"LABELS.{kind}.{key}", key, texts


ENTRIES = list(_entries())


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("where, key, texts", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_every_text_exists_in_kazakh_russian_and_english(where, key, texts):
    assert set(texts) == {"kk", "ru", "en"}, where
    for lang, value in texts.items():
        assert isinstance(value, str) and value.strip() == value and value, (where, lang)


@pytest.mark.parametrize("where, key, texts", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_each_language_is_written_in_its_own_alphabet(where, key, texts):
    kk, ru, en = texts["kk"], texts["ru"], texts["en"]
    assert not set(kk) & RUSSIAN_ONLY, f"{where}: Russian-only letter in kk {kk!r}"
    assert not set(re.findall(r"\w+", kk.lower())) & RUSSIAN_WORDS, f"{where}: Russian word in kk {kk!r}"
    assert not set(ru) & KAZAKH_ONLY, f"{where}: Kazakh letter in ru {ru!r}"
    assert not re.search("[\u0400-\u04ff]", en), f"{where}: Cyrillic in en {en!r}"
    assert kk != ru or key in SAME_IN_KK_AND_RU, f"{where}: kk is a copy of ru"


@pytest.mark.parametrize("where, key, texts", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_every_language_names_the_same_placeholders(where, key, texts):
    assert _placeholders(texts["kk"]) == _placeholders(texts["ru"]) == _placeholders(texts["en"]), where


def test_every_domain_error_code_has_a_message():
    codes = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.DomainError)}
    codes -= {"domain_error", "already_exists"}  # never reaches a client: services turn it into a conflict
    assert codes <= set(ERRORS), codes - set(ERRORS)


def test_the_contracts_codes_have_messages():
    assert {"invalid_transition", "concurrent_update", "feedback_already_given", "invalid_cursor", "invalid_limit",
            "invalid_request_id", "key_expired", "unauthorized", "forbidden", "complaint_not_found"} <= set(ERRORS)
    assert {"unknown_agency", "invalid_stars", "int_parsing", "int_type", "less_than_equal", "greater_than_equal",
            "enum", "literal_error", "missing", "extra_forbidden", "date_parsing"} <= set(FIELDS)


def test_labels_cover_exactly_the_contracts_values():
    assert set(LABELS["status"]) == {"routed", "business_responded", "in_review", "settled", "resolved", "rejected"}
    assert set(LABELS["event"]) == {
        "submitted", "routed", "taken_in_review", "business_responded", "offer_accepted", "offer_rejected",
        "resolved", "rejected", "rerouted", "business_overdue", "agency_overdue",
    }
    assert set(LABELS["decision"]) == {"violation_confirmed", "not_confirmed", "settled"}
    assert set(LABELS["offer"]) == {"refund", "replacement", "repair", "apology", "other"}
    assert set(LABELS["flag"]) == {"business_overdue", "agency_overdue"}


def test_labels_use_the_reviewed_wording():
    assert label("status", "settled") == {
        "kk": "Дау сатушымен реттелді", "ru": "Спор урегулирован с продавцом", "en": "Settled with the seller"}
    assert label("status", "routed")["ru"] == label("event", "routed")["ru"] == "Направлена в государственный орган"
    assert label("decision", "settled") == label("status", "settled")
    assert label("flag", "business_overdue")["ru"] == "Продавец не ответил в срок"
    assert label("flag", "business_overdue")["kk"] == "Сатушы мерзімінде жауап бермеді"


def test_a_label_is_a_copy_and_an_unknown_one_is_an_error():
    first = label("status", "routed")
    first["ru"] = "changed"
    assert label("status", "routed")["ru"] == "Направлена в государственный орган"
    with pytest.raises(KeyError):
        label("status", "closed")
    with pytest.raises(KeyError):
        label("colour", "routed")


def test_text_looks_up_one_language_and_refuses_unknown_ones():
    assert text("resolver.typo.title", "kk") == "Кодта қате бар"
    assert text("resolver.typo.title", "ru") == "В коде опечатка"
    with pytest.raises(KeyError):
        text("resolver.typo.title", "de")
    with pytest.raises(KeyError):
        text("resolver.nothing", "en")


@pytest.mark.parametrize("header, expected", [
    (None, "en"),
    ("", "en"),
    ("de-DE,fr", "en"),
    ("*", "en"),
    ("kk", "kk"),
    ("kk-KZ", "kk"),
    ("KK-kz", "kk"),
    ("ru-RU,ru;q=0.9,kk;q=0.8", "ru"),
    ("en;q=0.3, kk-KZ;q=0.9", "kk"),
    ("kk, ru", "kk"),
    ("ru, kk", "ru"),
    ("ru;q=0.5, kk;q=0.5", "ru"),  # equal q: the earlier one
    ("de, ru;q=0.1", "ru"),
    ("kk;q=0", "en"),  # q=0 means "not acceptable"
    ("kk;q=0, ru;q=0.2", "ru"),
    ("ru;q=abc, kk;q=0.1", "kk"),  # a malformed q counts as 0
    ("ru;q=2, kk;q=0.1", "kk"),  # so does one out of range
    ("ru;q=nan, kk;q=0.1", "kk"),
    ("ru;level=1;q=0.4, en;q=0.5", "en"),  # q after another parameter
    ("en;q=0.2, en-GB;q=0.9, kk;q=0.5", "en"),  # the best q of a language's variants counts
    ("x" * 5000 + ",kk", "en"),  # only the start of an absurd header is read
])
def test_negotiation(header, expected):
    assert negotiate(header) == expected
    assert preferences(header)[0] == expected


@pytest.mark.parametrize("header, expected", [
    (None, ["en", "kk", "ru"]),
    ("kk", ["kk", "ru", "en"]),
    ("ru-RU", ["ru", "kk", "en"]),
    ("en-US,en;q=0.9", ["en", "kk", "ru"]),
    ("en;q=0.3, kk-KZ;q=0.9", ["kk", "en", "ru"]),
    ("ru, en;q=0.8, kk;q=0.5", ["ru", "en", "kk"]),
    ("kk;q=0, ru", ["ru", "kk", "en"]),
])
def test_preferences_list_all_three_languages_preferred_first(header, expected):
    assert preferences(header) == expected


def test_english_keeps_the_servers_specific_text():
    fields = {"text": {"code": "string_too_short", "message": "String should have at least 10 characters", "min_length": 10}}
    assert localise("validation_failed", "Some fields are invalid.", fields, "en") == ("Some fields are invalid.", fields)
    message, translated = localise("validation_failed", "Some fields are invalid.", fields, "ru")
    assert message == ERRORS["validation_failed"]["ru"]
    assert translated["text"] == {**fields["text"], "message": "Нужно не меньше 10 символов."}


def test_field_messages_fill_in_the_limits():
    fields = {"stars": {"code": "less_than_equal", "message": "Input should be less than or equal to 5", "le": 5}}
    _, translated = localise("validation_failed", "Some fields are invalid.", fields, "kk")
    assert translated["stars"]["message"] == "5 мәнінен аспауы керек."


def test_a_field_message_whose_context_is_missing_is_still_in_the_language():
    fields = {"stars": {"code": "greater_than_equal", "message": "Input should be greater than or equal to 1"}}
    _, translated = localise("validation_failed", "Some fields are invalid.", fields, "ru")
    assert translated["stars"]["message"] == FIELDS["invalid"]["ru"]


def test_unknown_codes_keep_the_servers_text():
    fields = {"x": {"code": "brand_new_code", "message": "server text"}}
    assert localise("brand_new_error", "Server says", fields, "kk") == ("Server says", fields)


def test_the_package_imports_nothing_outside_itself():
    # The QR resolver imports it on a cold start: not even the standard library beyond __future__.
    package = Path(i18n.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                assert False, f"{path.name} imports {[a.name for a in node.names]}"
            if isinstance(node, ast.ImportFrom):
                assert node.module in ("__future__", "chalicelib.i18n.catalogue", "chalicelib.i18n.notifications"), f"{path.name}: {node.module}"
