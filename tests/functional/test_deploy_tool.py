"""tools/deploy.py against moto: the secret, the artifacts, the change-set deploy (create, update, no change,
failure), the site's sync with config.js and the cache invalidation. What moto cannot run (the SAM transform)
is checked offline in test_deploy_offline.py."""
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from tools import deploy

REGION = "eu-central-1"
QUEUE_TEMPLATE = {
    "Parameters": {"Stage": {"Type": "String"}, "Retention": {"Type": "Number", "Default": 60}},
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": {"Fn::Sub": "qalqan-${Stage}-probe"}, "MessageRetentionPeriod": {"Ref": "Retention"}}}},
    "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
}


@pytest.fixture
def session(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def test_the_secret_is_created_once_as_a_securestring_and_never_replaced(session):
    ssm = session.client("ssm")
    assert deploy.ensure_secret(ssm, "/qalqan/dev/secret") is True
    first = ssm.get_parameter(Name="/qalqan/dev/secret", WithDecryption=True)["Parameter"]
    assert first["Type"] == "SecureString" and len(first["Value"]) >= 64
    assert deploy.ensure_secret(ssm, "/qalqan/dev/secret") is False
    assert ssm.get_parameter(Name="/qalqan/dev/secret", WithDecryption=True)["Parameter"]["Value"] == first["Value"]


def test_a_plain_string_parameter_in_the_secrets_place_stops_the_deploy(session):
    ssm = session.client("ssm")
    ssm.put_parameter(Name="/qalqan/dev/secret", Type="String", Value="x" * 40)
    with pytest.raises(deploy.DeployError, match="not a SecureString"):
        deploy.ensure_secret(ssm, "/qalqan/dev/secret")


def test_artifacts_go_to_a_private_bucket_and_every_function_points_at_its_own_zip(session, tmp_path):
    s3 = session.client("s3")
    for zip_name, source in (("deployment.zip", "print('api')\n"), ("reactions.zip", "print('reactions')\n")):
        with zipfile.ZipFile(tmp_path / zip_name, "w") as archive:
            archive.writestr("app.py", source)
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {
        name: {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": code, "Handler": h}}
        for name, h, code in (("APIHandler", "app.app", "./deployment.zip"),
                              ("QrResolver", "app.qr_resolver", "./deployment.zip"),
                              ("Reactions", "app.reactions", "./reactions.zip"))}}
    (tmp_path / "sam.json").write_text(json.dumps(template))
    bucket = deploy.artifacts_bucket(s3, "dev", "123456789012", REGION)
    assert bucket == "qalqan-dev-artifacts-123456789012-eu-central-1"
    assert deploy.artifacts_bucket(s3, "dev", "123456789012", REGION) == bucket  # a second deploy reuses it
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    url = deploy.publish_artifacts(s3, bucket, "dev", tmp_path)
    key = url.split(".amazonaws.com/", 1)[1]
    uploaded = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    code = {name: r["Properties"]["CodeUri"] for name, r in uploaded["Resources"].items()}
    assert {c["Bucket"] for c in code.values()} == {bucket}
    assert code["APIHandler"] == code["QrResolver"] != code["Reactions"]  # each zip uploaded once
    for name, zip_name in (("APIHandler", "deployment.zip"), ("Reactions", "reactions.zip")):
        assert s3.get_object(Bucket=bucket, Key=code[name]["Key"])["Body"].read() == (tmp_path / zip_name).read_bytes()
    zips = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dev/")["Contents"] if o["Key"].endswith(".zip")]
    assert sorted(zips) == sorted(c["Key"] for c in (code["APIHandler"], code["Reactions"]))
    assert json.loads((tmp_path / "packaged.json").read_text()) == uploaded
    # unchanged code, the same keys: a redeploy changes no function
    deploy.publish_artifacts(s3, bucket, "dev", tmp_path)
    again = json.loads((tmp_path / "packaged.json").read_text())
    assert {n: r["Properties"]["CodeUri"] for n, r in again["Resources"].items()} == code


def test_a_template_naming_a_zip_the_package_lacks_stops_before_uploading(session, tmp_path):
    s3 = session.client("s3")
    with zipfile.ZipFile(tmp_path / "deployment.zip", "w") as archive:
        archive.writestr("app.py", "print('api')\n")
    template = {"Resources": {
        "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        "Reactions": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./reactions.zip"}}}}
    (tmp_path / "sam.json").write_text(json.dumps(template))
    bucket = deploy.artifacts_bucket(s3, "dev", "123456789012", REGION)
    with pytest.raises(deploy.DeployError, match="reactions.zip is missing"):
        deploy.publish_artifacts(s3, bucket, "dev", tmp_path)
    template["Resources"]["Reactions"]["Properties"]["CodeUri"] = "../elsewhere.zip"
    (tmp_path / "sam.json").write_text(json.dumps(template))
    with pytest.raises(deploy.DeployError, match="not a zip of"):
        deploy.publish_artifacts(s3, bucket, "dev", tmp_path)
    assert not (tmp_path / "packaged.json").exists()


