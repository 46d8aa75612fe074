"""Stream reactions in-process on moto: records per second, DynamoDB requests per record and per reaction,
the same on a redelivery, and on paper the AWS cost of a million complaints a year.

    python -m bench.stream_reactions [--n 50]

N complaints go through the real API (chalice.test.Client); each then takes a few transitions (the business
answers; the consumer accepts, or rejects and the agency takes the case and decides). Moto's stream records of
all of it are then fed to `process_records` in Lambda-sized batches of 100, with the real adapters: counters
and ledger on DynamoDB, AwsNotifier on moto's SNS and SES. Requests are counted with botocore `before-call`
events, attributed to the reaction that made them by wrapping the processor's `Runner._run`. Then the same
records are delivered a second time.

Throughput is moto-bound and single-threaded: it shows relative cost, not AWS latency. Moto also deep-copies
every table a TransactWriteItems touches (its rollback), and the reactions ledger grows with every record, so the
in-process rate falls as N grows (measured: ~23 records/s at 120 records, ~8 at 800). The time spent in our own
code (outside botocore and moto) is printed separately; it does not grow with the data.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import time

REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's default account
PREFIX = "qalqan-bench"
os.environ.update({
    "QALQAN_SECRET": "bench-secret-bench-secret-bench-secret", "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_TRACE_DISABLED": "true", "LOG_LEVEL": "WARNING",
    "TABLE_PREFIX": PREFIX, "QUEUE_SETTLE_SECONDS": "0",
    # moto names these deterministically; they are created below, inside the mock
    "NOTIFICATIONS_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-notifications",
    "PARKED_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{PREFIX}-parked",
    "EMAIL_SENDER": "Qalqan <no-reply@qalqan.local>",
})
os.environ.pop("AWS_ENDPOINT_URL", None)

TEXT = "Кассир пробил товар дважды, на кассе обсчитали на 2000 тенге, деньги вернуть отказались."
BATCH = 100  # the reactions function's batch_size in app.py

# --- prices assumed for the estimate: AWS list prices, eu-central-1 (Frankfurt), USD, no free tier -----------
PRICES = {
    "lambda_gb_second": 0.0000166667,   # x86
    "lambda_request": 0.20 / 1e6,
    "ddb_wru": 0.7625 / 1e6,            # on-demand write request unit (after the November 2024 price cut)
    "ddb_rru": 0.1525 / 1e6,            # on-demand read request unit
    "ddb_gb_month": 0.306,              # standard table class storage
    "sns_publish": 0.50 / 1e6,          # per 64 KB publish request
    "sns_https_delivery": 0.60 / 1e6,   # per delivery to an HTTPS subscriber (SQS and Lambda subscribers: free)
}
# Latencies assumed to turn request counts into billed Lambda time (warm, same region); the code's own time
# per record is measured (the run's time minus the time spent inside AWS calls).
DDB_MS, NOTIFY_MS = 8.0, 25.0
LAMBDA_GB = 1.0  # lambda_memory_size 1024 for the stages in .chalice/config.json
# The complaints table's indexes (agency_queue, agency_region_queue, business_queue, open_by_due) project ALL.
# A new complaint writes each once; a change moves `change_key` (and often the due date), and an index whose
# key changes costs two writes (delete + put): an upper bound of 2 per index per MODIFY.
INDEXES = 4


class Counts:
    """botocore `before-call` events, by (who made the call, service, operation)."""

    def __init__(self) -> None:
        self.current = "(outside reactions)"
        self.calls: collections.Counter = collections.Counter()
        self.units: collections.Counter = collections.Counter()  # (who, "wru"|"rru") estimated capacity units
        self.aws_seconds = 0.0  # inside AWS calls: botocore and moto (single-threaded, so one clock suffices)
        self._started: list[float] = []

    def before_call(self, event_name, **kwargs):
        _, service, operation = event_name.split(".")
        self.calls[(self.current, service, operation)] += 1
        self._started.append(time.perf_counter())

    def after_call(self, **kwargs):
        if self._started:
            self.aws_seconds += time.perf_counter() - self._started.pop()

    def parameters(self, params, event_name, **kwargs):
        """Capacity units per DynamoDB call, from its parameters (every item here is under 1 KB / 4 KB)."""
        operation = event_name.rsplit(".", 1)[-1]
        if operation == "TransactWriteItems":
            self.units[(self.current, "wru")] += 2 * len(params.get("TransactItems", []))
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.units[(self.current, "wru")] += 1
        elif operation in ("GetItem", "Query"):
            self.units[(self.current, "rru")] += 1 if params.get("ConsistentRead") else 0.5

    def take(self):
        calls, units, seconds = self.calls, self.units, self.aws_seconds
        self.calls, self.units, self.aws_seconds = collections.Counter(), collections.Counter(), 0.0
        return calls, units, seconds


def attach(counts: Counts) -> None:
    """Count every DynamoDB call of the pynamodb clients, and every SNS/SES/SQS call of boto3's default session
    (the notifier and the parking lot build their clients from it, on first use: after this)."""
    import boto3

    from chalicelib.adapters.tables import ALL_TABLES

    for table in ALL_TABLES:
        events = table._get_connection().connection.client.meta.events
        events.register("before-call.dynamodb", counts.before_call, unique_id=f"bench-call-{table.__name__}")
        for after in ("after-call.dynamodb", "after-call-error.dynamodb"):
            events.register(after, counts.after_call, unique_id=f"bench-{after}-{table.__name__}")
        events.register("before-parameter-build.dynamodb", counts.parameters,
                        unique_id=f"bench-units-{table.__name__}")
    boto3.setup_default_session()
    for service in ("sns", "ses", "sqs"):
        boto3.DEFAULT_SESSION.events.register(f"before-call.{service}", counts.before_call)
        boto3.DEFAULT_SESSION.events.register(f"after-call.{service}", counts.after_call)
        boto3.DEFAULT_SESSION.events.register(f"after-call-error.{service}", counts.after_call)


def trace_reactions(counts: Counts, runs: collections.Counter) -> None:
    """Attribute every request made while a reaction runs to that reaction."""
    from chalicelib.streams.processor import Runner

    original = Runner._run

    def traced(self, reaction, envelope):
        counts.current = reaction.name
        runs[reaction.name] += 1
        try:
            return original(self, reaction, envelope)
        finally:
            counts.current = "(outside reactions)"

    Runner._run = traced


def provision_messaging() -> None:
    import boto3

    topic = boto3.client("sns").create_topic(Name=f"{PREFIX}-notifications")["TopicArn"]
    queue = boto3.client("sqs").create_queue(QueueName=f"{PREFIX}-parked")["QueueUrl"]
    assert topic == os.environ["NOTIFICATIONS_TOPIC_ARN"] and queue == os.environ["PARKED_QUEUE_URL"], (topic, queue)
    boto3.client("ses").verify_email_identity(EmailAddress="no-reply@qalqan.local")


def make_complaints(client, demo, n: int, *, outlets: list[dict] | None = None) -> list[str]:
    """N complaints over HTTP, each with a few transitions: a third leave a phone, a third an email, a third
    nothing; the business answers every one; even ones the consumer accepts (settled, 3 records), odd ones
    are rejected, taken in review and resolved as a confirmed violation (5 records)."""
    headers = {"Content-Type": "application/json"}

    def post(path, body, extra=None):
        response = client.http.post(path, body=json.dumps(body), headers={**headers, **(extra or {})})
        assert response.status_code < 300, (path, response.status_code, response.body[:300])
        return json.loads(response.body)

    outlets = outlets or demo["outlets"]
    ids = []
    for i in range(n):
        outlet = outlets[i % len(outlets)]
        contact = [{"phone": f"+7701{i:07d}"}, {"email": f"bench{i}@mail.kz"}, None][i % 3]
        body = {"outlet_code": outlet["code"], "text": TEXT, "language": ["kk", "ru", "en"][i % 3]}
        if contact:
            body["contact"] = contact
        created = post("/complaints", body)
        cid, token, agency = created["id"], created["tracking_token"], created["agency"]["id"]
        business = {"Authorization": f"Bearer {demo['keys']['businesses'][outlet['business_bin']]}"}
        officer = {"Authorization": f"Bearer {demo['keys']['agencies'][agency]}"}
        post(f"/business/complaints/{cid}/response", {"message": "Вернём разницу.", "offer": "refund"}, business)
        if i % 2 == 0:
            post(f"/complaints/{cid}/feedback", {"accepted": True, "stars": 4}, {"X-Tracking-Token": token})
        else:
            post(f"/complaints/{cid}/feedback", {"accepted": False, "stars": 2}, {"X-Tracking-Token": token})
            post(f"/agency/complaints/{cid}/status", {"status": "in_review"}, officer)
            post(f"/agency/complaints/{cid}/status", {"status": "resolved", "decision": "violation_confirmed",
                                                      "result": "Штраф наложен."}, officer)
        ids.append(cid)
    return ids


def read_stream(table_name: str) -> list[dict]:
    from local.streams import StreamReader

    reader = StreamReader(table_name)
    records: list[dict] = []
    while batch := reader.read(limit=1000):
        records.extend(batch)
    return records


def deliver(records: list[dict], c) -> tuple[float, dict]:
    from chalicelib.streams.processor import process_records

    totals = collections.Counter()
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        report = process_records(records[start:start + BATCH], c, sleep=lambda s: None, source="bench")
        totals.update({"reactions": report.reactions, "skipped": report.skipped, "parked": report.parked})
    return time.perf_counter() - started, dict(totals)


def table(title: str, records: int, runs: collections.Counter, calls: collections.Counter,
          units: collections.Counter, own_seconds: float) -> dict:
    """Print requests per reaction run and per record; return the per-record totals for the cost model."""
    print(title)
    print(f"  {'reaction':18s} {'runs/record':>11s} {'DynamoDB req/run':>17s}  {'SNS/SES/SQS req/run':>19s}  detail per run")
    per_record = collections.Counter()
    for name in sorted(runs, key=lambda r: -runs[r]):
        mine = {(service, op): count for (who, service, op), count in calls.items() if who == name}
        ddb = sum(v for (service, _), v in mine.items() if service == "dynamodb")
        other = sum(v for (service, _), v in mine.items() if service != "dynamodb")
        detail = ", ".join(f"{op} {v / runs[name]:.2f}" for (service, op), v in sorted(mine.items())) or "none"
        print(f"  {name:18s} {runs[name] / records:11.2f} {ddb / runs[name]:17.2f}  {other / runs[name]:19.2f}  {detail}")
        per_record["dynamodb"] += ddb
        per_record["notify"] += other
    outside = {(service, op): v for (who, service, op), v in calls.items() if who == "(outside reactions)"}
    if outside:
        print("  outside reactions: " + ", ".join(f"{service} {op} {v}" for (service, op), v in sorted(outside.items())))
        per_record["dynamodb"] += sum(v for (service, _), v in outside.items() if service == "dynamodb")
        per_record["notify"] += sum(v for (service, _), v in outside.items() if service != "dynamodb")
    publishes = sum(v for (who, service, op), v in calls.items() if service == "sns" and op == "Publish")
    emails = sum(v for (who, service, op), v in calls.items() if service == "ses")
    result = {"dynamodb": per_record["dynamodb"] / records, "notify": per_record["notify"] / records,
              "sns_publish": publishes / records, "ses": emails / records,
              "wru": sum(v for (who, kind), v in units.items() if kind == "wru") / records,
              "rru": sum(v for (who, kind), v in units.items() if kind == "rru") / records,
              "own_ms": own_seconds / records * 1000}
    print(f"  per record: {result['dynamodb']:.2f} DynamoDB requests ({result['wru']:.2f} WRU, "
          f"{result['rru']:.2f} RRU est.), {result['notify']:.2f} SNS/SES/SQS requests; "
          f"{result['own_ms']:.1f} ms in our own code (outside AWS calls)")
    return result


def complaint_writes(records: list[dict]) -> tuple[float, float]:
    """(mean stored complaint size in KB, mean write units per stored change) from the stream images: DynamoDB
    JSON is a fair proxy for the item size; an INSERT writes the table and each index once, a MODIFY up to
    twice per index (see INDEXES)."""
    sizes, units = [], []
    for r in records:
        kb = len(json.dumps(r["dynamodb"].get("NewImage", {}), ensure_ascii=False).encode()) / 1024
        sizes.append(kb)
        units.append(math.ceil(kb) * (1 + INDEXES * (1 if r["eventName"] == "INSERT" else 2)))
    return sum(sizes) / len(sizes), sum(units) / len(units)


def cost(first: dict, records_per_complaint: float, writes: tuple[float, float], complaints: int = 1_000_000) -> None:
    p = PRICES
    item_kb, write_units = writes
    records = complaints * records_per_complaint
    ms = first["dynamodb"] * DDB_MS + first["notify"] * NOTIFY_MS + first["own_ms"]
    # At ~2 complaints a minute on average, batches hold about one record: one invocation per record.
    lambda_cost = records * (ms / 1000 * LAMBDA_GB * p["lambda_gb_second"] + p["lambda_request"])
    reactions_ddb = records * (first["wru"] * p["ddb_wru"] + first["rru"] * p["ddb_rru"])
    # The writes that feed the stream (HTTP path): each stored change of a complaint writes the whole item.
    complaint_ddb = records * write_units * p["ddb_wru"]
    sns = records * first["sns_publish"] * (p["sns_publish"] + p["sns_https_delivery"])
    stored_gb = complaints * item_kb * (1 + INDEXES) / 1024 / 1024  # indexes project ALL: upper bound
    storage = stored_gb * p["ddb_gb_month"] * 6.5  # growing evenly from 0: 6.5 full months' worth in year one
    total = lambda_cost + reactions_ddb + complaint_ddb + sns
    print(f"\nOn paper: {complaints:,} complaints a year, {records_per_complaint:.1f} stream records each "
          f"({records:,.0f} records), eu-central-1 list prices, no free tier")
    print(f"  Lambda (stream function, 1024 MB, one invocation per record, ~{ms:.0f} ms each: {first['own_ms']:.0f} ms "
          f"own code as measured + {DDB_MS:g} ms per DynamoDB request + {NOTIFY_MS:g} ms per SNS/SES call)"
          f"  ${lambda_cost:8.2f}")
    print(f"  DynamoDB on-demand, the reactions ({first['wru']:.1f} WRU + {first['rru']:.1f} RRU per record; "
          f"a transaction item is 2 WRU)  ${reactions_ddb:8.2f}")
    print(f"  DynamoDB on-demand, the complaint writes feeding the stream ({item_kb:.1f} KB item, "
          f"{write_units:.1f} WRU per write with its {INDEXES} indexes, upper bound)  ${complaint_ddb:8.2f}")
    print(f"  SNS topic ({first['sns_publish']:.2f} publishes per record, each with one HTTPS delivery; "
          f"SMS not included)  ${sns:8.2f}")
    print(f"  total  ${total:8.2f} a year")
    print(f"  not in the total: storage, growing to ~{stored_gb:.1f} GB with indexes (about ${storage:.2f} in the "
          f"first year); SES email at $0.10 per 1,000; the HTTP API itself. DynamoDB Streams reads by Lambda are free.")
    print("  prices: Lambda $0.0000166667/GB-s + $0.20/M requests; DynamoDB $0.7625/M WRU, $0.1525/M RRU, "
          "$0.306/GB-month; SNS $0.50/M publishes, $0.60/M HTTPS deliveries")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50, help="complaints (default 50: about 200 stream records)")
    args = parser.parse_args()
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.tables import create_tables
        from chalicelib.bootstrap import container, use_container

        create_tables()
        provision_messaging()
        use_container(None)
        from local.seed import seed_demo

        c = container()
        demo = seed_demo(c)
        from app import app

        with Client(app) as client:
            make_complaints(client, demo, args.n)
        records = read_stream(c.settings.table_name("complaints"))
        counts, runs = Counts(), collections.Counter()
        attach(counts)
        trace_reactions(counts, runs)

        elapsed, report = deliver(records, c)
        calls, units, aws = counts.take()
        print(f"{args.n} complaints -> {len(records)} stream records; first delivery: {len(records) / elapsed:.0f} "
              f"records/s in-process on moto ({elapsed:.2f} s, {aws / elapsed:.0%} of it inside moto and botocore; "
              f"{report['reactions']} reactions acted, {report['parked']} parked)")
        print(f"  our own code alone (decode, events, increments, messages, batch handling): "
              f"{len(records) / (elapsed - aws):.0f} records/s on one core\n")
        first = table("First delivery: requests per reaction run", len(records), runs, calls, units, elapsed - aws)

        runs.clear()
        elapsed, report = deliver(records, c)
        calls, units, aws = counts.take()
        print(f"\nRedelivery of the same {len(records)} records: {len(records) / elapsed:.0f} records/s "
              f"({report['skipped']} reactions skipped as done, {report['parked']} parked)")
        table("Redelivery: requests per reaction run", len(records), runs, calls, units, elapsed - aws)

        cost(first, len(records) / args.n, complaint_writes(records))
    print("\nThroughput is moto-bound and single-threaded: it shows relative cost, not AWS latency (moto copies "
          "each table a transaction touches, so the rate falls as the ledger grows).")


if __name__ == "__main__":
    main()
