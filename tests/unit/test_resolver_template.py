"""infra/resolver.json is merged into `chalice package` output: the function URL, its two permissions and the
reserved concurrency must land on the resource Chalice generates for `qr_resolver`, or every printed sticker
leads to a URL that does not exist (or answers 403: URLs made after October 2025 need both permissions)."""
import copy
import json
from pathlib import Path

from cfnlint.api import ManualArgs, lint
from chalice.package import TemplateDeepMerger
from chalice.utils import to_cfn_resource_name

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATE = json.loads((INFRA / "resolver.json").read_text())
URL_PERMISSION = {"Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"}
INVOKE_PERMISSION = {"Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": True}


def _resolver_id() -> str:
    from app import app

    (resolver,) = [f for f in app.pure_lambda_functions if f.name == "qr_resolver"]
    return to_cfn_resource_name(resolver.name)


def _chalice_output(function: str, function_type: str, properties: dict) -> dict:
    """What `chalice package` writes for the resolver (SAM), or a plain Lambda stand-in cfn-lint can check
    without the SAM translator, which is not installed."""
    output = {"Resources": {function: {"Type": function_type, "Properties": properties}},
              "Outputs": {"EndpointURL": {"Value": "https://example.execute-api.eu-central-1.amazonaws.com/api/"}}}
    if function_type == "AWS::Serverless::Function":
        output["Transform"] = "AWS::Serverless-2016-10-31"
    return output


def _merged_sam() -> tuple[str, dict]:
    function = _resolver_id()
    output = _chalice_output(function, "AWS::Serverless::Function", {
        "Handler": "app.qr_resolver", "Runtime": "python3.11", "CodeUri": "./deployment.zip",
        "MemorySize": 512, "Timeout": 10, "Role": {"Fn::GetAtt": ["QrResolverRole", "Arn"]}})
    return function, TemplateDeepMerger().merge(copy.deepcopy(TEMPLATE), output)


def _lint(template: dict) -> list[str]:
    text = json.dumps({"AWSTemplateFormatVersion": "2010-09-09", **template})
    return [f"{m.rule.id} {m.message}" for m in lint(text, config=ManualArgs(regions=["eu-central-1"]))]


def _lintable(fragment: dict) -> dict:
    function = _resolver_id()
    output = _chalice_output(function, "AWS::Lambda::Function", {
        "Handler": "app.qr_resolver", "Runtime": "python3.11", "MemorySize": 512, "Timeout": 10,
        "Code": {"S3Bucket": "qalqan-dev-deployment", "S3Key": "deployment.zip"},
        "Role": "arn:aws:iam::123456789012:role/qalqan-dev-qr_resolver"})
    return TemplateDeepMerger().merge(copy.deepcopy(fragment), output)


def test_the_fragment_names_the_resource_chalice_generates_for_the_resolver():
    function = _resolver_id()
    assert function == "QrResolver"
    # No Type in the fragment: the merge adds properties to Chalice's function instead of replacing it.
    assert set(TEMPLATE["Resources"][function]) == {"Properties"}


def test_the_function_url_is_public_buffered_and_points_at_the_resolver():
    function, merged = _merged_sam()
    urls = [r for r in merged["Resources"].values() if r["Type"] == "AWS::Lambda::Url"]
    assert [u["Properties"] for u in urls] == [
        {"TargetFunctionArn": {"Ref": function}, "AuthType": "NONE", "InvokeMode": "BUFFERED"}]
    (url_id,) = [k for k, r in merged["Resources"].items() if r["Type"] == "AWS::Lambda::Url"]
    output = merged["Outputs"]["QrResolverFunctionUrl"]
    assert output["Value"] == {"Fn::GetAtt": [url_id, "FunctionUrl"]}
    assert output["Export"]["Name"] == {"Fn::Sub": "qalqan-${Stage}-qr-resolver-url"}  # one per stage, never clashing
    assert "EndpointURL" in merged["Outputs"]  # Chalice's own outputs survive the merge