def test_the_stack_is_created_updated_and_left_alone_when_nothing_changed(session):
    cfn = session.client("cloudformation")
    body = json.dumps(QUEUE_TEMPLATE)
    deploy.deploy_stack(cfn, "qalqan-dev", {"Stage": "dev"}, template_body=body, poll=0)
    assert cfn.describe_stacks(StackName="qalqan-dev")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    sqs = session.client("sqs")
    queue = sqs.get_queue_url(QueueName="qalqan-dev-probe")["QueueUrl"]  # moto leaves Outputs empty on change sets
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["MessageRetentionPeriod"])
    assert attributes["Attributes"]["MessageRetentionPeriod"] == "60"

    deploy.deploy_stack(cfn, "qalqan-dev", {"Stage": "dev", "Retention": "120"}, template_body=body, poll=0)
    stack = cfn.describe_stacks(StackName="qalqan-dev")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Retention"] == "120"
    assert cfn.describe_stacks(StackName="qalqan-dev")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    # The same package again: CloudFormation fails the change set with "didn't contain changes" (moto does not
    # say so itself), which is success, and nothing is executed.
    executed = []
    real_describe = cfn.describe_change_set

    def unchanged(**kwargs):
        return {**real_describe(**kwargs), "Status": "FAILED",
                "StatusReason": "The submitted information didn't contain changes. Submit different information."}

    cfn.describe_change_set, cfn.execute_change_set = unchanged, lambda **kw: executed.append(kw)
    deploy.deploy_stack(cfn, "qalqan-dev", {"Stage": "dev", "Retention": "120"}, template_body=body, poll=0)
    assert executed == []


def test_a_stack_whose_first_creation_failed_is_not_updated_blindly(session, monkeypatch):
    cfn = session.client("cloudformation")

    def rolled_back(**_):
        return {"Stacks": [{"StackName": "qalqan-dev", "StackStatus": "ROLLBACK_COMPLETE"}]}

    monkeypatch.setattr(cfn, "describe_stacks", rolled_back)
    with pytest.raises(deploy.DeployError, match="delete-stack --stack-name qalqan-dev"):
        deploy.deploy_stack(cfn, "qalqan-dev", {"Stage": "dev"}, template_body=json.dumps(QUEUE_TEMPLATE), poll=0)


def _distribution(session) -> str:
    cloudfront = session.client("cloudfront")
    config = {"CallerReference": "t", "Comment": "", "Enabled": True,
              "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "b.s3.amazonaws.com",
                                                     "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
              "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                       "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                       "TrustedSigners": {"Enabled": False, "Quantity": 0}}}
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def test_the_site_is_synced_with_its_api_stale_files_go_and_the_cache_is_invalidated(session, tmp_path):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="site", Key="old-page.html", Body=b"gone")
    web = tmp_path / "web"
    (web / "icons").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>q</title>")
    (web / "config.js").write_text('window.QALQAN_API = "";\n')
    (web / "form.js").write_text("console.log(1)")
    (web / "icons" / "icon-192.png").write_bytes(b"\x89PNG")
    (web / "manifest.webmanifest").write_text("{}")

    report = deploy.sync_web(s3, "site", "https://abc.execute-api.eu-central-1.amazonaws.com/api/", web)
    assert report["uploaded"] == 5 and report["removed"] == 1
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]}
    assert keys == {"index.html", "config.js", "form.js", "icons/icon-192.png", "manifest.webmanifest"}
    config = s3.get_object(Bucket="site", Key="config.js")
    assert config["Body"].read().decode() == 'window.QALQAN_API = "https://abc.execute-api.eu-central-1.amazonaws.com/api";\n'
    assert config["CacheControl"] == "no-cache"
    page = s3.get_object(Bucket="site", Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == "no-cache"
    assert s3.get_object(Bucket="site", Key="form.js")["CacheControl"] == "public, max-age=3600"
    assert s3.get_object(Bucket="site", Key="manifest.webmanifest")["ContentType"] == "application/manifest+json"

    distribution = _distribution(session)
    invalidation = deploy.invalidate(session.client("cloudfront"), distribution, "ref-1")
    listed = session.client("cloudfront").list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert [i["Id"] for i in listed["Items"]] == [invalidation]


def test_the_real_web_directory_has_what_the_sync_needs():
    keys = dict(deploy.web_files())
    assert {"index.html", "track.html", "config.js"} <= set(keys)
    assert all(deploy.content_type(path) != "application/octet-stream" for path in keys.values()), keys


def test_no_region_means_no_deploy(monkeypatch, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert deploy.main(["api", "--stage", "dev"]) == 2
    assert "set AWS_REGION" in capsys.readouterr().err


def test_a_malformed_parameter_is_refused_before_anything_runs(monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", REGION)
    assert deploy.main(["api", "--stage", "dev", "--parameter", "StickerDomain"]) == 2
    assert "Key=Value" in capsys.readouterr().err


def test_the_web_deploy_needs_the_api_stack_first(session):
    with pytest.raises(deploy.DeployError, match="run make deploy STAGE=dev first"):
        deploy.deploy_web("dev", REGION, {}, session=session)
