"""Working a case through the HTTP API (chalice.test.Client on moto): the agency's queue, case, status
changes and reroutes, the business's inbox, case and answer, and the consumer's feedback.

The clock is pinned (Friday 27 November 2026, 14:30 in Astana) so deadlines have known answers and the
queues' settle lag passes when the test says so.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from tests.fakes import FixedClock

BIN_A, BIN_B = "940140000385", "950341000052"
FRIDAY = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)  # 14:30 in Astana (UTC+5)
# Known answers for FRIDAY: 10 calendar days -> Monday 7 December; 15 working days from Monday 30 November,
# skipping weekends and Independence Day (Wednesday 16 December) -> Monday 21 December; both end of day, Astana.
BUSINESS_DUE, AGENCY_DUE = "2026-12-07T18:59:59Z", "2026-12-21T18:59:59Z"
TEXT = ("На кассе обсчитали: пробили молоко дважды, разницу в 650 тенге вернуть отказались, чек выдали только после "
        "долгого спора с администратором. Прошу проверить магазин и вернуть деньги.")
CONTACT = {"name": "Айгүл Сейтқали", "phone": "+7 701 123 45 67", "email": "aigul@example.kz"}
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
SUMMARY_KEYS = {"id", "status", "status_label", "kind", "created_at", "updated_at", "category", "sector", "region",
                "agency", "business", "outlet", "excerpt", "business_due_at", "agency_due_at", "flags", "overdue",
                "secondary_agencies"}
TRACKING_KEYS = {"id", "status", "status_label", "kind", "created_at", "updated_at", "agency", "secondary_agencies",
                 "outlet", "business",
                 "category", "routing", "contact_provided", "publish_consent", "due_at", "business_due_at", "agency_due_at", "flags",
                 "business_response", "feedback", "can_give_feedback", "result", "rejection", "timeline"}


class Desk:
    """The people around a case, speaking HTTP: consumers, agencies (by id) and businesses (by BIN)."""

    def __init__(self, api, demo, services, clock):
        self.api, self.demo, self.services, self.clock = api, demo, services, clock

    def agency(self, agency_id="kzpp", lang=None) -> dict:
        return {"Authorization": f"Bearer {self.demo['keys']['agencies'][agency_id]}",
                **({"Accept-Language": lang} if lang else {})}

    def business(self, bin=BIN_A, lang=None) -> dict:
        return {"Authorization": f"Bearer {self.demo['keys']['businesses'][bin]}",
                **({"Accept-Language": lang} if lang else {})}

    @property
    def admin(self) -> dict:
        return {"Authorization": f"Bearer {self.demo['keys']['admin']}"}

    def outlet(self, bin=BIN_A, region="71") -> str:
        return next(o["code"] for o in self.demo["outlets"] if o["business_bin"] == bin and o["region"] == region)

    def submit(self, *, contact=True, share=False, bin=BIN_A, region="71", category="overcharge", text=TEXT) -> dict:
        """A complaint about a sticker outlet; by default identified (an appeal) and routed to kzpp."""
        body = {"outlet_code": self.outlet(bin, region), "text": text, "language": "ru",
                "share_contact_with_business": share}
        if category:
            body["category"] = category
        if contact:
            body["contact"] = CONTACT
        response = self.api.post("/complaints", body)
        assert response.status_code == 201, response.body
        self.clock.advance(seconds=1)  # distinct change times, in submission order
        return response.json_body

    def settle(self):
        """Let the queues' settle lag (3 s in tests) pass."""
        self.clock.advance(seconds=5)

    def track(self, created, lang=None):
        headers = {"X-Tracking-Token": created["tracking_token"], **({"Accept-Language": lang} if lang else {})}
        return self.api.get(f"/complaints/{created['id']}", headers)

    def case(self, cid, agency_id="kzpp"):
        return self.api.get(f"/agency/complaints/{cid}", self.agency(agency_id))

    def status(self, cid, body, agency_id="kzpp", lang=None):
        return self.api.post(f"/agency/complaints/{cid}/status", body, self.agency(agency_id, lang))

    def reroute(self, cid, to, reason="Не выдали чек: это вопрос налоговой.", agency_id="kzpp", lang=None):
        return self.api.post(f"/agency/complaints/{cid}/reroute", {"agency_id": to, "reason": reason},
                             self.agency(agency_id, lang))

    def business_case(self, cid, bin=BIN_A):
        return self.api.get(f"/business/complaints/{cid}", self.business(bin))

    def respond(self, cid, offer="refund", message="Приносим извинения, вернём 650 тенге на карту.", bin=BIN_A,
                lang=None):
        return self.api.post(f"/business/complaints/{cid}/response", {"message": message, "offer": offer},
                             self.business(bin, lang))

    def feedback(self, created, body, lang=None, via_query=False):
        path = f"/complaints/{created['id']}/feedback"
        headers = {"Accept-Language": lang} if lang else {}
        if via_query:
            path += f"?token={created['tracking_token']}"
        else:
            headers["X-Tracking-Token"] = created["tracking_token"]
        return self.api.post(path, body, headers)

    def queue(self, path, headers, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        return self.api.get(f"{path}?{query}" if query else path, headers)

    def poll_all(self, path, headers, cursor=None, **params):
        """Every item from `cursor` on, page by page; returns (items, last cursor)."""
        items = []
        while True:
            page = self.queue(path, headers, cursor=cursor, **params)
            assert page.status_code == 200, page.body
            body = page.json_body
            items += body["items"]
            cursor = body["next_cursor"] or cursor
            if not body["items"]:
                return items, cursor

    def stored(self, cid):
        return self.services.complaints.get(cid, consistent=True)


@pytest.fixture
def clock(services, demo):
    pinned = FixedClock(FRIDAY)
    services.clock = pinned
    return pinned


@pytest.fixture
def desk(api, demo, services, clock):
    return Desk(api, demo, services, clock)


def _error(response, status, code):
    assert response.status_code == status, response.body
    error = response.json_body["error"]
    assert error["code"] == code, error
    return error


# --- the agency's queue ---------------------------------------------------------------------------------------
def test_agency_queue_shows_only_its_cases_oldest_change_first(desk):
    first, second = desk.submit(), desk.submit(contact=False)
    elsewhere = desk.submit(bin=BIN_A, region="75")                  # kzpp too, but in Almaty
    other_agency = desk.submit(category="no_receipt", text="Не выдали чек на покупку, кассир сказал, что аппарат сломан.")
    assert other_agency["agency"]["id"] != "kzpp"
    # Only changes older than the settle lag (3 s) are served, so a write still committing is never skipped
    # by a cursor: four submissions one second apart, and the clock is now 4 s past the first.
    early = desk.queue("/agency/complaints", desk.agency()).json_body["items"]
    assert [x["id"] for x in early] == [first["id"], second["id"]]
    desk.settle()
    page = desk.queue("/agency/complaints", desk.agency()).json_body
    assert [x["id"] for x in page["items"]] == [first["id"], second["id"], elsewhere["id"]]
    row = page["items"][0]
    assert set(row) == SUMMARY_KEYS  # a queue row: no text beyond the excerpt, no contact
    assert row["excerpt"] == TEXT[:160] and len(TEXT) > 160
    assert row["status"] == "routed" and set(row["status_label"]) == {"kk", "ru", "en"}
    assert row["business"] == {"name": "ТОО «Таза Маркет»", "bin": BIN_A} and row["region"]["code"] == "71"
    assert row["category"]["id"] == "overcharge" and row["sector"]["id"] == "grocery"
    assert (row["business_due_at"], row["agency_due_at"]) == (BUSINESS_DUE, AGENCY_DUE)
    assert row["flags"] == {"business_overdue": False, "agency_overdue": False} and row["overdue"] is False
    assert row["kind"] == "appeal" and page["items"][1]["kind"] == "signal"
    assert page["items"][1]["agency_due_at"] is None  # an anonymous signal has no legal term
    # The other agency, a regional key of another region, and the business's rival see none of it.
    other_ids = {x["id"] for x in desk.queue("/agency/complaints", desk.agency(other_agency["agency"]["id"])).json_body["items"]}
    assert other_ids == {other_agency["id"]}
    from chalicelib.services.auth import issue_key

    astana = issue_key(role="agency", label="astana", agency_id="kzpp", regions=["71"], keys=desk.services.keys,
                       clock=desk.clock).key
    astana_ids = [x["id"] for x in desk.queue("/agency/complaints", {"Authorization": f"Bearer {astana}"}).json_body["items"]]
    assert astana_ids == [first["id"], second["id"]]
    assert desk.queue("/agency/complaints", desk.agency(), region="75").json_body["items"][0]["id"] == elsewhere["id"]
    assert desk.queue("/business/complaints", desk.business(BIN_B)).json_body["items"] == []


def test_agency_queue_filters_and_polls_only_what_changed(desk):
    a, b, c = desk.submit(), desk.submit(), desk.submit()
    desk.settle()
    items, cursor = desk.poll_all("/agency/complaints", desk.agency(), limit=2)
    assert [x["id"] for x in items] == [a["id"], b["id"], c["id"]]
    assert desk.status(b["id"], {"status": "in_review"}).status_code == 200
    desk.settle()
    changed, cursor = desk.poll_all("/agency/complaints", desk.agency(), cursor=cursor)
    assert [(x["id"], x["status"]) for x in changed] == [(b["id"], "in_review")]
    assert desk.poll_all("/agency/complaints", desk.agency(), cursor=cursor)[0] == []  # nothing repeats
    in_review = desk.queue("/agency/complaints", desk.agency(), status="in_review").json_body["items"]
    assert [x["id"] for x in in_review] == [b["id"]]
    opened = desk.queue("/agency/complaints", desk.agency(), status="open").json_body["items"]
    assert [x["id"] for x in opened] == [a["id"], c["id"], b["id"]]


@pytest.mark.parametrize("query,status,code,field", [
    ("limit=0", 400, "invalid_limit", "limit"),
    ("limit=101", 400, "invalid_limit", "limit"),
    ("limit=%C2%B2", 400, "invalid_limit", "limit"),       # '²' passes str.isdigit
    ("limit=-1", 400, "invalid_limit", "limit"),
    ("status=closed", 422, "validation_failed", "status"),
    ("region=99", 422, "validation_failed", "region"),
    ("cursor=abc.def", 400, "invalid_cursor", "cursor"),
    ("cursor=%00", 400, "invalid_cursor", "cursor"),
])
def test_agency_queue_rejects_bad_parameters(desk, query, status, code, field):
    error = _error(desk.api.get(f"/agency/complaints?{query}", desk.agency("kzpp", "kk")), status, code)
    assert field in error["fields"]
    assert KAZAKH_LETTERS & set(error["message"])


def test_a_cursor_only_works_for_the_queue_and_filter_it_was_given_for(desk):
    desk.submit()
    desk.settle()
    cursor = desk.queue("/agency/complaints", desk.agency()).json_body["next_cursor"]
    assert cursor
    _error(desk.queue("/agency/complaints", desk.agency("ktrm"), cursor=cursor), 400, "invalid_cursor")
    _error(desk.queue("/agency/complaints", desk.agency(), cursor=cursor, status="routed"), 400, "invalid_cursor")
    _error(desk.queue("/business/complaints", desk.business(), cursor=cursor), 400, "invalid_cursor")
    payload, signature = cursor.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    _error(desk.queue("/agency/complaints", desk.agency(), cursor=forged), 400, "invalid_cursor")
    desk.clock.advance(days=31)
    _error(desk.queue("/agency/complaints", desk.agency(), cursor=cursor), 400, "invalid_cursor")  # stale


def test_a_regional_key_may_not_read_another_regions_queue(desk):
    from chalicelib.services.auth import issue_key

    key = issue_key(role="agency", label="astana", agency_id="kzpp", regions=["71"], keys=desk.services.keys,
                    clock=desk.clock).key
    _error(desk.api.get("/agency/complaints?region=75", {"Authorization": f"Bearer {key}"}), 403, "forbidden")


# --- the agency's case ----------------------------------------------------------------------------------------
def test_agency_case_has_the_whole_case_with_the_contact(desk):
    created = desk.submit()
    case = desk.case(created["id"]).json_body
    assert set(case) >= SUMMARY_KEYS | {"text", "language", "routing", "business_response", "feedback", "decision",
                                        "rejection", "contact", "share_contact_with_business", "timeline",
                                        "version", "actions"}
    assert case["text"] == TEXT and case["language"] == "ru"
    assert case["contact"] == {"name": CONTACT["name"], "phone": "+77011234567", "email": CONTACT["email"]}
    assert case["routing"]["method"] == "category" and case["routing"]["explanation"]
    assert case["actions"] == ["take", "reject", "reroute"] and case["version"] == 1
    assert [e["type"] for e in case["timeline"]] == ["submitted", "routed"]
    assert case["timeline"][1]["actor"] == "system" and case["timeline"][1]["to"] == "routed"
    assert case["business_response"] is case["feedback"] is case["decision"] is case["rejection"] is None
    anonymous = desk.case(desk.submit(contact=False)["id"]).json_body
    assert anonymous["contact"] is None and anonymous["kind"] == "signal" and anonymous["agency_due_at"] is None


def test_agency_takes_and_resolves_and_the_consumer_sees_the_result(desk):
    created = desk.submit()
    cid = created["id"]
    desk.clock.advance(hours=2)
    taken = desk.status(cid, {"status": "in_review"})
    assert taken.status_code == 200, taken.body
    assert taken.json_body["status"] == "in_review" and taken.json_body["actions"] == ["resolve", "reject", "reroute"]
    assert taken.json_body["version"] == 2
    resolved = desk.status(cid, {"status": "resolved", "decision": "violation_confirmed",
                                 "result": "Нарушение подтверждено, продавцу выдано предписание."}).json_body
    assert resolved["status"] == "resolved" and resolved["actions"] == []
    assert resolved["decision"]["decision"] == "violation_confirmed"
    assert set(resolved["status_label"]) == {"kk", "ru", "en"}
    assert [(e["type"], e["from"], e["to"]) for e in resolved["timeline"][2:]] == [
        ("taken_in_review", "routed", "in_review"), ("resolved", "in_review", "resolved")]
    view = desk.track(created, lang="kk").json_body
    assert view["status"] == "resolved" and view["result"]["decision"] == "violation_confirmed"
    assert view["result"]["result"] == "Нарушение подтверждено, продавцу выдано предписание."
    assert view["result"]["at"] == "2026-11-27T11:30:01Z"
    assert view["rejection"] is None and view["can_give_feedback"] is False
    assert [e["type"] for e in view["timeline"]] == ["submitted", "routed", "taken_in_review", "resolved"]


def test_the_tracking_view_has_the_contracts_shape_and_nothing_internal(desk):
    """The link may be forwarded: no contact, no contact reference, no BIN, no key ids, no internal notes."""
    created = desk.submit(share=True)
    assert desk.respond(created["id"]).status_code == 200
    assert desk.status(created["id"], TAKE).status_code == 200
    view = desk.track(created).json_body
    assert set(view) == TRACKING_KEYS
    assert view["business"] == {"name": "ТОО «Таза Маркет»"} and view["routing"].keys() == {"method", "confidence"}
    assert view["contact_provided"] is True
    for entry in view["timeline"]:
        assert set(entry) == {"at", "type", "label", "agency"}
    raw = desk.track(created).body.decode()
    stored = desk.stored(created["id"])
    for private in (stored.contact_ref, BIN_A, CONTACT["name"], "7011234567", CONTACT["email"], "key_id", "actor"):
        assert private not in raw, private


def test_agency_rejects_with_a_reason_the_consumer_reads(desk):
    created = desk.submit()
    rejected = desk.status(created["id"], {"status": "rejected", "reason": "Жалоба повторяет обращение № 15."})
    assert rejected.status_code == 200 and rejected.json_body["status"] == "rejected"
    view = desk.track(created).json_body
    assert view["status"] == "rejected" and view["result"] is None
    assert view["rejection"]["reason"] == "Жалоба повторяет обращение № 15."


def _to_state(desk, state: str) -> dict:
    """A fresh complaint brought to `state` through the API."""
    created = desk.submit()
    cid = created["id"]
    steps = {
        "routed": [],
        "business_responded": [lambda: desk.respond(cid)],
        "in_review": [lambda: desk.status(cid, {"status": "in_review"})],
        "resolved": [lambda: desk.status(cid, {"status": "in_review"}),
                     lambda: desk.status(cid, {"status": "resolved", "decision": "not_confirmed", "result": "Не подтвердилось."})],
        "rejected": [lambda: desk.status(cid, {"status": "rejected", "reason": "Не наша компетенция."})],
        "settled": [lambda: desk.respond(cid), lambda: desk.feedback(created, {"accepted": True, "stars": 4})],
        # The seller answered, but the agency decided before the consumer did: the offer can't be taken now.
        "answered, then resolved": [lambda: desk.respond(cid), lambda: desk.status(cid, {"status": "in_review"}),
                                    lambda: desk.status(cid, {"status": "resolved", "decision": "violation_confirmed",
                                                              "result": "Штраф."})],
        "answered, then rejected": [lambda: desk.respond(cid),
                                    lambda: desk.status(cid, {"status": "rejected", "reason": "Не наше."})],
    }[state]
    for step in steps:
        assert step().status_code == 200
    assert desk.stored(cid).status.value == state.rpartition(" ")[2]
    return created


TAKE = {"status": "in_review"}
RESOLVE = {"status": "resolved", "decision": "settled", "result": "Стороны договорились."}
REJECT = {"status": "rejected", "reason": "Без рассмотрения."}


@pytest.mark.parametrize("state,action", [
    ("routed", RESOLVE), ("business_responded", RESOLVE), ("in_review", TAKE),
    ("resolved", TAKE), ("resolved", RESOLVE), ("resolved", REJECT), ("resolved", "reroute"),
    ("rejected", TAKE), ("rejected", RESOLVE), ("rejected", REJECT), ("rejected", "reroute"),
    ("settled", TAKE), ("settled", RESOLVE), ("settled", REJECT), ("settled", "reroute"),
    ("business_responded", "respond"), ("resolved", "respond"), ("rejected", "respond"), ("settled", "respond"),
    ("routed", "feedback"), ("in_review", "feedback"), ("resolved", "feedback"), ("rejected", "feedback"),
    ("answered, then resolved", "feedback"), ("answered, then rejected", "feedback"),
])
def test_invalid_transitions_are_409_and_change_nothing(desk, state, action):
    created = _to_state(desk, state)
    cid = created["id"]
    before = desk.stored(cid)
    if action == "reroute":
        response = desk.reroute(cid, "kgd", lang="ru")
    elif action == "respond":
        response = desk.respond(cid, lang="ru")
    elif action == "feedback":
        response = desk.feedback(created, {"accepted": True, "stars": 5}, lang="ru")
    else:
        response = desk.status(cid, action, lang="ru")
    error = _error(response, 409, "invalid_transition")
    assert error["message"] != "" and not (KAZAKH_LETTERS & set(error["message"])) and response.headers["Content-Language"] == "ru"
    assert desk.stored(cid) == before
    assert desk.services.routing_examples.list_for(cid) == []


def test_rerouting_to_the_same_agency_is_an_invalid_transition_that_says_why(desk):
    cid = desk.submit()["id"]
    error = _error(desk.reroute(cid, "kzpp", lang="kk"), 409, "invalid_transition")
    # The catalogue has words for exactly this ("same_agency"); the console shows them next to the field.
    assert error["fields"]["agency_id"]["code"] == "same_agency", error["fields"]
    assert KAZAKH_LETTERS & set(error["fields"]["agency_id"]["message"]), error["fields"]
    assert desk.stored(cid).version == 1


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("conflict", ["status", "respond twice", "feedback too early", "feedback twice"])
def test_a_conflict_is_explained_in_the_callers_language_down_to_the_field(desk, conflict, lang):
    """Consoles and the tracking page show a field's message next to the field: it must be in kk or ru too."""
    created = desk.submit()
    cid = created["id"]
    if conflict in ("respond twice", "feedback twice"):
        assert desk.respond(cid).status_code == 200
    if conflict == "feedback twice":
        assert desk.feedback(created, {"accepted": False, "stars": 2}).status_code == 200
    call = {
        "status": lambda lang: desk.status(cid, RESOLVE, lang=lang),
        "respond twice": lambda lang: desk.respond(cid, lang=lang),
        "feedback too early": lambda lang: desk.feedback(created, {"accepted": True, "stars": 5}, lang=lang),
        "feedback twice": lambda lang: desk.feedback(created, {"accepted": True, "stars": 5}, lang=lang),
    }[conflict]
    local, english = call(lang), call("en")
    assert local.status_code == english.status_code == 409
    local_error, english_error = local.json_body["error"], english.json_body["error"]
    assert local_error["message"] != english_error["message"] and _cyrillic(local_error["message"])
    assert local_error["fields"].keys() == english_error["fields"].keys() and local_error["fields"]
    for path, detail in local_error["fields"].items():
        assert detail["message"] != english_error["fields"][path]["message"] and _cyrillic(detail["message"]), \
            (path, detail)


# --- validation -----------------------------------------------------------------------------------------------
LONG = "я" * 5001
VALIDATION = [
    ("status", {}, "status"),
    ("status", {"status": "closed"}, "status"),
    ("status", {"status": "resolved"}, "decision"),
    ("status", {"status": "resolved", "decision": "guilty", "result": "Штраф."}, "decision"),
    ("status", {"status": "resolved", "decision": "settled", "result": LONG}, "result"),
    ("status", {"status": "resolved", "decision": "settled", "result": ""}, "result"),
    ("status", {"status": "rejected"}, "reason"),
    ("status", {"status": "rejected", "reason": "\u0000\u202e"}, "reason"),       # nothing left once cleaned
    ("status", {"status": "in_review", "agency_id": "kgd"}, "agency_id"),           # no smuggled fields
    ("reroute", {"agency_id": "fbi", "reason": "Не наше."}, "agency_id"),
    ("reroute", {"agency_id": "kgd"}, "reason"),
    ("reroute", {"agency_id": "kgd", "reason": "Чек.", "status": "resolved"}, "status"),
    ("respond", {"message": "Вернём деньги.", "offer": "cash"}, "offer"),
    ("respond", {"message": "", "offer": "refund"}, "message"),
    ("respond", {"offer": "refund"}, "message"),
    ("respond", {"message": LONG, "offer": "refund"}, "message"),
    ("feedback", {"accepted": True, "stars": 0}, "stars"),
    ("feedback", {"accepted": True, "stars": 6}, "stars"),
    ("feedback", {"accepted": True, "stars": "5"}, "stars"),
    ("feedback", {"accepted": True, "stars": True}, "stars"),
    ("feedback", {"accepted": "yes", "stars": 5}, "accepted"),
    ("feedback", {"stars": 5}, "accepted"),
    ("feedback", {"accepted": True, "stars": 5, "comment": "я" * 2001}, "comment"),
]


def _cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


@pytest.mark.parametrize("where,body,field", VALIDATION, ids=[f"{w}-{f}-{i}" for i, (w, _, f) in enumerate(VALIDATION)])
def test_bad_input_is_422_with_the_field_in_the_callers_language(desk, where, body, field):
    created = desk.submit()
    cid = created["id"]
    if where == "feedback":
        assert desk.respond(cid).status_code == 200
    before = desk.stored(cid)
    path = {"status": f"/agency/complaints/{cid}/status", "reroute": f"/agency/complaints/{cid}/reroute",
            "respond": f"/business/complaints/{cid}/response", "feedback": f"/complaints/{cid}/feedback"}[where]
    auth = {"status": desk.agency(), "reroute": desk.agency(), "respond": desk.business(),
            "feedback": {"X-Tracking-Token": created["tracking_token"]}}[where]
    errors = {}
    for lang in ("kk", "ru", "en"):
        response = desk.api.post(path, body, {**auth, "Accept-Language": f"{lang}-KZ,{lang};q=0.9"})
        errors[lang] = _error(response, 422, "validation_failed")
        assert response.headers["Content-Language"] == lang
        assert field in errors[lang]["fields"], errors[lang]["fields"]
    kk, ru, en = (errors[lang] for lang in ("kk", "ru", "en"))
    # The summary line: Kazakh in kk (with its own letters), Russian in ru (without them), English in en.
    assert KAZAKH_LETTERS & set(kk["message"]) and _cyrillic(ru["message"]) and not KAZAKH_LETTERS & set(ru["message"])
    assert not _cyrillic(en["message"])
    # The field's message: three different texts, the kk and ru ones in Cyrillic; the code stays the same.
    messages = [errors[lang]["fields"][field]["message"] for lang in ("kk", "ru", "en")]
    assert len(set(messages)) == 3 and _cyrillic(messages[0]) and _cyrillic(messages[1]), messages
    assert len({errors[lang]["fields"][field]["code"] for lang in errors}) == 1
    assert desk.stored(cid) == before


@pytest.mark.parametrize("where,body,field", [
    ("status", {"status": "resolved", "decision": "settled", "result": LONG}, "result"),
    ("respond", {"message": LONG, "offer": "refund"}, "message"),
    ("feedback", {"accepted": True, "stars": 5, "comment": "я" * 2001}, "comment"),
])
def test_every_over_long_text_is_a_string_too_long_error_counted_in_characters(desk, where, body, field):
    """Texts are measured in characters and say so, in every language (not "items", as for a list)."""
    created = desk.submit()
    cid = created["id"]
    if where == "feedback":
        assert desk.respond(cid).status_code == 200
    path = {"status": f"/agency/complaints/{cid}/status", "respond": f"/business/complaints/{cid}/response",
            "feedback": f"/complaints/{cid}/feedback"}[where]
    auth = {"status": desk.agency(), "respond": desk.business(),
            "feedback": {"X-Tracking-Token": created["tracking_token"]}}[where]
    detail = _error(desk.api.post(path, body, {**auth, "Accept-Language": "ru"}), 422,
                    "validation_failed")["fields"][field]
    assert detail["code"] == "string_too_long", detail
    assert "символ" in detail["message"], detail


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b'"in_review"'])
def test_a_body_that_is_not_a_json_object_is_400(desk, raw):
    cid = desk.submit()["id"]
    response = desk.api.post(f"/agency/complaints/{cid}/status", raw, desk.agency())
    _error(response, 400, "malformed_json")


