"""The reactions on moto's real stream records, through the Lambda entry point (`reactions`), with the real
adapters: counters and ledger on DynamoDB, SNS topic and SMS, SES email, the SQS parking lot.

Each test drives complaints through the HTTP API, reads what the complaints table's stream recorded, and
delivers it to the handler the way Lambda does: once, twice, replayed after a failure, with throttling
injected, with a poison record, out of order.
"""
import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

H = {"Content-Type": "application/json"}
SENDER = "no-reply@qalqan.kz"


@pytest.fixture
def world(aws, demo, client):
    """The app wired to moto's SNS, SES and SQS, an SQS queue subscribed to the topic (what an agency's
    subscription would see), and a reader of the complaints table's stream."""
    import boto3

    from chalicelib.adapters.messaging import AwsNotifier
    from chalicelib.adapters.parking import SqsParkingLot
    from chalicelib.adapters.tables import ComplaintTable
    from chalicelib.bootstrap import container, use_container
    from local.streams import StreamReader

    sns, sqs, ses = boto3.client("sns"), boto3.client("sqs"), boto3.client("ses")
    topic = sns.create_topic(Name="qalqan-test-notifications")["TopicArn"]
    parked = sqs.create_queue(QueueName="qalqan-test-parked")["QueueUrl"]
    watch = sqs.create_queue(QueueName="watch")["QueueUrl"]
    watch_arn = sqs.get_queue_attributes(QueueUrl=watch, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=watch_arn, Attributes={"RawMessageDelivery": "true"})
    ses.verify_email_identity(EmailAddress=SENDER)
    base = container()
    settings = replace(base.settings, notifications_topic_arn=topic, parked_queue_url=parked, email_sender=SENDER)
    c = replace(base, settings=settings, notifier=AwsNotifier(settings), parking=SqsParkingLot(parked, settings.aws_region))
    use_container(c)

    class World:
        pass

    w = World()
    w.c, w.demo, w.client, w.sqs, w.ses, w.watch, w.parked, w.topic = c, demo, client, sqs, ses, watch, parked, topic
    w.reader = StreamReader(ComplaintTable.Meta.table_name)
    w.reader.read()  # start after the seed

    def post(path, body, key=None, **headers):
        if key:
            headers["Authorization"] = f"Bearer {key}"
        response = client.http.post(path, body=json.dumps(body), headers={**H, **headers})
        assert response.status_code in (200, 201), response.body
        return json.loads(response.body)

    def get(path, key=None):
        response = client.http.get(path, headers={"Authorization": f"Bearer {key}"} if key else {})
        assert response.status_code == 200, response.body
        return json.loads(response.body)

    def deliver(records):
        return client.lambda_.invoke("reactions", {"Records": records}).payload

    w.post, w.get, w.deliver = post, get, deliver
    return w


