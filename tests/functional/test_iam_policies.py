"""Each Lambda function's IAM policy (`.chalice/policy-<stage>-<function>.json`) against what its code calls.

Representative work runs through the real code on moto, per function: the API (a submission, a routing
preview, tracking, the business's answer, the agency's actions, feedback, a quick rating, ratings and
analytics reads, admin onboarding and channels), the QR resolver (a function-URL event), the reactions (the
complaints stream's records through `process_records`, the stream read standing in for Lambda's poller) and the
deadline sweep. Every AWS call is recorded through botocore's `before-parameter-build` event on every client
(pynamodb's, the counters' low-level client, boto3's SNS/SES/SQS/SSM), turned into the IAM (action, resource)
pairs it needs (a transaction needs each item's action on each item's table, a Query on an index needs the index
ARN), and checked against that function's policy for both stages: every call allowed, and no grant on a table the
function never touched. The secret is read from SSM in these runs so that the GetParameter calls are seen too.
"""
from __future__ import annotations

import collections
import contextlib
import fnmatch
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"
STAGES = ("dev", "prod")
FUNCTIONS = ("api_handler", "qr_resolver", "reactions", "deadline_sweep", "open_data_export")
ACCOUNT = "123456789012"
SENDER = "no-reply@qalqan.kz"
SECRET_NAME = "/qalqan/test/secret"
TELEGRAM_SECRET_NAME = "/qalqan/test/telegram-secret-token"
TELEGRAM_TOKEN_NAME = "/qalqan/test/telegram-bot-token"


def policy(stage: str, function: str) -> dict:
    config = json.loads((CHALICE / "config.json").read_text())
    name = config["stages"][stage]["lambda_functions"][function]["iam_policy_file"]
    return json.loads((CHALICE / name).read_text())


# --- a small IAM evaluator: Allow statements, Action/NotAction wildcards, Resource/NotResource by fnmatch,
# StringEquals/StringLike conditions on the keys a call supplies. No Deny is used in these policies. -------------
def _as_list(value):
    return value if isinstance(value, list) else [value]


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _resource_matches(pattern: str, resource: str) -> bool:
    return fnmatch.fnmatchcase(resource, pattern)


def _condition_holds(condition: dict, context: dict) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            have = context.get(key)
            if have is None:
                return False
            if operator == "StringEquals":
                ok = have in _as_list(wanted)
            elif operator == "StringLike":
                ok = any(fnmatch.fnmatchcase(have, w) for w in _as_list(wanted))
            else:
                raise AssertionError(f"the evaluator does not know the condition operator {operator}")
            if not ok:
                return False
    return True


def allows(doc: dict, action: str, resource: str, context: dict | None = None) -> bool:
    for s in doc["Statement"]:
        assert s["Effect"] == "Allow", "a Deny would need a real evaluator"
        if "Action" in s:
            if not any(_action_matches(p, action) for p in _as_list(s["Action"])):
                continue
        elif any(_action_matches(p, action) for p in _as_list(s["NotAction"])):
            continue
        if "Resource" in s:
            if not any(_resource_matches(p, resource) for p in _as_list(s["Resource"])):
                continue
        elif any(_resource_matches(p, resource) for p in _as_list(s["NotResource"])):
            continue
        if "Condition" in s and not _condition_holds(s["Condition"], context or {}):
            continue
        return True
    return False


def test_the_evaluator_refuses_what_it_should():
    doc = {"Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:Get*"], "Resource": "arn:aws:dynamodb:*:*:table/t"},
        {"Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:*"},
        {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "arn:aws:ses:*:*:identity/*",
         "Condition": {"StringLike": {"ses:FromAddress": "*@qalqan.kz"}}},
    ]}
    assert allows(doc, "dynamodb:GetItem", "arn:aws:dynamodb:eu-central-1:1:table/t")
    assert not allows(doc, "dynamodb:PutItem", "arn:aws:dynamodb:eu-central-1:1:table/t")
    assert not allows(doc, "dynamodb:GetItem", "arn:aws:dynamodb:eu-central-1:1:table/t2")
    assert not allows(doc, "dynamodb:GetItem", "arn:aws:dynamodb:eu-central-1:1:table/t/index/i")
    assert allows(doc, "sns:Publish", "*") and not allows(doc, "sns:Publish", "arn:aws:sns:eu-central-1:1:other")
    assert allows(doc, "ses:SendEmail", "arn:aws:ses:x:1:identity/qalqan.kz", {"ses:FromAddress": "a@qalqan.kz"})
    assert not allows(doc, "ses:SendEmail", "arn:aws:ses:x:1:identity/qalqan.kz", {"ses:FromAddress": "a@evil.kz"})


