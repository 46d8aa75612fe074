"""The contact vault lives on its own store (personal-data law No. 94-V, Art. 12(2)): over real HTTP against
`python -m local`, a whole case with an identified complainant (submitted, answered by the business,
rejected by the consumer, resolved by the agency, every stream reaction run) leaves the complainant's name,
phone and email on the vault's endpoint only. Every item of every table on the AWS-side endpoint is read
and searched, the phone in each way it can be written.
"""
import json
import re
import uuid

import boto3
import pytest

from tests.e2e.conftest import start_stack

NAME = "Гульнара Жумабекова"
PHONE_AS_TYPED = "8 (705) 318-64-29"      # the service normalises it to +77053186429
PHONE_FORMS = ("+77053186429", "87053186429", "77053186429", "7053186429", "+7 705 318 64 29", "318-64-29")
EMAIL = "g.zhumabekova.vault@example.kz"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s, _ = start_stack(tmp_path_factory.mktemp("vault"))
    yield s
    s.process.terminate()
    s.process.wait(timeout=20)


def dynamodb(endpoint):
    # Dummy credentials: moto accepts any, and nothing here may reach a real AWS account.
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-central-1",
                        aws_access_key_id="local", aws_secret_access_key="local", aws_session_token="local")


def every_item(client):
    """{table: [item, ...]} for every table on an endpoint, every page of every scan."""
    items = {}
    for table in client.list_tables()["TableNames"]:
        items[table] = [item for page in client.get_paginator("scan").paginate(TableName=table)
                        for item in page["Items"]]
    return items


def strings(value):
    """Every string inside a DynamoDB item (typed attribute values, maps, lists, sets, binaries)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from strings(v)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="ignore")
    elif isinstance(value, str):
        yield value
        # a JSON-encoded attribute is searched as the text it decodes to as well (escaped Cyrillic)
        if value[:1] in "{[":
            try:
                yield from strings(json.loads(value))
            except ValueError:
                pass


def leaks(text):
    """Which of the complainant's identifiers a string contains, in any spelling."""
    found = []
    lowered = text.casefold()
    if NAME.casefold() in lowered or any(part.casefold() in lowered for part in NAME.split()):
        found.append("name")
    digits = re.sub(r"\D", "", text)
    if any(form in text for form in PHONE_FORMS) or "7053186429" in digits:
        found.append("phone")
    if EMAIL.casefold() in lowered or EMAIL.split("@")[0].casefold() in lowered:
        found.append("email")
    return found


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def run_case(stack):
    """Submit with a full contact, the business answers, the consumer rejects, the agency resolves."""
    keys = stack.demo["keys"]
    outlet = next(o for o in stack.demo["outlets"] if o["sector"] == "grocery" and o["region"] == "71")
    status, created = stack.json("POST", "/complaints", {
        "outlet_code": outlet["code"], "category": "overcharge", "language": "ru", "channel": "qr",
        "text": "На кассе пробили пакет молока дважды, переплата 640 тенге, вернуть отказались.",
        "contact": {"name": NAME, "phone": PHONE_AS_TYPED, "email": EMAIL}, "share_contact_with_business": True,
    }, {"Idempotency-Key": f"e2e-vault-{uuid.uuid4()}"})
    assert status == 201, created
    cid, token = created["id"], {"X-Tracking-Token": created["tracking_token"]}

    business = auth(keys["businesses"][outlet["business_bin"]])
    status, case = stack.json("GET", f"/business/complaints/{cid}", headers=business)
    # shared with the business: read back from the vault, so the vault really holds it
    assert status == 200 and case["contact"] == {"name": NAME, "phone": "+77053186429", "email": EMAIL}, case
    status, body = stack.json("POST", f"/business/complaints/{cid}/response",
                              {"message": "Приносим извинения, вернём разницу на карту.", "offer": "refund"}, business)
    assert status == 200 and body["status"] == "business_responded", body
    status, body = stack.json("POST", f"/complaints/{cid}/feedback",
                              {"accepted": False, "stars": 1, "comment": "Деньги так и не вернули."}, token)
    assert status == 200, body

    agency = auth(keys["agencies"]["kzpp"])
    status, body = stack.json("POST", f"/agency/complaints/{cid}/status", {"status": "in_review"}, agency)
    assert status == 200 and body["status"] == "in_review", body
    assert body["contact"]["phone"] == "+77053186429"
    status, body = stack.json("POST", f"/agency/complaints/{cid}/status", {
        "status": "resolved", "decision": "violation_confirmed",
        "result": "Нарушение подтверждено, продавцу выдано предписание."}, agency)
    assert status == 200 and body["status"] == "resolved", body
    # every stream reaction to the case (notifications, counters, the ledger) has run and written what it writes
    status, body = stack.json("POST", "/_local/streams/sync")
    assert status == 200, body
    status, outbox = stack.json("GET", f"/_local/outbox?complaint_id={cid}")
    assert status == 200 and outbox, outbox
    return cid


def test_the_complainants_identifiers_are_on_the_vault_endpoint_only(stack):
    main_url, vault_url = stack.demo["dynamodb_endpoint"], stack.demo["vault_endpoint"]
    assert main_url != vault_url
    cid = run_case(stack)

    contacts = "qalqan-local-contacts"
    main_items, vault_items = every_item(dynamodb(main_url)), every_item(dynamodb(vault_url))
    telegram = "qalqan-local-telegram"  # the bot's chat ids and conversations: vault side too (docs/telegram.md)
    assert contacts not in main_items and telegram not in main_items and sorted(vault_items) == [contacts, telegram]
    assert {"qalqan-local-complaints", "qalqan-local-reactions", "qalqan-local-analytics"} <= set(main_items)

    # The case itself is on the AWS side, with only a pseudonymous reference to its contact
    complaint = next(i for i in main_items["qalqan-local-complaints"] if i["id"]["S"] == cid)
    assert complaint["status"]["S"] == "resolved"
    ref = complaint["contact_ref"]["S"]

    found = {(table, kind) for table, items in main_items.items() for item in items
             for text in strings(item) for kind in leaks(text)}
    assert found == set(), f"personal data on the AWS-side endpoint: {sorted(found)}"

    # ... and the vault holds it under that reference
    held = next(i for i in vault_items[contacts] if i["ref"]["S"] == ref)
    assert (held["name"]["S"], held["phone"]["S"], held["email"]["S"]) == (NAME, "+77053186429", EMAIL)
    assert leaks(" ".join(strings(held))) == ["name", "phone", "email"]  # the search finds what is there
