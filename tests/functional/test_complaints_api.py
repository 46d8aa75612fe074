"""POST /complaints and GET /complaints/{id} through chalice.test.Client on moto."""
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from tests.functional.conftest import count_items

TEXT_RU = "На кассе пробили сметану два раза, чек показали только после скандала. Деньги вернуть отказались."
# A week ago, so the test never ages out of the schema's three-year window.
INCIDENT_DAY = (datetime.now(timezone.utc) - timedelta(days=7)).date().isoformat()
TEXT_KK = "Дәріханада чек бермеді, сұрасам «аппарат істемей тұр» дейді. Тек қолма-қол ақша алады."


def _complaints():
    from chalicelib.adapters.tables import ComplaintTable

    return count_items(ComplaintTable)


def _code(demo, sector):
    return next(o["code"] for o in demo["outlets"] if o["sector"] == sector)


def test_qr_complaint_is_routed_stored_and_trackable(api, demo):
    # GIVEN an outlet's sticker code WHEN a consumer submits from the QR form
    response = api.post("/complaints", {
        "outlet_code": _code(demo, "grocery"), "category": "overcharge", "text": TEXT_RU,
        "language": "ru", "channel": "qr",
    })
    # THEN the answer names the agency in three languages and gives a private tracking link
    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "routed"
    assert body["agency"]["id"] == "kzpp"
    assert set(body["agency"]["name"]) == {"kk", "ru", "en"}
    assert body["routing"]["method"] == "category"
    assert body["status_url"] == f"http://127.0.0.1:8000/track.html#id={body['id']}&token={body['tracking_token']}"
    # AND the tracking link shows the status, agency and a timeline
    status = api.get(f"/complaints/{body['id']}?token={body['tracking_token']}")
    assert status.status_code == 200
    view = status.json_body
    assert view["status"] == "routed" and view["agency"]["id"] == "kzpp"
    assert [e["type"] for e in view["timeline"]] == ["submitted", "routed"]
    assert view["timeline"][1]["agency"]["id"] == "kzpp"
    assert view["outlet"]["code"] == _code(demo, "grocery")
    assert view["status_label"]["kk"] and view["status_label"]["ru"] and view["status_label"]["en"]
    assert view["kind"] == "signal"  # no contact: an anonymous signal, not a formal appeal


def test_stored_complaint_carries_what_later_work_needs(api, demo, services):
    from chalicelib.adapters.tables import ComplaintTable

    code = _code(demo, "pharmacy")
    body = api.post("/complaints", {
        "outlet_code": code, "text": TEXT_KK, "channel": "qr",
        "contact": {"name": "Айгүл", "phone": "8 701 123 45 67", "email": "Aigul@Example.kz"},
        "incident_at": f"{INCIDENT_DAY}T18:30",
    }).json_body
    item = ComplaintTable.get(body["id"])
    assert (item.outlet_code, item.business_bin, item.region, item.sector) == (code, "961141000023", "71", "pharmacy")
    assert item.agency_id == body["agency"]["id"] == "kgd"
    assert item.routing["method"] in ("rules", "rules+model") and item.routing["version"] and item.routing["explanation"]
    assert item.routing["model_version"] in item.routing["version"]  # the classifier was consulted and named
    assert item.language == "kk" and item.channel == "qr" and item.kind == "appeal"
    assert item.identified and item.contact_ref  # the contact itself is in the vault
    contact = services.contacts.get(item.contact_ref)
    assert contact.phone == "+77011234567" and contact.email == "Aigul@example.kz" and contact.name == "Айгүл"
    assert item.share_contact_with_business is False
    assert item.incident_at.isoformat() == f"{INCIDENT_DAY}T13:30:00+00:00"  # 18:30 in Kazakhstan (UTC+5)
    assert item.agency_region == "kgd#71" and item.change_key.endswith(f"#{body['id']}")
    assert item.open_bucket == "open" and item.agency_due_at  # appeals carry the legal term
    assert item.next_due_at == item.business_due_at.isoformat(timespec="seconds")  # the earlier deadline
    assert item.version == 1
    assert item.business_due_at > item.created_at