def test_both_permissions_exist_with_exactly_their_conditions():
    function, merged = _merged_sam()
    permissions = [r["Properties"] for r in merged["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    expected = [{"FunctionName": {"Ref": function}, **URL_PERMISSION},
                {"FunctionName": {"Ref": function}, **INVOKE_PERMISSION}]
    assert sorted(permissions, key=lambda p: p["Action"]) == sorted(expected, key=lambda p: p["Action"])
    # Public InvokeFunction without the function-URL condition would let anyone call the resolver directly.
    assert all("InvokedViaFunctionUrl" in p or "FunctionUrlAuthType" in p for p in permissions)


def test_reserved_concurrency_is_merged_into_chalices_function_without_replacing_it():
    function, merged = _merged_sam()
    resource = merged["Resources"][function]
    assert resource["Type"] == "AWS::Serverless::Function"
    props = resource["Properties"]
    assert props["ReservedConcurrentExecutions"] == {"Ref": "ResolverReservedConcurrency"}
    assert (props["Handler"], props["MemorySize"], props["Timeout"]) == ("app.qr_resolver", 512, 10)
    parameter = merged["Parameters"]["ResolverReservedConcurrency"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 50, 1)


def test_the_stage_parameter_is_the_same_as_the_other_fragments():
    reactions = json.loads((INFRA / "reactions.json").read_text())
    assert TEMPLATE["Parameters"]["Stage"] == reactions["Parameters"]["Stage"]


def test_cfn_lint_passes_on_the_merged_template():
    assert _lint(_lintable(TEMPLATE)) == []


def test_cfn_lint_would_catch_a_broken_fragment():
    """The lint above is not vacuous: a URL auth type AWS does not have fails it."""
    broken = copy.deepcopy(TEMPLATE)
    broken["Resources"]["QrResolverUrl"]["Properties"]["AuthType"] = "PUBLIC"
    assert any("PUBLIC" in message for message in _lint(_lintable(broken)))


def _distribution() -> dict:
    return TEMPLATE["Resources"]["StickerDistribution"]["Properties"]["DistributionConfig"]


def test_the_sticker_domain_is_cloudfront_in_front_of_the_function_url_host():
    """The stickers print QR_BASE_URL for years; the function URL changes whenever the function is recreated.
    The distribution's origin is the URL's host (https://<id>.lambda-url.<region>.on.aws/ split on '/')."""
    (origin,) = _distribution()["Origins"]
    assert origin["DomainName"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["QrResolverUrl", "FunctionUrl"]}]}]}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviour = _distribution()["DefaultCacheBehavior"]
    # Nothing cached (the resolver answers no-store: a deactivated outlet must stop resolving at once), and every
    # viewer header but Host goes to the origin: a function URL answers 403 to a foreign Host.
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
    assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_custom_domain_its_certificate_and_dns_are_parameters_and_go_together():
    conditions = TEMPLATE["Conditions"]
    assert conditions["HasStickerDomain"] == {"Fn::And": [
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "StickerDomain"}, ""]}]},
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "StickerCertificateArn"}, ""]}]}]}
    assert _distribution()["Aliases"]["Fn::If"][0] == "HasStickerDomain"
    assert _distribution()["ViewerCertificate"]["Fn::If"][1]["AcmCertificateArn"] == {"Ref": "StickerCertificateArn"}
    assert TEMPLATE["Parameters"]["StickerCertificateArn"]["AllowedPattern"].startswith("^(arn:aws:acm:us-east-1:")
    for record in ("StickerDnsA", "StickerDnsAAAA"):
        resource = TEMPLATE["Resources"][record]
        assert resource["Condition"] == "HasStickerZone"
        assert resource["Properties"]["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["StickerDistribution", "DomainName"]}
    assert {rule["RuleCondition"]["Fn::Not"][0]["Fn::Equals"][0]["Ref"] for rule in TEMPLATE["Rules"].values()} == {
        "StickerDomain", "StickerCertificateArn"}
    assert "StickerBaseUrl" in TEMPLATE["Outputs"]

