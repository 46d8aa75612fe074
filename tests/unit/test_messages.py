from chalicelib.api.messages import ERRORS, FIELDS, language, localise
from chalicelib.domain import errors


def test_every_domain_error_code_has_kazakh_and_russian():
    codes = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.DomainError)}
    codes -= {"domain_error", "already_exists"}  # never reaches a client: services turn it into a conflict
    assert codes <= set(ERRORS), codes - set(ERRORS)
    for table in (ERRORS, FIELDS):
        for code, texts in table.items():
            assert texts.get("kk") and texts.get("ru"), code


def test_language_follows_accept_language_q_values():
    assert language(None) == "en" and language("de-DE,fr") == "en"
    assert language("ru-RU,ru;q=0.9,kk;q=0.8") == "ru"
    assert language("en;q=0.3, kk-KZ;q=0.9") == "kk"
    assert language("kk, ru") == "kk"


def test_english_keeps_the_servers_specific_text():
    fields = {"text": {"code": "string_too_short", "message": "String should have at least 10 characters", "min_length": 10}}
    assert localise("validation_failed", "Some fields are invalid.", fields, "en") == ("Some fields are invalid.", fields)
    message, translated = localise("validation_failed", "Some fields are invalid.", fields, "ru")
    assert message == ERRORS["validation_failed"]["ru"]
    assert translated["text"]["message"] == "Нужно не меньше 10 символов."