def test_complaint_without_sticker_names_the_business(api, demo):
    response = api.post("/complaints", {
        "business": {"bin": "950341000052", "name": "Электроника", "region": "75"},
        "category": "warranty", "text": "Телевизор сломался через месяц, в гарантийном ремонте отказали.",
        "channel": "web",
    })
    assert response.status_code == 201, response.json_body
    from chalicelib.adapters.tables import ComplaintTable

    item = ComplaintTable.get(response.json_body["id"])
    # the registered name wins over what the consumer typed
    assert item.business_registered is True and item.business_name == "ТОО «Электрон Әлемі»"
    assert item.outlet_code is None and item.region == "75"


def test_retry_with_same_idempotency_key_returns_the_same_complaint(api, demo):
    payload = {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU, "channel": "qr"}
    headers = {"Idempotency-Key": "b7c2d7a4-4f4e-4a53-9d3a-1b9a2f0c0d11"}
    first = api.post("/complaints", payload, headers)
    second = api.post("/complaints", payload, headers)
    assert first.status_code == second.status_code == 201
    assert second.json_body == first.json_body
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert _complaints() == 1


def test_same_idempotency_key_with_a_different_body_is_a_conflict(api, demo):
    headers = {"Idempotency-Key": "key-1"}
    api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU}, headers)
    response = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU + "!"}, headers)
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "idempotency_key_reused"
    assert _complaints() == 1


def test_without_a_key_two_posts_are_two_complaints(api, demo):
    payload = {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU}
    ids = {api.post("/complaints", payload).json_body["id"] for _ in range(2)}
    assert len(ids) == 2 and _complaints() == 2


BAD_INPUTS = [
    ("malformed json", b'{"text": "abc', 400, "malformed_json", None),
    ("array body", b"[1, 2]", 400, "malformed_json", None),
    ("empty body", b"", 400, "malformed_json", None),
    ("deeply nested", b'{"a":' * 3000 + b"1" + b"}" * 3000, 400, "malformed_json", None),
    ("text wrong type", {"outlet_code": "@", "text": 12345678901}, 422, "validation_failed", "text"),
    ("text missing", {"outlet_code": "@"}, 422, "validation_failed", "text"),
    ("text too short", {"outlet_code": "@", "text": "   short   "}, 422, "validation_failed", "text"),
    ("text too long", {"outlet_code": "@", "text": "ы" * 5001}, 422, "validation_failed", "text"),
    ("text of NULs", {"outlet_code": "@", "text": "\u0000" * 12}, 422, "validation_failed", "text"),
    ("text of zero-width spaces", {"outlet_code": "@", "text": "\u200b" * 12}, 422, "validation_failed", "text"),
    ("text without words", {"outlet_code": "@", "text": "1234567890 !!!"}, 422, "validation_failed", "text"),
    ("text null", {"outlet_code": "@", "text": None}, 422, "validation_failed", "text"),
    ("contact wrong type", {"outlet_code": "@", "text": TEXT_RU, "contact": "me"}, 422, "validation_failed",
     "contact"),
    ("mistyped code", {"outlet_code": "!typo", "text": TEXT_RU}, 422, "validation_failed", "outlet_code"),
    ("malformed code", {"outlet_code": "12", "text": TEXT_RU}, 422, "validation_failed", "outlet_code"),
    ("unknown code", {"outlet_code": "!unknown", "text": TEXT_RU}, 422, "validation_failed", "outlet_code"),
    ("no seller", {"text": TEXT_RU}, 422, "validation_failed", "outlet_code"),
    ("invalid BIN", {"business": {"bin": "940140000386", "name": "ТОО", "region": "71"}, "text": TEXT_RU},
     422, "validation_failed", "business.bin"),
    ("unknown region", {"business": {"bin": "940140000385", "name": "ТОО X", "region": "99"}, "text": TEXT_RU},
     422, "validation_failed", "business.region"),
    ("invalid phone", {"outlet_code": "@", "text": TEXT_RU, "contact": {"phone": "+7 123"}},
     422, "validation_failed", "contact.phone"),
    ("foreign phone", {"outlet_code": "@", "text": TEXT_RU, "contact": {"phone": "+7 916 123 45 67"}},
     422, "validation_failed", "contact.phone"),
    ("invalid email", {"outlet_code": "@", "text": TEXT_RU, "contact": {"email": "not-an-email"}},
     422, "validation_failed", "contact.email"),
    ("unknown category", {"outlet_code": "@", "text": TEXT_RU, "category": "ufo"}, 422, "validation_failed", "category"),
    ("bad channel", {"outlet_code": "@", "text": TEXT_RU, "channel": "fax"}, 422, "validation_failed", "channel"),
    ("consent not a bool", {"outlet_code": "@", "text": TEXT_RU, "share_contact_with_business": "yes"},
     422, "validation_failed", "share_contact_with_business"),
    ("incident in the future", {"outlet_code": "@", "text": TEXT_RU, "incident_at": "2099-01-01T00:00:00Z"},
     422, "validation_failed", "incident_at"),
    ("client sets status", {"outlet_code": "@", "text": TEXT_RU, "status": "resolved"},
     422, "validation_failed", "status"),
    ("client sets agency", {"outlet_code": "@", "text": TEXT_RU, "agency": "police"},
     422, "validation_failed", "agency"),
    ("unknown extra field", {"outlet_code": "@", "text": TEXT_RU, "priority": "high"},
     422, "validation_failed", "priority"),
]