# --- concurrent updates ---------------------------------------------------------------------------------------
def test_two_saves_from_the_same_loaded_version_one_wins_the_other_is_a_concurrent_update(desk):
    from chalicelib.domain.complaint import Reject, TakeInReview, transition
    from chalicelib.domain.errors import ConcurrentUpdate
    from chalicelib.domain.model import Actor

    cid = desk.submit()["id"]
    loaded = desk.stored(cid)
    now = desk.clock.now()
    took, _ = transition(loaded, TakeInReview(), actor=Actor("agency", "kzpp", "kaaaaaaaaaaaa"), now=now)
    rejected, _ = transition(loaded, Reject("Без рассмотрения."), actor=Actor("agency", "kzpp", "kbbbbbbbbbbbb"), now=now)
    assert desk.services.complaints.save(took).version == 2
    with pytest.raises(ConcurrentUpdate):
        desk.services.complaints.save(rejected)
    stored = desk.stored(cid)
    assert stored.status.value == "in_review" and stored.version == 2
    assert [e.key_id for e in stored.timeline if e.key_id] == ["kaaaaaaaaaaaa"]


class LoadTogether:
    """Both agents' reads happen before either write (a barrier), as when two people press at once. The
    writes are serialised here because DynamoDB's conditional put is atomic and moto's in-process one is not."""

    def __init__(self, inner):
        self.inner, self.barrier, self.lock = inner, threading.Barrier(2, timeout=10), threading.Lock()

    def get(self, complaint_id, *, consistent=False):
        found = self.inner.get(complaint_id, consistent=consistent)
        self.barrier.wait()
        return found

    def save(self, complaint):
        with self.lock:
            return self.inner.save(complaint)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_two_agents_acting_at_once_one_wins_the_other_gets_a_conflict(desk):
    from chalicelib.domain.complaint import Reject, TakeInReview
    from chalicelib.domain.errors import ConcurrentUpdate
    from chalicelib.services.auth import authenticate, issue_key
    from chalicelib.services.cases import agency_action

    cid = desk.submit()["id"]
    keys = [issue_key(role="agency", label=f"agent {n}", agency_id="kzpp", keys=desk.services.keys,
                      clock=desk.clock).key for n in (1, 2)]
    agents = [authenticate(f"Bearer {k}", keys=desk.services.keys, clock=desk.clock) for k in keys]
    racing = LoadTogether(desk.services.complaints)
    outcomes = {}

    def act(n, command):
        try:
            outcomes[n] = agency_action(agents[n], cid, command, complaints=racing, clock=desk.clock)
        except ConcurrentUpdate as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=act, args=(0, TakeInReview())),
               threading.Thread(target=act, args=(1, Reject("Без рассмотрения.")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    lost = [n for n, o in outcomes.items() if isinstance(o, ConcurrentUpdate)]
    won = [n for n, o in outcomes.items() if not isinstance(o, Exception)]
    assert len(lost) == 1 and len(won) == 1, outcomes
    stored = desk.stored(cid)
    assert stored.version == 2 and stored.status == outcomes[won[0]].status
    assert [e.key_id for e in stored.timeline if e.key_id] == [agents[won[0]].key_id]


class StaleOnce:
    """The next read of one complaint returns an older copy: another agent's write landed between this
    request's read and its save."""

    def __init__(self, inner, snapshot):
        self.inner, self.snapshot = inner, snapshot

    def get(self, complaint_id, *, consistent=False):
        if self.snapshot is not None and complaint_id == self.snapshot.id:
            snapshot, self.snapshot = self.snapshot, None
            return snapshot
        return self.inner.get(complaint_id, consistent=consistent)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("loser", ["status", "reroute", "respond", "feedback"])
def test_a_lost_update_over_http_is_409_concurrent_update_and_leaves_the_winner(desk, loser):
    created = desk.submit()
    cid = created["id"]
    if loser == "feedback":
        assert desk.respond(cid).status_code == 200
    stale = desk.stored(cid)
    assert desk.status(cid, {"status": "in_review"}).status_code == 200  # the winner
    winner = desk.stored(cid)
    real = desk.services.complaints
    desk.services.complaints = StaleOnce(real, stale)
    try:
        response = {
            "status": lambda: desk.status(cid, REJECT, lang="kk"),
            "reroute": lambda: desk.reroute(cid, "kgd", lang="kk"),
            "respond": lambda: desk.respond(cid, lang="kk"),
            "feedback": lambda: desk.feedback(created, {"accepted": True, "stars": 5}, lang="kk"),
        }[loser]()
    finally:
        desk.services.complaints = real
    error = _error(response, 409, "concurrent_update")
    assert KAZAKH_LETTERS & set(error["message"])
    assert desk.stored(cid) == winner
    assert desk.services.routing_examples.list_for(cid) == []  # a reroute that lost leaves no example


# --- reroute --------------------------------------------------------------------------------------------------
def test_reroute_moves_the_case_keeps_an_example_and_the_consumer_sees_the_new_agency(desk):
    created = desk.submit()
    cid = created["id"]
    desk.clock.current = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)  # Thursday, 14:30 in Astana
    moved = desk.reroute(cid, "kgd", reason="Не выдали чек: контрольно-кассовая техника — это КГД.")
    assert moved.status_code == 200, moved.body
    assert moved.json_body == {"id": cid, "status": "routed", "agency": moved.json_body["agency"]}
    assert moved.json_body["agency"]["id"] == "kgd" and set(moved.json_body["agency"]["name"]) == {"kk", "ru", "en"}
    # The correction is a labelled example for the router, naming who made it.
    [example] = desk.services.routing_examples.list_for(cid)
    assert (example.from_agency, example.to_agency, example.text) == ("kzpp", "kgd", TEXT)
    assert example.reason == "Не выдали чек: контрольно-кассовая техника — это КГД."
    assert example.category == "overcharge" and example.routing_method == "category"
    assert example.key_id == desk.demo["keys"]["agencies"]["kzpp"].split(".")[0][3:]
    # It has left kzpp (404 like any other case not its own) and is in kgd's queue, with the contact.
    _error(desk.case(cid), 404, "complaint_not_found")
    case = desk.case(cid, "kgd").json_body
    assert case["status"] == "routed" and case["agency"]["id"] == "kgd" and case["contact"]["name"] == CONTACT["name"]
    assert case["actions"] == ["take", "reject", "reroute"]
    # The new body's 15 working days run from the reroute: Friday 4 December -> Friday 25 December.
    assert case["agency_due_at"] == "2026-12-25T18:59:59Z" and case["business_due_at"] == BUSINESS_DUE
    desk.settle()
    assert cid in [x["id"] for x in desk.queue("/agency/complaints", desk.agency("kgd")).json_body["items"]]
    assert cid not in [x["id"] for x in desk.queue("/agency/complaints", desk.agency()).json_body["items"]]
    view = desk.track(created, lang="ru").json_body
    assert view["agency"]["id"] == "kgd" and view["status"] == "routed"
    assert view["agency_due_at"] == view["due_at"] == "2026-12-25T18:59:59Z"
    assert view["timeline"][-1]["type"] == "rerouted" and view["timeline"][-1]["agency"]["id"] == "kgd"
    assert "note" not in view["timeline"][-1]  # the agencies' internal reason stays internal


def test_rerouting_an_anonymous_signal_to_the_police_makes_it_an_appeal_with_a_term(desk):
    created = desk.submit(contact=False)
    assert desk.case(created["id"]).json_body["agency_due_at"] is None
    assert desk.reroute(created["id"], "police", reason="Угрозы кассира: это полиция.").status_code == 200
    case = desk.case(created["id"], "police").json_body
    assert case["kind"] == "appeal" and case["agency_due_at"] == AGENCY_DUE


# --- the business ---------------------------------------------------------------------------------------------
def test_business_inbox_holds_complaints_about_its_outlets_and_bin_only(desk):
    mine = desk.submit()
    mine_almaty = desk.submit(region="75")
    rival = desk.submit(bin=BIN_B, region="75", category=None,
                        text="Продали неисправный телефон, в гарантийном ремонте отказали без объяснений.")
    named = desk.api.post("/complaints", {
        "business": {"bin": BIN_A, "name": "Таза Маркет", "region": "71", "sector": "grocery"},
        "text": "В магазине без стикера обсчитали на кассе на 300 тенге.", "category": "overcharge",
    }).json_body
    desk.settle()
    inbox = desk.queue("/business/complaints", desk.business()).json_body
    assert [x["id"] for x in inbox["items"]] == [mine["id"], mine_almaty["id"], named["id"]]
    assert set(inbox["items"][0]) == SUMMARY_KEYS
    assert [x["id"] for x in desk.queue("/business/complaints", desk.business(BIN_B)).json_body["items"]] == [rival["id"]]
    _error(desk.business_case(rival["id"]), 404, "complaint_not_found")
    _error(desk.queue("/business/complaints", desk.business(), status="closed"), 422, "validation_failed")
    _error(desk.queue("/business/complaints", desk.business(), limit="500"), 400, "invalid_limit")


def test_business_sees_the_contact_only_with_the_consumers_consent(desk):
    consented, private = desk.submit(share=True), desk.submit(share=False)
    with_contact = desk.business_case(consented["id"]).json_body
    assert with_contact["contact"]["name"] == CONTACT["name"] and with_contact["share_contact_with_business"] is True
    without = desk.business_case(private["id"])
    assert without.json_body["contact"] is None and without.json_body["share_contact_with_business"] is False
    raw = without.body.decode()
    assert CONTACT["name"] not in raw and "7011234567" not in raw and CONTACT["email"] not in raw
    assert "routing" not in without.json_body  # how the router decided is the agencies' business
    assert without.json_body["text"] == TEXT and without.json_body["actions"] == ["respond"]


def test_business_answers_with_an_offer_once(desk):
    created = desk.submit()
    cid = created["id"]
    desk.clock.advance(hours=3)
    answered = desk.respond(cid, offer="replacement", message="Заменим товар и вернём разницу.")
    assert answered.status_code == 200, answered.body
    body = answered.json_body
    assert body["status"] == "business_responded" and body["actions"] == []
    assert body["business_response"]["offer"] == "replacement" and body["business_response"]["at"] == "2026-11-27T12:30:01Z"
    assert set(body["business_response"]["offer_label"]) == {"kk", "ru", "en"}
    assert body["timeline"][-1]["type"] == "business_responded" and body["timeline"][-1]["actor"] == "business"
    _error(desk.respond(cid), 409, "invalid_transition")
    view = desk.track(created).json_body
    assert view["business_response"]["message"] == "Заменим товар и вернём разницу."
    assert view["business_response"]["offer"] == "replacement" and view["can_give_feedback"] is True
    assert desk.case(cid).json_body["business_response"]["offer"] == "replacement"


def test_an_answer_while_the_agency_reviews_is_recorded_and_the_status_stays(desk):
    created = desk.submit()
    assert desk.status(created["id"], TAKE).status_code == 200
    answered = desk.respond(created["id"]).json_body
    assert answered["status"] == "in_review" and answered["business_response"]["offer"] == "refund"
    assert desk.track(created).json_body["can_give_feedback"] is True


# --- the consumer's feedback ----------------------------------------------------------------------------------
def test_the_consumer_accepts_the_offer_once_and_the_agency_sees_it_settled(desk):
    created = desk.submit()
    cid = created["id"]
    desk.settle()
    _, cursor = desk.poll_all("/agency/complaints", desk.agency())
    _error(desk.feedback(created, {"accepted": True, "stars": 5}), 409, "invalid_transition")  # nothing to accept yet
    assert desk.respond(cid).status_code == 200
    accepted = desk.feedback(created, {"accepted": True, "stars": 5, "comment": "  Спасибо, деньги вернули.  "},
                             via_query=True)
    assert accepted.status_code == 200, accepted.body
    view = accepted.json_body
    assert view["status"] == "settled" and view["can_give_feedback"] is False
    assert view["feedback"]["accepted"] is True and view["feedback"]["stars"] == 5
    assert view["feedback"]["comment"] == "Спасибо, деньги вернули."
    assert accepted.headers["Cache-Control"] == "no-store"
    error = _error(desk.feedback(created, {"accepted": False, "stars": 1}, lang="ru"), 409, "feedback_already_given")
    assert not KAZAKH_LETTERS & set(error["message"]) and error["message"]
    assert desk.stored(cid).feedback.stars == 5
    case = desk.case(cid).json_body
    assert case["status"] == "settled" and case["actions"] == [] and case["feedback"]["stars"] == 5
    desk.settle()
    changed, _ = desk.poll_all("/agency/complaints", desk.agency(), cursor=cursor)
    assert [(x["id"], x["status"]) for x in changed] == [(cid, "settled")]


def test_the_consumer_rejects_the_offer_and_the_agency_carries_on(desk):
    created = desk.submit()
    assert desk.respond(created["id"], offer="apology", message="Извините.").status_code == 200
    rejected = desk.feedback(created, {"accepted": False, "stars": 1, "comment": "Деньги так и не вернули."})
    assert rejected.status_code == 200
    assert rejected.json_body["status"] == "routed" and rejected.json_body["feedback"]["accepted"] is False
    case = desk.case(created["id"]).json_body
    assert case["status"] == "routed" and case["actions"] == ["take", "reject", "reroute"]
    assert [e["type"] for e in case["timeline"]][-2:] == ["business_responded", "offer_rejected"]
    _error(desk.feedback(created, {"accepted": True, "stars": 5}), 409, "feedback_already_given")
    assert desk.status(created["id"], TAKE).json_body["status"] == "in_review"


def test_feedback_needs_the_complaints_own_token(desk):
    created, other = desk.submit(), desk.submit()
    assert desk.respond(created["id"]).status_code == 200
    for headers in ({}, {"X-Tracking-Token": other["tracking_token"]}, {"X-Tracking-Token": "x" * 25}):
        response = desk.api.post(f"/complaints/{created['id']}/feedback", {"accepted": True, "stars": 5}, headers)
        _error(response, 404, "complaint_not_found")
    assert desk.stored(created["id"]).feedback is None


# --- deadlines in the views -----------------------------------------------------------------------------------
def test_due_dates_are_ten_calendar_days_for_the_business_and_fifteen_working_days_for_the_agency(desk):
    created = desk.submit()
    cid = created["id"]
    desk.settle()
    summary = next(x for x in desk.queue("/agency/complaints", desk.agency()).json_body["items"] if x["id"] == cid)
    inbox = next(x for x in desk.queue("/business/complaints", desk.business()).json_body["items"] if x["id"] == cid)
    views = [summary, inbox, desk.case(cid).json_body, desk.business_case(cid).json_body, desk.track(created).json_body]
    for view in views:
        assert (view["business_due_at"], view["agency_due_at"]) == (BUSINESS_DUE, AGENCY_DUE)
    assert views[-1]["due_at"] == AGENCY_DUE


@pytest.mark.parametrize("submitted,business_due,agency_due", [
    # 23:59 in Astana on Friday: the Friday counts as day 0.
    (datetime(2026, 11, 27, 18, 59, tzinfo=timezone.utc), "2026-12-07T18:59:59Z", "2026-12-21T18:59:59Z"),
    # One minute later it is Saturday in Astana (still Friday in UTC): one more calendar day for the business;
    # the agency's working days start on Monday either way.
    (datetime(2026, 11, 27, 19, 0, tzinfo=timezone.utc), "2026-12-08T18:59:59Z", "2026-12-21T18:59:59Z"),
    # Tuesday 15 December: skip Independence Day (Wed 16 Dec), New Year (Fri 1 Jan; 2 January is a Saturday,
    # so its day off moves to Monday 4 January) and Orthodox Christmas (Thu 7 Jan) -> Monday 11 January.
    (datetime(2026, 12, 15, 5, 0, tzinfo=timezone.utc), "2026-12-25T18:59:59Z", "2027-01-11T18:59:59Z"),
])
def test_due_dates_count_in_astana_time_and_skip_holidays(desk, submitted, business_due, agency_due):
    desk.clock.current = submitted
    created = desk.submit()
    view = desk.track(created).json_body
    assert (view["business_due_at"], view["agency_due_at"]) == (business_due, agency_due)