def _topic_messages(w):
    out = []
    while True:
        got = w.sqs.receive_message(QueueUrl=w.watch, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        if not got.get("Messages"):
            return out
        for m in got["Messages"]:
            out.append(json.loads(m["Body"]))
            w.sqs.delete_message(QueueUrl=w.watch, ReceiptHandle=m["ReceiptHandle"])


def _emails(w):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [(m.destinations["ToAddresses"][0], m.subject) for m in
            ses_backends[DEFAULT_ACCOUNT_ID][w.c.settings.aws_region].sent_messages]


def _state(w, outlet, bin_):
    analyst = w.demo["keys"]["analyst"]
    day = w.c.clock.now().astimezone(w.c.rules.tz).date().isoformat()  # the complaint's local day
    summary = w.get(f"/analytics/summary?from={day}&to={day}&group_by=agency", analyst)
    return {
        "outlet": w.get(f"/ratings/outlets/{outlet}"),
        "business": w.get(f"/ratings/businesses/{bin_}"),
        "summary": summary["groups"],
        "emails": sorted(_emails(w)),
    }


def _story(w, outlet, email="aigerim@example.kz"):
    """A complaint with an email contact, answered by the seller, the offer accepted with 4 stars."""
    made = w.post("/complaints", {"outlet_code": outlet["code"], "language": "kk",
                                  "text": "Мерзімі өткен айран сатты, чек бермеді.",
                                  "contact": {"name": "Айгерим Садыкова", "email": email}},
                  **{"Idempotency-Key": f"story-{outlet['code']}-{email}"})
    bkey = w.demo["keys"]["businesses"][outlet["business_bin"]]
    w.post(f"/business/complaints/{made['id']}/response", {"message": "Ақшаңызды қайтарамыз.", "offer": "refund"}, bkey)
    w.post(f"/complaints/{made['id']}/feedback", {"accepted": True, "stars": 4},
           **{"X-Tracking-Token": made["tracking_token"]})
    return made


def test_one_delivery_notifies_every_audience_and_moves_ratings_and_counters(world):
    w = world
    outlet = w.demo["outlets"][0]
    made = _story(w, outlet)
    records = w.reader.read()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY"]
    result = w.deliver(records)
    assert result["parked"] == 0 and result["records"] == 3
    topic = _topic_messages(w)
    agency = [m for m in topic if m.get("agency") == made["agency"]["id"] and m["complaint_id"] == made["id"]]
    assert len(agency) == 1 and "Мерзімі" not in json.dumps(topic, ensure_ascii=False)
    emails = [e for e in _emails(w) if e[0] == "aigerim@example.kz"]
    assert len(emails) == 3  # received, the seller answered, settled
    state = _state(w, outlet["code"], outlet["business_bin"])
    assert state["outlet"]["components"]["stars"]["count"] == 1
    assert state["business"]["components"]["stars"]["count"] == 1
    assert state["outlet"]["components"]["settled"]["count"] >= 1
    (group,) = [g for g in state["summary"] if g["agency"] == made["agency"]["id"]]
    assert (group["count"], group["settled"], group["business_answered"]) == (1, 1, 1)


def test_every_record_twice_and_the_batch_again_leave_everything_as_one_delivery(world):
    w = world
    outlet = w.demo["outlets"][0]
    _story(w, outlet)
    records = w.reader.read()
    w.deliver(records)
    first_topic, first = _topic_messages(w), _state(w, outlet["code"], outlet["business_bin"])
    again = w.deliver([r for r in records for _ in range(2)])
    w.deliver(records)
    assert again["reactions"] == 0 and again["skipped"] > 0
    assert _topic_messages(w) == [] and _state(w, outlet["code"], outlet["business_bin"]) == first
    assert first_topic  # the first delivery did publish


def test_a_batch_retried_after_a_failure_in_its_middle_ends_as_one_delivery(world, monkeypatch):
    """The consumer email of the second record fails and SQS is down, so the handler raises and Lambda
    delivers the whole batch again; then everything is there exactly once."""
    from chalicelib.streams.processor import RecordsNotParked

    w = world
    outlet = w.demo["outlets"][0]
    made = _story(w, outlet)
    records = w.reader.read()
    real_send, calls = w.c.notifier.send, []

    def flaky(message):
        calls.append(message.template)
        if message.template == "consumer.business_responded" and calls.count(message.template) == 1:
            from chalicelib.services.ports import DeliveryFailed
            raise DeliveryFailed("550 mailbox unavailable", transient=False)
        real_send(message)

    monkeypatch.setattr(w.c.notifier, "send", flaky)
    monkeypatch.setattr(w.c.parking, "park", lambda payload: (_ for _ in ()).throw(RuntimeError("SQS down")))
    with pytest.raises(RecordsNotParked):
        w.deliver(records)
    w.deliver(records)
    emails = [e for e in _emails(w) if e[0] == "aigerim@example.kz"]
    assert len(emails) == 3 == len(set(emails))
    assert len(_topic_messages(w)) == 2 + len(made["secondary_agencies"])  # the agency, the business, a second body
    assert _state(w, outlet["code"], outlet["business_bin"])["outlet"]["components"]["stars"]["count"] == 1


def test_throttling_injected_into_dynamodb_and_sns_is_retried_and_nothing_is_lost_or_doubled(world, monkeypatch):
    from chalicelib.adapters.counters import _client as ddb_client

    w = world
    monkeypatch.setattr("chalicelib.streams.processor.BACKOFF", (0, 0, 0))
    outlet = w.demo["outlets"][0]
    made = _story(w, outlet)
    records = w.reader.read()
    budget = {"TransactWriteItems": 3, "Publish": 2}

    def throttle(model, params, **kwargs):
        name = model.name
        if budget.get(name, 0) > 0:
            budget[name] -= 1
            code = "ThrottlingException" if name == "TransactWriteItems" else "Throttling"
            return (SimpleNamespace(status_code=400, headers={}), {"Error": {"Code": code, "Message": "slow down"},
                                           "ResponseMetadata": {"HTTPStatusCode": 400}})
        return None

    ddb_client().meta.events.register("before-call.dynamodb.TransactWriteItems", throttle, unique_id="t-ddb")
    sns = w.c.notifier._client("sns")
    sns.meta.events.register("before-call.sns.Publish", throttle, unique_id="t-sns")
    try:
        result = w.deliver(records)
    finally:
        ddb_client().meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="t-ddb")
    assert budget == {"TransactWriteItems": 0, "Publish": 0}  # the failures did happen
    assert result["parked"] == 0
    assert len(_topic_messages(w)) == 2 + len(made["secondary_agencies"])  # the agency, the business, a second body
    state = _state(w, outlet["code"], outlet["business_bin"])
    assert state["outlet"]["components"]["stars"]["count"] == 1
    assert [g["count"] for g in state["summary"]] == [1]