def _with_codes(body, demo):
    """Put real outlet codes into a BAD_INPUTS body: a good one, a typo of it, or an unknown one."""
    from chalicelib.domain.codes import display_code, new_outlet_code

    if not isinstance(body, dict) or body.get("outlet_code") not in ("@", "!typo", "!unknown"):
        return body
    good = _code(demo, "grocery")
    substitutes = {"@": good, "!typo": display_code(good[:-1] + ("0" if good[-1] != "0" else "1")),
                   "!unknown": new_outlet_code()}
    return {**body, "outlet_code": substitutes[body["outlet_code"]]}


@pytest.mark.parametrize("case,body,status,code,field", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(api, demo, case, body, status, code, field):
    response = api.post("/complaints", _with_codes(body, demo))
    assert response.status_code == status, response.json_body
    error = response.json_body["error"]
    assert error["code"] == code and error["message"]
    if field:
        assert field in error["fields"], error["fields"]
        assert error["fields"][field]["message"]
    assert _complaints() == 0


def test_body_over_64_kb_is_rejected(api, demo):
    body = json.dumps({"outlet_code": _code(demo, "grocery"), "text": "a" * 70_000})
    response = api.post("/complaints", body)
    assert response.status_code == 413
    assert response.json_body["error"]["code"] == "payload_too_large"
    assert _complaints() == 0


def test_invalid_idempotency_key_is_rejected(api, demo):
    response = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU},
                        {"Idempotency-Key": "x" * 201})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json_body["error"]["fields"]


def test_wrong_token_and_unknown_id_give_the_same_404(api, demo):
    body = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU}).json_body
    wrong_token = api.get(f"/complaints/{body['id']}?token=aaaaaaaaaaaaaaaaaaaaaaaaa")
    no_token = api.get(f"/complaints/{body['id']}")
    from chalicelib.domain.codes import tracking_token
    from chalicelib.settings import get_settings

    unknown_id = "0123456789AB"
    unknown = api.get(f"/complaints/{unknown_id}?token={tracking_token(get_settings().secret, unknown_id)}")
    assert wrong_token.status_code == no_token.status_code == unknown.status_code == 404
    assert wrong_token.json_body == no_token.json_body == unknown.json_body
    # a token with letters beyond ASCII, in the query or the header, is just a wrong token (not a 500)
    non_ascii = [api.get(f"/complaints/{body['id']}?token=%C3%A9t%C3%A9"),
                 api.get(f"/complaints/{body['id']}", {"X-Tracking-Token": "тоkен"}),
                 api.post(f"/complaints/{body['id']}/feedback", {"accepted": True, "stars": 5},
                          {"X-Tracking-Token": "тоkен"})]
    assert [r.status_code for r in non_ascii] == [404, 404, 404]
    assert all(r.json_body == no_token.json_body for r in non_ascii)


