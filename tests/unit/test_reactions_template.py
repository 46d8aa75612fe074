"""infra/reactions.json is merged into `chalice package` output: its names must match what Chalice generates
for the `reactions` stream handler, or the guards silently land on a resource that does not exist."""
import json
from pathlib import Path

from chalice.package import TemplateDeepMerger
from chalice.utils import to_cfn_resource_name

TEMPLATE = json.loads((Path(__file__).resolve().parents[2] / "infra" / "reactions.json").read_text())


def test_the_guards_land_on_chalices_own_event_source_for_the_reactions_handler():
    from app import app

    (handler,) = [h for h in app.event_sources if h.name == "reactions"]
    function = to_cfn_resource_name(handler.name)
    source = f"{function}DynamodbEventSource"  # chalice.package.SAMTemplateGenerator's naming
    chalice_output = {"Resources": {function: {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "app.reactions", "Events": {source: {"Type": "DynamoDB", "Properties": {
            "Stream": handler.stream_arn, "BatchSize": 100, "StartingPosition": "TRIM_HORIZON"}}}}}}}
    merged = TemplateDeepMerger().merge(TEMPLATE, chalice_output)
    props = merged["Resources"][function]["Properties"]["Events"][source]["Properties"]
    # the stack's own complaints table (infra/tables.json), not the placeholder the app was packaged with
    assert props["Stream"] == {"Fn::GetAtt": ["ComplaintsTable", "StreamArn"]} and props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BisectBatchOnFunctionError"] is True and props["MaximumRetryAttempts"] == 10
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["ParkedQueue", "Arn"]}
    env = merged["Resources"][function]["Properties"]["Environment"]["Variables"]
    assert env == {"NOTIFICATIONS_TOPIC_ARN": {"Ref": "NotificationsTopic"}, "PARKED_QUEUE_URL": {"Ref": "ParkedQueue"}}
    assert merged["Resources"][function]["Type"] == "AWS::Serverless::Function"  # merged, not replaced


def test_the_parking_queue_keeps_records_longer_than_the_ledger_needs_and_alarms_on_the_first():
    from chalicelib.adapters.counters import LEDGER_DAYS

    queue = TEMPLATE["Resources"]["ParkedQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600 < LEDGER_DAYS * 24 * 3600
    alarm = TEMPLATE["Resources"]["ParkedQueueAlarm"]["Properties"]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ParkedQueue", "QueueName"]}


def test_the_names_match_the_stage_policies():
    for stage in ("dev", "prod"):
        policy = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / f"policy-{stage}-reactions.json").read_text())
        by_sid = {s["Sid"]: s for s in policy["Statement"]}
        assert by_sid["Parking"]["Resource"].endswith(f":qalqan-{stage}-parked")
        assert by_sid["Notifications"]["Resource"].endswith(f":qalqan-{stage}-notifications")
    assert TEMPLATE["Resources"]["ParkedQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "qalqan-${Stage}-parked"}