def test_a_poison_record_is_parked_does_not_block_the_rest_and_replay_parked_redrives_it(world, capsys):
    """The SES sender is not verified for a while: the consumer emails fail permanently and their records are
    parked in SQS; the other complaint's records and every other reaction go through. After the fix,
    `python -m tools.admin replay-parked` sends what is missing and nothing twice."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.bootstrap import use_container
    from tools.admin import main as admin

    w = world
    w.ses.delete_identity(Identity=SENDER)
    first, second = w.demo["outlets"][0], w.demo["outlets"][1]
    _story(w, first)
    anonymous = w.post("/complaints", {"outlet_code": second["code"], "language": "ru",
                                       "text": "Грязные столы и нет мыла в туалете."},
                       **{"Idempotency-Key": "anon-0001-aaaa"})
    records = w.reader.read()
    result = w.deliver(records)
    assert result["parked"] == 3  # the three records that would email the consumer
    parked = w.sqs.get_queue_attributes(QueueUrl=w.parked, AttributeNames=["ApproximateNumberOfMessages"])
    assert parked["Attributes"]["ApproximateNumberOfMessages"] == "3"
    topic = _topic_messages(w)
    assert {m["complaint_id"] for m in topic} >= {anonymous["id"]}  # the record behind was not blocked
    stars = _state(w, first["code"], first["business_bin"])["outlet"]["components"]["stars"]["count"]
    assert stars == 1  # the ratings of the parked records were done: only the email failed

    w.ses.verify_email_identity(EmailAddress=SENDER)
    use_container(w.c)
    assert admin(["replay-parked"]) == 0
    assert "replayed 3 parked record(s)" in capsys.readouterr().out
    sent = [m for m in ses_backends[DEFAULT_ACCOUNT_ID][w.c.settings.aws_region].sent_messages]
    assert len(sent) == 3
    assert _topic_messages(w) == []  # nothing published twice
    assert _state(w, first["code"], first["business_bin"])["outlet"]["components"]["stars"]["count"] == 1
    assert w.sqs.receive_message(QueueUrl=w.parked).get("Messages") is None


def test_insert_then_modify_with_a_failure_between_ends_in_the_right_state(world, monkeypatch):
    """The INSERT's counters fail (parked), the MODIFY goes through first, the INSERT is replayed after:
    the counters and the rating end as in a clean, ordered delivery."""
    from chalicelib.streams import processor

    w = world
    outlet = w.demo["outlets"][0]
    _story(w, outlet)
    insert, *modifies = w.reader.read()
    real = processor.reactions_for

    def broken_counters_for_the_insert(event):
        found = real(event)
        if type(event).__name__ == "ComplaintChanged" and event.previous is None:
            def fail(envelope, c, marker):
                raise ValueError("bug in the counters")
            return tuple(replace(r, fn=fail) for r in found)
        return found

    monkeypatch.setattr(processor, "reactions_for", broken_counters_for_the_insert)
    assert w.deliver([insert])["parked"] == 1
    w.deliver(modifies)
    monkeypatch.setattr(processor, "reactions_for", real)
    assert processor.replay_parked(w.c)["replayed"] == 1
    state = _state(w, outlet["code"], outlet["business_bin"])
    (group,) = state["summary"]
    assert (group["count"], group["settled"], group["business_answered"]) == (1, 1, 1)
    assert state["outlet"]["components"]["stars"]["count"] == 1
    assert state["outlet"]["count"] == 1  # one voice: the complaint (its feedback stars are that same voice)


def test_a_batch_lambda_gave_up_on_is_read_back_from_the_stream_and_replayed(world):
    """The packaged path's on-failure destination sends the shard and sequence range, not the records."""
    from chalicelib.streams.processor import replay_parked

    w = world
    outlet = w.demo["outlets"][0]
    made = _story(w, outlet)
    records = w.reader.read()
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    shard = w.reader._shards()[0]
    w.sqs.send_message(QueueUrl=w.parked, MessageBody=json.dumps({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": sequences[0],
                               "endSequenceNumber": sequences[-1], "batchSize": 3,
                               "streamArn": w.reader.stream_arn}}))
    assert replay_parked(w.c)["replayed"] == 1
    assert len([e for e in _emails(w) if e[0] == "aigerim@example.kz"]) == 3
    assert len(_topic_messages(w)) == 2 + len(made["secondary_agencies"])  # the agency, the business, a second body