def test_status_view_never_echoes_contact_details(api, demo):
    body = api.post("/complaints", {
        "outlet_code": _code(demo, "grocery"), "text": TEXT_RU,
        "contact": {"name": "Ержан Тестов", "phone": "+77011234567", "email": "erzhan@example.kz"},
    }).json_body
    raw = api.get(f"/complaints/{body['id']}?token={body['tracking_token']}").body.decode()
    assert "7011234567" not in raw and "erzhan@example.kz" not in raw and "Ержан" not in raw
    assert json.loads(raw)["contact_provided"] is True


def test_personal_data_never_reaches_the_logs(api, demo, caplog):
    # GIVEN production log levels, and our own logger at its most verbose
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="qalqan")
    # WHEN a complaint with contact details is submitted
    api.post("/complaints", {
        "outlet_code": _code(demo, "grocery"), "text": TEXT_RU + " секретныйтекст",
        "contact": {"name": "Ержан Тестов", "phone": "+77011234567", "email": "erzhan@example.kz"},
    }, {"Idempotency-Key": "log-check"})
    # THEN the access log line is there, with none of the personal data or the complaint text
    records = [(r.getMessage(), {k: v for k, v in vars(r).items() if k not in ("msg", "args")})
               for r in caplog.records]
    assert any(extra.get("status") == 201 for _, extra in records)
    logged = repr(records)
    for secret in ("7011234567", "erzhan@example.kz", "Ержан", "секретныйтекст"):
        assert secret not in logged


def test_routing_preview_routes_like_a_submission_and_stores_nothing(api, demo):
    text = "Весы на рынке обвешивают, дома перевесила мясо — не хватает 300 грамм."
    preview = api.post("/routing/preview", {"text": text, "outlet_code": _code(demo, "grocery")})
    assert preview.status_code == 200
    submitted = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": text}).json_body
    assert preview.json_body["agency"] == submitted["agency"]
    assert preview.json_body["method"] == submitted["routing"]["method"]
    assert preview.json_body["confidence"] == submitted["routing"]["confidence"]
    assert preview.json_body["explanation"]
    assert _complaints() == 1


def test_routing_preview_validates_its_input(api, demo):
    response = api.post("/routing/preview", {"text": "", "category": "nope"})
    assert response.status_code == 422
    assert {"text", "category"} <= set(response.json_body["error"]["fields"])


def test_a_retry_after_the_outlet_was_suspended_still_gets_its_complaint(api, demo):
    from chalicelib.adapters.tables import OutletTable

    code = _code(demo, "grocery")
    payload = {"outlet_code": code, "text": TEXT_RU, "channel": "qr"}
    first = api.post("/complaints", payload, {"Idempotency-Key": "retry-after-suspend"})
    OutletTable.get(code).update(actions=[OutletTable.status.set("suspended")])
    again = api.post("/complaints", payload, {"Idempotency-Key": "retry-after-suspend"})
    assert again.status_code == 201 and again.json_body == first.json_body
    # a new complaint about the suspended outlet is refused
    assert api.post("/complaints", payload, {"Idempotency-Key": "new"}).status_code == 422
    assert _complaints() == 1


def test_a_retry_may_spell_the_code_differently(api, demo):
    code = _code(demo, "grocery")
    first = api.post("/complaints", {"outlet_code": code, "text": TEXT_RU}, {"Idempotency-Key": "spell"})
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    again = api.post("/complaints", {"outlet_code": typed, "text": TEXT_RU}, {"Idempotency-Key": "spell"})
    assert again.status_code == 201 and again.json_body["id"] == first.json_body["id"]


def test_an_anonymous_crime_report_is_a_formal_appeal(api, demo):
    from chalicelib.adapters.tables import ComplaintTable

    body = api.post("/complaints", {
        "outlet_code": _code(demo, "grocery"),
        "text": "Охранник магазина ударил меня и отобрал телефон, угрожал расправой.",
    }).json_body
    item = ComplaintTable.get(body["id"])
    assert item.agency_id == "police" and item.kind == "appeal" and item.agency_due_at


