"""Everything about a deployment that can be checked without an AWS account, on the package `make package`
builds for each stage: cfn-lint on the merged template (SAM-aware),
the resources a working stage needs, and the roles' statements.

Builds both stages for real (chalice fetches Lambda's manylinux wheels from PyPI, ~15 s each with a warm cache).
"""
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


@pytest.fixture(scope="module", params=STAGES)
def packaged(request, tmp_path_factory):
    stage = request.param
    out = tmp_path_factory.mktemp(f"package-{stage}") / stage
    result = subprocess.run([sys.executable, "-m", "tools.package", "--stage", stage, "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return stage, json.loads((out / "sam.json").read_text(encoding="utf-8"))


def _lint(template: dict) -> list[str]:
    # cfn-lint 1.x reads SAM natively: it knows the resources the transform generates (the API's stage, the
    # event sources' permissions), so a DependsOn on SAM's stage or a bad MethodSettings value is checked too.
    return [f"{m.rule.id} {m.message}"
            for m in lint(json.dumps(template), config=ManualArgs(regions=["eu-central-1"]))]


def test_cfn_lint_passes_on_the_merged_template_of_every_stage(packaged):
    stage, template = packaged
    assert template["Parameters"]["Stage"]["Default"] == stage
    assert _lint(template) == []


def test_cfn_lint_is_not_vacuous_on_the_merged_template(packaged):
    _, template = packaged
    broken = copy.deepcopy(template)
    broken["Resources"]["RestAPI"]["Properties"]["MethodSettings"][0]["ThrottlingBurstLimit"] = "many"
    broken["Resources"]["ApiWebAcl"]["Properties"]["Scope"] = "GLOBAL"
    messages = _lint(broken)
    assert any("many" in m for m in messages) and any("GLOBAL" in m for m in messages), messages


def test_the_tables_the_stream_and_the_reaction_guards_are_in_the_stack(packaged):
    _, template = packaged
    resources = template["Resources"]
    tables = {name for name, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert {"BusinessesTable", "OutletsTable", "ComplaintsTable", "ApiKeysTable", "ContactsTable"} <= tables
    for name in tables:
        properties = resources[name]["Properties"]
        assert resources[name]["DeletionPolicy"] == "Retain" and properties["DeletionProtectionEnabled"] is True, name
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name
    assert resources["ComplaintsTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    source = resources["Reactions"]["Properties"]["Events"]["ReactionsDynamodbEventSource"]["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": ["ComplaintsTable", "StreamArn"]}
    assert source["BisectBatchOnFunctionError"] is True and source["MaximumRetryAttempts"] >= 1


def test_the_public_functions_have_reserved_concurrency_and_the_api_is_throttled(packaged):
    _, template = packaged
    resources, parameters = template["Resources"], template["Parameters"]
    assert resources["QrResolver"]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": "ResolverReservedConcurrency"}
    assert resources["APIHandler"]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": "ApiReservedConcurrency"}
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in resources["RestAPI"]["Properties"]["MethodSettings"]}
    assert settings[("/*", "*")]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings[("/~1complaints", "POST")]["ThrottlingRateLimit"] == {"Ref": "SubmitRateLimit"}
    # The submission limit is tighter than the stage's: a complaint flood is cut before the reads are.
    assert parameters["SubmitRateLimit"]["Default"] < parameters["ApiRateLimit"]["Default"]
    throttled = resources["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert throttled["statusCode"] == 429
    assert json.loads(throttled["responseTemplates"]["application/json"])["error"]["code"] == "rate_limited"


def test_a_waf_rate_rule_per_address_guards_the_api_stage(packaged):
    stage, template = packaged
    resources = template["Resources"]
    acl = resources["ApiWebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    posts = rules["posts-per-address"]["Statement"]["RateBasedStatement"]
    assert posts["AggregateKeyType"] == "IP" and posts["Limit"] == {"Ref": "WafPostsPerAddress"}
    post, not_webhook = posts["ScopeDownStatement"]["AndStatement"]["Statements"]
    assert post["ByteMatchStatement"]["SearchString"] == "POST"
    # Telegram delivers every bot user's updates from a few addresses, authenticated by the secret header:
    # counting them per address would stall every conversation past ~40 per 5 minutes.
    webhook = not_webhook["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert webhook["SearchString"] == "/channels/telegram/webhook" and webhook["FieldToMatch"] == {"UriPath": {}}
    everything = rules["requests-per-address"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert everything["NotStatement"]["Statement"]["ByteMatchStatement"] == webhook
    assert rules["posts-per-address"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    body = json.loads(acl["CustomResponseBodies"]["too-many"]["Content"])
    assert set(body["error"]) == {"code", "message", "fields"}  # the API's one error shape
    association = resources["ApiWebAclAssociation"]
    assert association["DependsOn"] == ["RestAPIapiStage"]  # SAM's name for the generated stage `api`
    assert association["Properties"]["ResourceArn"]["Fn::Sub"].endswith("/restapis/${RestAPI}/stages/api")
    api_stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]["api_gateway_stage"]
    assert api_stage == "api"


def test_the_sticker_domain_fronts_the_function_url(packaged):
    _, template = packaged
    resources = template["Resources"]
    (origin,) = resources["StickerDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert "QrResolverUrl" in json.dumps(origin["DomainName"])
    assert resources["QrResolverUrl"]["Properties"]["AuthType"] == "NONE"
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
                   and r["Properties"]["FunctionName"] == {"Ref": "QrResolver"}]
    assert {p["Action"] for p in permissions} == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}


def _statements(template: dict):
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, statement


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def test_no_role_has_a_wildcard_action_or_a_wildcard_resource(packaged):
    _, template = packaged
    statements = list(_statements(template))
    # One role per function, each with its own statements.
    assert {name for name, _ in statements} >= {"ApiHandlerRole", "QrResolverRole", "ReactionsRole", "DeadlineSweepRole"}
    for role, statement in statements:
        for action in _listed(statement.get("Action", [])):
            assert "*" not in action, (role, statement)
        # Every resource these functions touch has an ARN; "*" is refused outright. SMS (sns:Publish to a phone
        # number has no ARN) is the one NotResource: anything but a topic.
        for resource in _listed(statement.get("Resource", [])):
            assert resource != "*", (role, statement)
        if "NotResource" in statement:
            assert _listed(statement["Action"]) == ["sns:Publish"], (role, statement)


def test_the_resolver_role_reads_one_table_and_nothing_else(packaged):
    stage, template = packaged
    actions = {(a, json.dumps(s.get("Resource"))) for role, s in _statements(template) if role == "QrResolverRole"
               for a in _listed(s["Action"]) if a.startswith("dynamodb:")}
    assert {a for a, _ in actions} == {"dynamodb:GetItem"}
    assert all(f"qalqan-{stage}-outlets" in resource for _, resource in actions)


def test_what_an_administrator_watches_has_an_alarm_that_tells_someone(packaged):
    _, template = packaged
    resources = template["Resources"]
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    watched = {(a["Namespace"], a["MetricName"]) for a in alarms.values()}
    assert {("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"),
            ("AWS/ApiGateway", "5XXError"), ("AWS/ApiGateway", "Latency"), ("AWS/Lambda", "IteratorAge")} <= watched
    for name, properties in alarms.items():
        assert properties["AlarmActions"] == [{"Ref": "AlertsTopic"}], name
    latency = alarms["ApiLatencyAlarm"]
    assert latency["ExtendedStatistic"] == "p95" and latency["Threshold"] == {"Ref": "ApiLatencyP95Ms"}
    # Every function the alarms name exists in the template (a renamed function would leave a silent alarm).
    for properties in alarms.values():
        for dimension in properties["Dimensions"]:
            if dimension["Name"] == "FunctionName":
                assert dimension["Value"]["Ref"] in resources
    assert resources["AlertsEmailSubscription"]["Condition"] == "HasAlertEmail"


def test_the_open_data_bucket_is_private_kept_and_named_as_the_roles_expect(packaged):
    stage, template = packaged
    bucket = template["Resources"]["OpenDataBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values())
    assert bucket["Properties"]["BucketName"] == {"Fn::Sub": "qalqan-${Stage}-open-data"}
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]["environment_variables"]
    assert config["OPEN_DATA_BUCKET"] == f"qalqan-{stage}-open-data"
    granted = {r for role, s in _statements(template) for r in _listed(s.get("Resource", [])) if "s3:::" in str(r)}
    assert granted and all(str(r).startswith(f"arn:aws:s3:::qalqan-{stage}-open-data/") for r in granted), granted
    alarm = template["Resources"]["OpenDataExportErrorsAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"]["Ref"] in template["Resources"]


def test_a_customer_managed_tables_key_is_granted_to_every_function_role_through_dynamodb_only(packaged):
    _, template = packaged
    resources = template["Resources"]
    grant = resources["TablesKmsKeyUse"]
    assert grant["Condition"] == "UseTablesKmsKey" and "UseTablesKmsKey" in template["Conditions"]
    roles = {ref["Ref"] for ref in grant["Properties"]["Roles"]}
    assert roles == {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role" and name.endswith("Role")
                     and name != "CodeDeployServiceRole"}
    (statement,) = grant["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Ref": "TablesKmsKeyArn"}
    assert statement["Condition"] == {"StringLike": {"kms:ViaService": "dynamodb.*.amazonaws.com"}}
