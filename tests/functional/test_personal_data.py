"""Complainants' names, phones and emails live in the contact vault and nowhere else: not in any other table,
not in its change stream, not in views that are not entitled to them, not in the logs."""
from __future__ import annotations

import json
import logging

import boto3
import pytest

TEXT = "Обсчитали на кассе: пробили йогурт дважды, вернуть деньги отказались, чек не дали."
# Spellings a leak could take: as typed, as normalised (E.164, lower-case domain), and in parts.
AIDANA = {"name": "Жанар Әбілқызы, ИИН 900214450157", "phone": "+7 701 555 12 34",
          "email": "Zhanar.Abilkyzy@Example.KZ"}
ERLAN = {"name": "Ерлан Қасымов", "phone": "8 707 555 33 11", "email": "erlan.kasymov@example.kz"}
NEEDLES = ("Жанар", "Әбілқызы", "900214450157", "7015551234", "701 555 12 34", "zhanar.abilkyzy",
           "Ерлан", "Қасымов", "7075553311", "707 555 33 11", "erlan.kasymov")


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [n for n in NEEDLES if n.lower() in low]


@pytest.fixture
def cases(api, demo, caplog):
    """Three complaints to kzpp about the same grocery outlet, then worked by everybody:
    1. Жанар, who agreed to share her contact with the seller; the seller answers, she accepts.
    2. Ерлан, who did not; the seller answers, the agency reroutes it to ktrm.
    3. an anonymous one; the agency takes it in review."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="qalqan")
    outlet = next(o["code"] for o in demo["outlets"] if o["sector"] == "grocery" and o["region"] == "71")
    keys = demo["keys"]
    agency = {"Authorization": f"Bearer {keys['agencies']['kzpp']}"}
    seller = {"Authorization": f"Bearer {keys['businesses']['940140000385']}"}
    bodies = [
        {"contact": AIDANA, "share_contact_with_business": True},
        {"contact": ERLAN, "share_contact_with_business": False},
        {},
    ]
    created, raw = [], []
    for extra in bodies:
        response = api.post("/complaints", {"outlet_code": outlet, "category": "overcharge", "text": TEXT, **extra})
        assert response.status_code == 201, response.body
        created.append(response.json_body)
        raw.append(response.body.decode())
    first, second, third = (c["id"] for c in created)
    tokens = [c["tracking_token"] for c in created]
    answers = {}
    for cid in (first, second):
        answered = api.post(f"/business/complaints/{cid}/response", {"message": "Вернём деньги.", "offer": "refund"},
                            seller)
        assert answered.status_code == 200, answered.body
        answers[cid] = answered.json_body
    raw.append(json.dumps(answers[second], ensure_ascii=False))  # Ерлан did not consent
    feedback = api.post(f"/complaints/{first}/feedback", {"accepted": True, "stars": 5},
                        {"X-Tracking-Token": tokens[0]})
    assert feedback.status_code == 200 and feedback.json_body["status"] == "settled", feedback.body
    raw.append(feedback.body.decode())
    rerouted = api.post(f"/agency/complaints/{second}/reroute", {"agency_id": "ktrm", "reason": "Весы — метрология."},
                        agency)
    assert rerouted.status_code == 200, rerouted.body
    taken = api.post(f"/agency/complaints/{third}/status", {"status": "in_review"}, agency)
    assert taken.status_code == 200
    return {"ids": (first, second, third), "tokens": tokens, "agency": agency, "seller": seller,
            "ktrm": {"Authorization": f"Bearer {keys['agencies']['ktrm']}"}, "responses": raw, "answers": answers}


def _scan_all(table_name: str) -> list[dict]:
    client = boto3.client("dynamodb")
    items, start = [], {}
    while True:
        page = client.scan(TableName=table_name, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_no_table_but_the_vault_holds_a_name_phone_or_email(cases, services):
    # GIVEN every table of this stage, read in full (a test may Scan; a request never does)
    vault = services.settings.table_name("contacts")
    tables = [t for t in boto3.client("dynamodb").list_tables()["TableNames"]
              if t.startswith(services.settings.table_prefix + "-")]
    others = {t: _scan_all(t) for t in tables if t != vault}
    # THEN the tables that were written to are all there, with the complaints, keys and router examples in them
    short = {t.removeprefix(services.settings.table_prefix + "-") for t in others}
    assert {"complaints", "routing-examples", "api-keys", "businesses", "outlets"} <= short
    assert all(others[services.settings.table_name(t)] for t in ("complaints", "routing-examples", "api-keys"))
    # AND none of them holds a name, phone or email, in any spelling, in any attribute
    for table, items in others.items():
        leaks = _leaks(json.dumps(items, ensure_ascii=False))
        assert not leaks, f"{table} holds {leaks}"
    # AND the vault does hold them (so the needles above are the real stored spellings)
    stored = json.dumps(_scan_all(vault), ensure_ascii=False)
    assert "+77015551234" in stored and "Zhanar.Abilkyzy@example.kz" in stored and "900214450157" in stored
    assert "+77075553311" in stored and "Ерлан Қасымов" in stored


def test_the_complaints_change_stream_never_carried_them(cases, services):
    # The stream keeps every version of every item for 24 h: a contact written once and removed would stay.
    from chalicelib.adapters.tables import ComplaintTable

    dynamodb = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=ComplaintTable.Meta.table_name)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    # 3 submissions, 2 answers, 1 acceptance, 1 reroute, 1 take
    assert len(records) == 8
    assert not _leaks(json.dumps(records, ensure_ascii=False, default=str))


def test_the_handling_agency_sees_the_contact_and_the_previous_one_no_longer_does(api, cases):
    first, second, third = cases["ids"]
    detail = api.get(f"/agency/complaints/{first}", cases["agency"]).json_body
    assert detail["contact"] == {"name": "Жанар Әбілқызы, ИИН 900214450157", "phone": "+77015551234",
                                 "email": "Zhanar.Abilkyzy@example.kz"}
    assert detail["contact_provided"] is True and detail["share_contact_with_business"] is True
    # The rerouted case: its new agency sees the contact; the old one no longer sees the case at all
    moved = api.get(f"/agency/complaints/{second}", cases["ktrm"])
    assert moved.status_code == 200
    assert moved.json_body["contact"] == {"name": "Ерлан Қасымов", "phone": "+77075553311",
                                          "email": "erlan.kasymov@example.kz"}
    assert api.get(f"/agency/complaints/{second}", cases["agency"]).status_code == 404
    anonymous = api.get(f"/agency/complaints/{third}", cases["agency"]).json_body
    assert anonymous["contact"] is None and anonymous["contact_provided"] is False


def test_the_seller_sees_the_contact_only_with_the_consumers_consent(api, cases):
    first, second, third = cases["ids"]
    shared = api.get(f"/business/complaints/{first}", cases["seller"]).json_body
    assert shared["contact"] == {"name": "Жанар Әбілқызы, ИИН 900214450157", "phone": "+77015551234",
                                 "email": "Zhanar.Abilkyzy@example.kz"}
    withheld = api.get(f"/business/complaints/{second}", cases["seller"])
    assert withheld.status_code == 200 and withheld.json_body["contact"] is None
    assert withheld.json_body["share_contact_with_business"] is False
    assert not _leaks(withheld.body.decode())
    assert "routing" not in withheld.json_body  # the router's internals are for agencies
    assert api.get(f"/business/complaints/{third}", cases["seller"]).json_body["contact"] is None
    # AND the answer to the seller's response is the same business view: with the contact only if shared
    assert cases["answers"][first]["contact"] == shared["contact"]
    assert cases["answers"][second]["contact"] is None


def test_queues_tracking_views_and_action_answers_never_show_a_contact(api, cases):
    first, second, _ = cases["ids"]
    bodies = list(cases["responses"])  # submissions, the answer without consent, the consumer's feedback
    views = {}
    for cid, token in zip(cases["ids"], cases["tokens"]):
        view = api.get(f"/complaints/{cid}", {"X-Tracking-Token": token})
        assert view.status_code == 200
        views[cid] = view.json_body
        bodies.append(view.body.decode())
    for path, headers in (("/agency/complaints", cases["agency"]), ("/agency/complaints", cases["ktrm"]),
                          ("/business/complaints", cases["seller"])):
        queue = api.get(path, headers)
        assert queue.status_code == 200
        bodies.append(queue.body.decode())
    assert views[first]["contact_provided"] is True and views[second]["contact_provided"] is True
    assert not any("contact" in view for view in views.values())
    for body in bodies:
        assert not _leaks(body), body[:300]


def test_no_log_line_carries_a_contact(api, cases, caplog):
    first, second, _ = cases["ids"]
    # AND reading the cases (the agency and the seller with consent see the contact) logs none of it either
    api.get(f"/agency/complaints/{first}", cases["agency"])
    api.get(f"/agency/complaints/{second}", cases["ktrm"])
    api.get(f"/business/complaints/{first}", cases["seller"])
    logged = caplog.get_records("setup") + caplog.records  # the fixture's requests, then this test's
    records = [(r.name, r.levelname, r.getMessage(), {k: v for k, v in vars(r).items() if k not in ("msg", "args")})
               for r in logged]
    # THEN there are access log lines for every request (so the capture works) and none carries a contact
    statuses = [extra.get("status") for _, _, _, extra in records if extra.get("status") is not None]
    assert statuses.count(201) == 3 and statuses.count(200) >= 8
    assert not _leaks(repr(records))