def test_the_text_language_is_detected_apart_from_the_interface_language(api, demo):
    from chalicelib.adapters.tables import ComplaintTable

    body = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU, "language": "kk"}).json_body
    item = ComplaintTable.get(body["id"])
    assert (item.language, item.text_language) == ("kk", "ru")


def test_preview_without_a_sticker_uses_the_sector_like_the_submission(api, demo):
    text = "Здравствуйте, прошу разобраться с этой организацией, очень недоволен обслуживанием."
    preview = api.post("/routing/preview", {"text": text, "sector": "finance"}).json_body
    submitted = api.post("/complaints", {
        "business": {"bin": "950341000052", "name": "АО Банк", "region": "75", "sector": "finance"}, "text": text,
    }).json_body
    # the same sector reaches the policy either way: the same decision, and the sector prior is in the evidence
    assert preview["agency"]["id"] == submitted["agency"]["id"]
    assert preview["method"] == submitted["routing"]["method"]
    assert "sector 'finance' prior" in preview["explanation"]


def test_the_tracking_token_may_come_in_a_header(api, demo):
    body = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU}).json_body
    ok = api.get(f"/complaints/{body['id']}", headers={"X-Tracking-Token": body["tracking_token"]})
    assert ok.status_code == 200 and ok.json_body["id"] == body["id"]
    assert api.get(f"/complaints/{body['id']}", headers={"X-Tracking-Token": "nope"}).status_code == 404


@pytest.mark.parametrize("lang,word", [("kk", "өрістер"), ("ru", "поля")])
def test_errors_speak_the_consumers_language(api, demo, lang, word):
    from chalicelib.i18n import FIELDS

    response = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": "коротко",
                                        "contact": {"phone": "123"}}, {"Accept-Language": f"{lang}-KZ,en;q=0.5"})
    error = response.json_body["error"]
    assert response.headers["Content-Language"] == lang and word in error["message"]
    assert error["fields"]["text"]["message"] == FIELDS["string_too_short"][lang].format(min_length=10)
    assert error["fields"]["text"]["min_length"] == 10
    assert error["fields"]["contact.phone"]["message"] == FIELDS["invalid_phone"][lang]


@pytest.mark.parametrize("case,body,status,code,field", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_every_consumer_error_has_kazakh_and_russian_text(api, demo, case, body, status, code, field):
    from chalicelib.i18n import ERRORS, FIELDS

    error = api.post("/complaints", _with_codes(body, demo), {"Accept-Language": "kk"}).json_body["error"]
    # the response's own code, worded from the Kazakh catalogue, not the English server text
    assert error["code"] == code and error["message"] == ERRORS[code]["kk"]
    for detail in error["fields"].values():
        assert detail["code"] in FIELDS, detail
        assert detail["message"] == FIELDS[detail["code"]]["kk"].format(**detail), detail


def test_after_a_secret_rotation_links_already_sent_keep_working(api, demo, services):
    """The secret rotates: tracking links made with the previous one still open the complaint (and feedback
    still works), new complaints get tokens of the new secret, and a token of neither is refused."""
    from dataclasses import replace

    from chalicelib.bootstrap import use_container
    from chalicelib.domain import codes

    old = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU}).json_body
    new_secret = "a-brand-new-secret-after-rotation-000000001"
    rotated = replace(services.settings, secret_value=new_secret, previous_secret_value=services.settings.secret)
    use_container(replace(services, settings=rotated))
    assert api.get(f"/complaints/{old['id']}", headers={"X-Tracking-Token": old["tracking_token"]}).status_code == 200
    fresh = api.post("/complaints", {"outlet_code": _code(demo, "grocery"), "text": TEXT_RU}).json_body
    assert fresh["tracking_token"] == codes.tracking_token(new_secret, fresh["id"]) != old["tracking_token"]
    forged = codes.tracking_token("some-other-secret-that-nobody-uses-0000001", old["id"])
    assert api.get(f"/complaints/{old['id']}", headers={"X-Tracking-Token": forged}).status_code == 404
    # once the previous secret is dropped, the old links stop working
    use_container(replace(services, settings=replace(rotated, previous_secret_value="")))
    assert api.get(f"/complaints/{old['id']}", headers={"X-Tracking-Token": old["tracking_token"]}).status_code == 404