# --- recording the calls ---------------------------------------------------------------------------------------
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


class Audit:
    """(function, action, resource, context) for every call made while a function's label is set."""

    def __init__(self, region: str, prefix: str) -> None:
        self.region, self.prefix = region, prefix
        self.label: str | None = None
        self.stream_arn = ""
        self.calls: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    @contextlib.contextmanager
    def function(self, name: str):
        self.label = name
        try:
            yield
        finally:
            self.label = None

    def table_arn(self, name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def record(self, event_name: str, params: dict, model, **_):
        if self.label is None:
            return
        service = model.service_model.signing_name
        op = model.name
        for action, resource, context in self.needs(service, op, params):
            self.calls[self.label][(action, resource, json.dumps(context, sort_keys=True))] += 1

    def needs(self, service: str, op: str, p: dict):
        if service == "dynamodb" and op == "TransactWriteItems":
            for item in p["TransactItems"]:
                ((kind, body),) = item.items()
                yield f"dynamodb:{_TRANSACT[kind]}", self.table_arn(body["TableName"]), {}
        elif service == "dynamodb" and op == "TransactGetItems":
            for item in p["TransactItems"]:
                yield "dynamodb:GetItem", self.table_arn(item["Get"]["TableName"]), {}
        elif service == "dynamodb" and op in ("BatchGetItem", "BatchWriteItem"):
            action = "dynamodb:" + op
            for table in p["RequestItems"]:
                yield action, self.table_arn(table), {}
        elif service == "dynamodb" and "StreamArn" not in p and "ShardIterator" not in p:
            yield f"dynamodb:{op}", self.table_arn(p["TableName"], p.get("IndexName")), {}
        elif service == "dynamodb":  # the streams API signs as dynamodb
            yield f"dynamodb:{op}", p.get("StreamArn", self.stream_arn), {}
        elif service == "sns":
            yield "sns:Publish", p.get("TopicArn") or p.get("TargetArn") or "*", {}
        elif service == "ses":
            sender = re.search(r"[^<\s]+@[^>\s]+", p["Source"]).group(0)
            yield f"ses:{op}", f"arn:aws:ses:{self.region}:{ACCOUNT}:identity/{sender.split('@')[1]}", \
                {"ses:FromAddress": sender}
        elif service == "sqs":
            yield f"sqs:{op}", f"arn:aws:sqs:{self.region}:{ACCOUNT}:{p['QueueUrl'].rsplit('/', 1)[-1]}", {}
        elif service == "ssm":
            yield f"ssm:{op}", f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter{p['Name']}", {}
        elif service == "s3":
            yield f"s3:{op}", f"arn:aws:s3:::{p['Bucket']}" + (f"/{p['Key']}" if "Key" in p else ""), {}
        else:
            raise AssertionError(f"no IAM mapping for {service}:{op}: add one before granting it")

    def for_stage(self, function: str, stage: str):
        """The calls with the test's names (qalqan-test-...) as the stage would name them."""
        out = set()
        for (action, resource, context) in self.calls[function]:
            staged = resource.replace(f"{self.prefix}-", f"qalqan-{stage}-").replace("/qalqan/test/", f"/qalqan/{stage}/")
            out.add((action, staged, context))
        return out


@pytest.fixture(scope="module")
def audit():
    """Run every function's representative work once on moto; the tests below read what was recorded."""
    import boto3
    import botocore.client
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.tables import ComplaintTable, create_tables
        from chalicelib.bootstrap import container, use_container

        create_tables()
        use_container(None)
        base = container()
        a = Audit(base.settings.aws_region, base.settings.table_prefix)
        # Every client, whenever it was made, reports its calls: wrap the one method they all go through and
        # register the recorder on that client's own event emitter on first use.
        original = botocore.client.BaseClient._make_api_call

        def _make_api_call(self, operation_name, api_params):
            self.meta.events.register("before-parameter-build", a.record, unique_id="iam-audit")
            return original(self, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = _make_api_call
        try:
            yield _run_everything(a, base, boto3, Client, ComplaintTable, container, use_container)
        finally:
            botocore.client.BaseClient._make_api_call = original
            use_container(None)


def _run_everything(a, base, boto3, Client, ComplaintTable, container, use_container):
    from chalicelib.adapters.messaging import AwsNotifier
    from chalicelib.adapters.parking import SqsParkingLot
    from local.seed import seed_demo
    from local.server import function_url_event
    from local.streams import StreamReader

    ssm, sns, sqs, ses = boto3.client("ssm"), boto3.client("sns"), boto3.client("sqs"), boto3.client("ses")
    ssm.put_parameter(Name=SECRET_NAME, Type="SecureString", Value="s" * 40)
    topic = sns.create_topic(Name="qalqan-test-notifications")["TopicArn"]
    parked = sqs.create_queue(QueueName="qalqan-test-parked")["QueueUrl"]
    ses.verify_email_identity(EmailAddress=SENDER)
    settings = replace(base.settings, secret_value="", secret_parameter=SECRET_NAME, notifications_topic_arn=topic,
                       parked_queue_url=parked, email_sender=SENDER)
    # the Telegram bot, its two secrets in SSM like the others; the Bot API itself is a fake (no network)
    ssm.put_parameter(Name=TELEGRAM_SECRET_NAME, Type="SecureString", Value="t" * 32)
    ssm.put_parameter(Name=TELEGRAM_TOKEN_NAME, Type="SecureString", Value="123456789:" + "b" * 35)
    settings = replace(settings, telegram_secret_token_parameter=TELEGRAM_SECRET_NAME,
                       telegram_bot_token_parameter=TELEGRAM_TOKEN_NAME, telegram_bot_username="qalqan_test_bot")

    # the open data's bucket (the export writes to it; the API only signs links to it, which calls nothing)
    from chalicelib.adapters.open_data import S3Objects

    bucket = f"{base.settings.table_prefix}-open-data"
    boto3.client("s3").create_bucket(Bucket=bucket,
                                     CreateBucketConfiguration={"LocationConstraint": base.settings.aws_region})
    settings = replace(settings, open_data_bucket=bucket, open_data_refresh_days=2)

    def fresh():
        """A cold container for the next function: its own settings object, so the secret is read again."""
        s = replace(settings)
        from tests.fakes import FakeBotApi

        notifier = AwsNotifier(s)
        notifier._clients["telegram"] = FakeBotApi()  # the chat pushes go nowhere; their table read is audited
        c = replace(base, settings=s, notifier=notifier, parking=SqsParkingLot(parked, s.aws_region),
                    telegram=FakeBotApi())
        c = replace(c, objects=S3Objects(bucket, s.aws_region))
        use_container(c)
        return c

    demo = seed_demo(fresh())
    reader = StreamReader(ComplaintTable.Meta.table_name)
    a.stream_arn = reader.stream_arn
    reader.read()  # start after the seed
    outlet, other = demo["outlets"][0], demo["outlets"][1]
    bkey = demo["keys"]["businesses"][outlet["business_bin"]]
    admin, analyst = demo["keys"]["admin"], demo["keys"]["analyst"]
    statuses = []

    with Client(__import__("app").app) as client, a.function("api_handler"):
        fresh()

        def call(method, path, body=None, key=None, **headers):
            headers = {"Content-Type": "application/json", **headers}
            if key:
                headers["Authorization"] = f"Bearer {key}"
            raw = json.dumps(body) if body is not None else None
            response = getattr(client.http, method)(path, headers=headers, **({"body": raw} if raw else {}))
            statuses.append((method, path.split("?")[0], response.status_code,
                             response.body[:200] if response.status_code >= 300 else b""))
            return json.loads(response.body) if response.headers.get("Content-Type", "").startswith(
                "application/json") and response.body else None

        text = "Мерзімі өткен айран сатты, чек бермеді."
        call("post", "/routing/preview", {"outlet_code": outlet["code"], "text": text})
        made = call("post", "/complaints", {"outlet_code": outlet["code"], "language": "kk", "text": text,
                                            "contact": {"name": "Айгерим Садыкова", "email": "aigerim@example.kz"}},
                    **{"Idempotency-Key": "iam-audit-1"})
        cid, agency = made["id"], made["agency"]["id"]
        akey = demo["keys"]["agencies"][agency]
        call("get", f"/complaints/{cid}", **{"X-Tracking-Token": made["tracking_token"]})
        call("get", "/agency/complaints", key=akey)
        call("get", f"/agency/complaints/{cid}", key=akey)
        call("post", f"/agency/complaints/{cid}/status", {"status": "in_review"}, key=akey)
        # read, not set: a webhook would send the reactions below to the network
        call("get", "/agency/channels", key=akey)
        # a second complaint nobody answers: the deadline sweep below finds it overdue and writes
        call("post", "/complaints", {"outlet_code": other["code"], "language": "ru",
                                     "text": "Продали просроченный кефир, чек не выдали."},
             **{"Idempotency-Key": "iam-audit-2"})
        call("get", "/business/complaints", key=bkey)
        call("post", f"/business/complaints/{cid}/response", {"message": "Ақшаңызды қайтарамыз.", "offer": "refund"},
             key=bkey)
        call("post", f"/complaints/{cid}/feedback", {"accepted": True, "stars": 4},
             **{"X-Tracking-Token": made["tracking_token"]})
        call("post", f"/outlets/{other['code']}/ratings", {"stars": 4})
        call("get", f"/outlets/{outlet['code']}")
        call("get", f"/ratings/outlets/{outlet['code']}")
        call("get", f"/ratings/businesses/{outlet['business_bin']}")
        day = base.clock.now().astimezone(base.rules.tz).date().isoformat()
        call("get", f"/analytics/summary?from={day}&to={day}&group_by=agency", key=analyst)
        call("get", f"/admin/businesses/{outlet['business_bin']}/outlets", key=admin)
        call("get", f"/admin/outlets/{outlet['code']}", key=admin)
        call("get", f"/public/outlets/{outlet['code']}")  # the outlet's public page: its ratings in one batch
        call("get", f"/public/businesses/{outlet['business_bin']}?limit=5")
        call("get", "/open-data/")
        call("get", "/open311/v2/requests.json?service_code=expired_food")  # the requested_by_month index
        # a Telegram conversation to the end, then a status change the reactions push to the chat
        tg = {"X-Telegram-Bot-Api-Secret-Token": "t" * 32}
        sender = {"id": 512345678, "is_bot": False, "first_name": "A", "language_code": "kk"}
        chat = {"id": 512345678, "type": "private"}
        for number, said in enumerate((f"/start {outlet['code']}", text, "/skip"), start=1):
            call("post", "/channels/telegram/webhook", {"update_id": number, "message": {
                "message_id": number, "from": sender, "chat": chat, "date": 1764636000, "text": said}}, **tg)
        for number in (4, 5):  # "publish: yes", then "Send": each the first button of the last message
            data = container().telegram.messages()[-1][3]["inline_keyboard"][0][0]["callback_data"]
            call("post", "/channels/telegram/webhook", {"update_id": number, "callback_query": {
                "id": str(number), "from": sender, "chat_instance": "1", "data": data,
                "message": {"message_id": number, "chat": chat, "date": 1764636000, "text": "?"}}}, **tg)
        sent = next(p for p in reversed(container().telegram.messages()) if "track.html" in p[2])[2]
        tg_id = sent.split("#id=")[1].split("&")[0]
        call("post", f"/agency/complaints/{tg_id}/status", {"status": "in_review"}, key=akey)

    with a.function("qr_resolver"):
        fresh()
        from app import qr_resolver

        resolved = [qr_resolver(function_url_event("GET", f"/q/{code}", "", {"User-Agent": "t"}), None)
                    for code in (outlet["code"], "NOPE-0000")]

    with a.function("reactions"):
        c = fresh()
        from chalicelib.streams.processor import process_records

        records = reader.read()  # what Lambda's event-source mapping reads with the function's role
        report = process_records(records, c)

    with a.function("deadline_sweep"):
        c = fresh()
        from chalicelib.services.cases import sweep_deadlines

        # far enough ahead that the complaint above is overdue, so the sweep writes too
        later = c.clock.now().replace(year=c.clock.now().year + 1)
        swept = sweep_deadlines(later, complaints=c.complaints, clock=c.clock)

    with a.function("open_data_export"):
        c = fresh()
        from chalicelib.services.open_data import run_nightly

        exported = run_nightly(c=c)
        assert len(exported) == 2

    a.statuses, a.resolved, a.records, a.report, a.swept = statuses, resolved, records, report, swept
    return a


def test_the_representative_work_really_happened(audit):
    """The runs the cross-check rests on did what they claim: every request succeeded, the resolver
    redirected, the stream carried the case's records and the reactions and the sweep did their work."""
    failed = [s for s in audit.statuses if not 200 <= s[2] < 300]
    assert not failed and len(audit.statuses) == 28
    assert [r["statusCode"] for r in audit.resolved][0] == 302
    assert len(audit.records) >= 3 and audit.report.reactions > 0 and audit.report.parked == 0
    assert audit.swept.checked >= 1 and audit.swept.business_overdue + audit.swept.agency_overdue >= 1
    for function in FUNCTIONS:
        assert audit.calls[function], function


EXPECTED_SERVICES = {
    "api_handler": {"dynamodb", "ssm"},
    "qr_resolver": {"dynamodb"},
    "reactions": {"dynamodb", "sns", "ses", "sqs", "ssm"},
    "deadline_sweep": {"dynamodb"},
    "open_data_export": {"dynamodb", "s3"},
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_calls_touch_the_services_the_function_is_meant_for(audit, function):
    services = {action.split(":")[0] for action, _, _ in audit.calls[function]}
    # sqs only when something was parked; ses/sns only with a notification: the others must be there exactly
    assert services <= EXPECTED_SERVICES[function]
    assert "dynamodb" in services


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_call_the_code_made_is_allowed_by_that_functions_policy(audit, function, stage):
    doc = policy(stage, function)
    refused = sorted((action, resource) for action, resource, context in audit.for_stage(function, stage)
                     if not allows(doc, action, resource, json.loads(context)))
    assert not refused, f"{function}@{stage} refuses: {refused}"


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_policy_grants_a_table_or_index_its_function_never_touched(audit, function, stage):
    """Each DynamoDB resource a policy names was used by that function's calls (streams: the reactions only).
    Exceptions are paths not in the representative run, listed here with why."""
    not_exercised = {
        # registering a business (admin onboarding), an agency's reroute (a routing example), a regional
        # department's own and second-body queues, and POST /admin/jobs/deadlines (the sweep's index)
        "api_handler": {f"qalqan-{stage}-businesses", f"qalqan-{stage}-routing-examples",
                        f"qalqan-{stage}-complaints/index/agency_region_queue",
                        f"qalqan-{stage}-complaints/index/secondary_region_queue",
                        f"qalqan-{stage}-complaints/index/open_by_due"},
    }
    touched = {resource for _, resource, _ in audit.for_stage(function, stage) if ":dynamodb:" in resource}
    granted = set()
    for s in policy(stage, function)["Statement"]:
        if any(str(act).startswith("dynamodb:") for act in _as_list(s.get("Action", []))):
            granted.update(_as_list(s["Resource"]))
    assert granted, function
    wildcards = [p for p in granted if "*" in p.split("table/")[1].split("/")[0]]
    assert not wildcards, f"{function}: table wildcards {wildcards}"
    unused = sorted(p for p in granted if not any(_resource_matches(p, r) for r in touched)
                    and p.split("table/")[1] not in not_exercised.get(function, set()))
    assert not unused, f"{function}@{stage} grants what it never used: {unused}"


@pytest.mark.parametrize("stage", STAGES)
def test_a_function_cannot_reach_what_another_needs(stage):
    """Spot checks that the split is real: the resolver reads one table, the sweep cannot notify."""
    region = "eu-central-1"
    table = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/qalqan-{stage}"
    resolver, sweep = policy(stage, "qr_resolver"), policy(stage, "deadline_sweep")
    assert allows(resolver, "dynamodb:GetItem", f"{table}-outlets")
    assert not allows(resolver, "dynamodb:PutItem", f"{table}-outlets")
    assert not allows(resolver, "dynamodb:GetItem", f"{table}-contacts")
    assert not allows(resolver, "ssm:GetParameter", f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/qalqan/{stage}/secret")
    assert not allows(sweep, "sns:Publish", "*")
    assert not allows(policy(stage, "api_handler"), "dynamodb:GetRecords", f"{table}-complaints/stream/1")
    other = "prod" if stage == "dev" else "dev"
    for function in FUNCTIONS:
        assert not allows(policy(stage, function), "dynamodb:GetItem",
                          f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/qalqan-{other}-outlets")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_logs_only_to_the_functions_own_group_and_kms_only_through_ssm(stage, function):
    doc = policy(stage, function)
    lambda_name = f"qalqan-{stage}" if function == "api_handler" else f"qalqan-{stage}-{function}"
    group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{lambda_name}:*"
    for s in doc["Statement"]:
        actions = _as_list(s["Action"])
        assert all("*" not in a for a in actions), s
        if any(a.startswith("logs:") for a in actions):
            assert _as_list(s["Resource"]) == [group]
        if any(a.startswith("kms:") for a in actions):
            assert actions == ["kms:Decrypt"]
            assert s["Condition"]["StringLike"]["kms:ViaService"] == "ssm.*.amazonaws.com"
            # the stage's secret and, during a rotation, its previous one; the Telegram bot's token (the API and
            # the chat pushes) and the webhook's secret token (the API only): nothing else
            telegram = {"api_handler": [f"/qalqan/{stage}/telegram-bot-token", f"/qalqan/{stage}/telegram-secret-token"],
                        "reactions": [f"/qalqan/{stage}/telegram-bot-token"]}.get(function, [])
            # and the Web Push signing key (VAPID), only where pushes are signed: the API serves VAPID_PUBLIC_KEY
            webpush = [f"/qalqan/{stage}/vapid-private-key"] if function == "reactions" else []
            assert sorted(p.rsplit(":parameter", 1)[1] for p in _as_list(
                s["Condition"]["StringLike"]["kms:EncryptionContext:PARAMETER_ARN"])) == [
                f"/qalqan/{stage}/previous-secret", f"/qalqan/{stage}/secret", *telegram, *webpush]
        for resource in _as_list(s.get("Resource", [])):
            assert resource != "*", s
    reads_secret = allows(doc, "ssm:GetParameter", f"arn:aws:ssm:r:1:parameter/qalqan/{stage}/secret")
    decrypts = any("kms:Decrypt" in _as_list(s["Action"]) for s in doc["Statement"])
    assert reads_secret == decrypts == (function in ("api_handler", "reactions"))


@pytest.mark.parametrize("stage", STAGES)
def test_per_function_memory_and_timeout_are_what_deploys(stage):
    """The stage-level settings used to override the resolver's own: chalice's resolution must now give
    each function its figures, and the API stays under API Gateway's 29 s."""
    from chalice.config import Config

    disk = json.loads((CHALICE / "config.json").read_text())
    want = {"api_handler": (1024, 29), "qr_resolver": (512, 10), "reactions": (512, 120),
            "deadline_sweep": (512, 120)}
    for function, (memory, timeout) in want.items():
        config = Config(chalice_stage=stage, function_name=function, config_from_disk=disk)
        assert (config.lambda_memory_size, config.lambda_timeout) == (memory, timeout), function
        assert config.autogen_policy is False
        assert config.iam_policy_file == f"policy-{stage}-{'api' if function == 'api_handler' else function}.json"
