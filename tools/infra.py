"""Generate infra/ CloudFormation fragments from the code, so the deployed tables cannot drift from the models.

    python -m tools.infra tables             # prints the DynamoDB tables fragment
    python -m tools.infra tables --write     # writes infra/tables.json
    python -m tools.infra tables --check     # fails if infra/tables.json is stale (the tests do the same)
    python -m tools.infra web [--write|--check]   # the same for infra/web.json (S3 + CloudFront for web/)

The tables fragment is read from the pynamodb models in `chalicelib/adapters/tables.py` (ALL_TABLES): keys,
the attributes used as keys, the global secondary indexes with their projections, the stream view type and
the TTL attribute. Everything a model does not say is house policy and is the same for every table:
on-demand billing, point-in-time recovery, KMS encryption at rest, deletion protection and `Retain`, because
these tables are the system of record (complaints are evidence for agencies) and a stack mistake must never
drop one. `chalice package --merge-template` merges this fragment like infra/reactions.json; the `Stage`
parameter is declared identically in both, so the merge keeps one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES_TARGET = ROOT / "infra" / "tables.json"
WEB_TARGET = ROOT / "infra" / "web.json"

# The short name of the contact vault table (settings.table_name("contacts")): see _vault_meta in the models.
VAULT_SHORT = "contacts"
# Every table that lives beside the contact vault (same endpoint, same condition), with why it must.
VAULT_WHY = {
    VAULT_SHORT: "Direct identifiers of complainants (name, phone, email).",
    "telegram": "Telegram chat ids and conversations in progress (a chat id reaches a person).",
}
VAULT_PARAMETER = "ContactVaultInAws"
VAULT_CONDITION = "KeepContactVaultInAws"

_PROJECTIONS = {"ALL", "KEYS_ONLY", "INCLUDE"}

# Declared identically in every fragment (and in infra/reactions.json), so merging them keeps one parameter.
STAGE_PARAMETER = {
    "Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"],
    "Description": "the Chalice stage this package is for (names match .chalice/policy-<stage>-<function>.json)",
}


def _import_models():
    """The models read Settings at import (table names, region). This tool talks to no AWS service, so a
    shell that only wants the template needs no region or secret: give placeholders only when they are unset,
    so a configured shell (or the test suite's conftest) keeps its own."""
    os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1")
    if not os.environ.get("QALQAN_SECRET") and not os.environ.get("QALQAN_SECRET_PARAMETER"):
        # A parameter name is read lazily (only when a token is derived), so nothing is fetched here.
        os.environ["QALQAN_SECRET_PARAMETER"] = "/qalqan/tools-infra/unused"
    from chalicelib.adapters import tables
    from chalicelib.settings import get_settings

    return tables.ALL_TABLES, get_settings().table_prefix


def short_name(model, prefix: str) -> str:
    """The stage-independent part of a model's table name ("complaints" of "qalqan-dev-complaints")."""
    name = model.Meta.table_name
    if not name.startswith(prefix + "-"):
        raise ValueError(f"{model.__name__}: table {name!r} does not start with the prefix {prefix!r}-")
    return name[len(prefix) + 1:]


def logical_id(short: str) -> str:
    """CloudFormation logical id: "routing-examples" -> "RoutingExamplesTable"."""
    return "".join(part.capitalize() for part in short.replace("_", "-").split("-")) + "Table"


def _key_schema(entries) -> list[dict]:
    # DynamoDB requires the HASH key first; pynamodb's schema order follows a set and varies between runs.
    order = {"HASH": 0, "RANGE": 1}
    return [{"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]}
            for e in sorted(entries, key=lambda e: order[e["KeyType"]])]


def _projection(raw: dict) -> dict:
    kind = raw["ProjectionType"]
    if kind not in _PROJECTIONS:
        raise ValueError(f"unknown projection {kind!r}")
    out = {"ProjectionType": kind}
    if kind == "INCLUDE":
        out["NonKeyAttributes"] = sorted(raw["NonKeyAttributes"])
    return out


def _ttl_attribute(model) -> str | None:
    from pynamodb.attributes import TTLAttribute

    names = [attr.attr_name for attr in model.get_attributes().values() if isinstance(attr, TTLAttribute)]
    if len(names) > 1:  # DynamoDB allows one TTL attribute per table
        raise ValueError(f"{model.__name__} declares more than one TTLAttribute: {names}")
    return names[0] if names else None


def table_resource(model, short: str) -> dict:
    schema = model._get_schema()
    if schema.get("local_secondary_indexes"):
        # An LSI can only be created with its table; not used so far, so refuse rather than half-support it.
        raise ValueError(f"{model.__name__}: local secondary indexes are not generated")
    props: dict = {
        "TableName": {"Fn::Sub": f"qalqan-${{Stage}}-{short}"},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(
            ({"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
             for a in schema["attribute_definitions"]), key=lambda a: a["AttributeName"]),
        "KeySchema": _key_schema(schema["key_schema"]),
    }
    billing = getattr(model.Meta, "billing_mode", None)
    if billing != "PAY_PER_REQUEST":
        raise ValueError(f"{model.__name__}: billing_mode {billing!r}; the stack only creates on-demand tables")
    indexes = sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])
    if indexes:
        props["GlobalSecondaryIndexes"] = [
            {"IndexName": i["index_name"], "KeySchema": _key_schema(i["key_schema"]),
             "Projection": _projection(i["projection"])} for i in indexes]
    stream = getattr(model.Meta, "stream_view_type", None)
    if stream:
        props["StreamSpecification"] = {"StreamViewType": stream}
    ttl = _ttl_attribute(model)
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    props.update({
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        # KMS at rest; with no key given DynamoDB uses the AWS-managed key (alias/aws/dynamodb), which the
        # functions' roles need no kms:Decrypt for. A customer-managed key is a parameter.
        "SSESpecification": {
            "SSEEnabled": True, "SSEType": "KMS",
            "KMSMasterKeyId": {"Fn::If": ["UseTablesKmsKey", {"Ref": "TablesKmsKeyArn"}, {"Ref": "AWS::NoValue"}]},
        },
        "DeletionProtectionEnabled": True,
        "Tags": [{"Key": "qalqan:stage", "Value": {"Ref": "Stage"}}, {"Key": "qalqan:table", "Value": short}],
    })
    resource: dict = {
        "Type": "AWS::DynamoDB::Table",
        # Retain on delete and on replacement: removing a table from the stack, or a change that would
        # replace it, leaves the data in place (and resource import can adopt it again).
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }
    if short in VAULT_WHY:
        resource["Condition"] = VAULT_CONDITION
        resource["Metadata"] = {"Qalqan": {
            "ContactVault": True,
            "MayLiveElsewhere": True,
            "Why": (f"{VAULT_WHY[short]} Kazakhstan's personal-data law "
                    "(No. 94-V, Art. 12(2)) may require this table on a DynamoDB-compatible store hosted in "
                    "Kazakhstan: set ContactVaultInAws=false and point CONTACT_VAULT_ENDPOINT there."),
        }}
    return resource


def tables_template() -> dict:
    models, prefix = _import_models()
    resources: dict = {}
    outputs: dict = {}
    for model in models:
        short = short_name(model, prefix)
        lid = logical_id(short)
        if lid in resources:
            raise ValueError(f"two models map to the logical id {lid}")
        resources[lid] = table_resource(model, short)
        output = {"Description": f"the {short} table's name", "Value": {"Ref": lid}}
        if short in VAULT_WHY:
            output["Condition"] = VAULT_CONDITION
        outputs[f"{lid}Name"] = output
        if resources[lid]["Properties"].get("StreamSpecification"):
            outputs[f"{lid}StreamArn"] = {
                "Description": f"the {short} table's stream (the reactions handler reads it)",
                "Value": {"Fn::GetAtt": [lid, "StreamArn"]}}
    return {
        "Parameters": {
            # Declared exactly as in infra/reactions.json, so merging both keeps one identical parameter.
            "Stage": dict(STAGE_PARAMETER),
            VAULT_PARAMETER: {
                "Type": "String", "Default": "true", "AllowedValues": ["true", "false"],
                "Description": ("false when the contact vault lives on a DynamoDB-compatible store outside AWS "
                                "(CONTACT_VAULT_ENDPOINT); the stack then does not create the contacts table"),
            },
            "TablesKmsKeyArn": {
                "Type": "String", "Default": "",
                "Description": ("a customer-managed KMS key for the tables (infra/roles.json grants the "
                                "functions' roles its use through DynamoDB); empty: the AWS-managed key"),
            },
        },
        "Conditions": {
            VAULT_CONDITION: {"Fn::Equals": [{"Ref": VAULT_PARAMETER}, "true"]},
            "UseTablesKmsKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "TablesKmsKeyArn"}, ""]}]},
        },
        "Resources": resources,
        "Outputs": outputs,
    }


# --- web/: a private S3 bucket behind CloudFront, with the local stack's security headers -----------------

# CloudFront's managed "CachingOptimized" cache policy: a fixed id AWS documents for every account.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
HSTS_MAX_AGE = 63072000  # two years, the preload list's minimum is one
_CSP_CONNECT = "connect-src 'self'"
# The Referrer-Policy values a CloudFront response-headers policy accepts.
_CLOUDFRONT_REFERRER_POLICIES = {
    "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin",
    "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
}


def _local_headers():
    """The headers `make run` sends (local/server.py). The browser tests run the pages under them, so
    CloudFront serving the very same values is what makes those tests say something about production."""
    from local import server

    return server.PAGE_CSP, dict(server.SECURITY_HEADERS)


def page_csp_for(page_csp: str) -> dict:
    """The pages' CSP, as a template value. Locally the API is on the pages' origin; deployed, config.js
    points at the stage's API Gateway URL, so its origin (the ApiOrigin parameter) joins connect-src and
    nothing else changes. Without ApiOrigin (an API behind the same domain) the value is exactly PAGE_CSP."""
    if page_csp.count(_CSP_CONNECT) != 1 or "${" in page_csp:
        raise ValueError(f"PAGE_CSP must have exactly one {_CSP_CONNECT!r} and no '${{': {page_csp!r}")
    with_api = page_csp.replace(_CSP_CONNECT, _CSP_CONNECT + " ${ApiOrigin}")
    return {"Fn::If": ["HasApiOrigin", {"Fn::Sub": with_api}, page_csp]}


def response_headers_policy(page_csp: str, security_headers: dict[str, str]) -> dict:
    """Every local header maps to a CloudFront setting; one CloudFront cannot express is an error, never
    silently dropped."""
    headers = dict(security_headers)
    if headers.pop("X-Content-Type-Options", None) != "nosniff":
        raise ValueError("local/server.py must send X-Content-Type-Options: nosniff")
    referrer = headers.pop("Referrer-Policy", None)
    if referrer not in _CLOUDFRONT_REFERRER_POLICIES:
        raise ValueError(f"Referrer-Policy {referrer!r} is not one CloudFront can send")
    if "frame-ancestors 'none'" not in page_csp:
        raise ValueError("PAGE_CSP must forbid framing (frame-ancestors 'none')")
    security = {
        "ContentSecurityPolicy": {"ContentSecurityPolicy": page_csp_for(page_csp), "Override": True},
        "ContentTypeOptions": {"Override": True},  # CloudFront's only value is nosniff
        "ReferrerPolicy": {"ReferrerPolicy": referrer, "Override": True},
        # frame-ancestors is the standard; X-Frame-Options covers browsers that predate it.
        "FrameOptions": {"FrameOption": "DENY", "Override": True},
        # Only over HTTPS does this mean anything, so it is CloudFront's alone: the local stack is plain HTTP.
        "StrictTransportSecurity": {"AccessControlMaxAgeSec": HSTS_MAX_AGE, "IncludeSubdomains": True,
                                    "Preload": True, "Override": True},
    }
    config: dict = {
        "Name": {"Fn::Sub": "qalqan-${Stage}-web-headers"},
        "Comment": "the headers local/server.py sends (generated by tools/infra.py)",
        "SecurityHeadersConfig": security,
    }
    if headers:  # e.g. Cross-Origin-Opener-Policy, which has no security-headers setting of its own
        config["CustomHeadersConfig"] = {"Items": [
            {"Header": name, "Value": value, "Override": True} for name, value in sorted(headers.items())]}
    return {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": config}}


def web_template() -> dict:
    page_csp, security_headers = _local_headers()
    bucket_arn = {"Fn::GetAtt": ["WebBucket", "Arn"]}
    objects_arn = {"Fn::Sub": "${WebBucket.Arn}/*"}
    return {
        "Parameters": {
            "Stage": dict(STAGE_PARAMETER),
            "DomainName": {
                "Type": "String", "AllowedPattern": r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$",
                "Description": "the site's host name (e.g. qalqan.kz); its DNS record points at the distribution",
            },
            "CertificateArn": {
                "Type": "String",
                # CloudFront only takes certificates from ACM in us-east-1, whatever region the stack is in.
                "AllowedPattern": r"^arn:aws:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$",
                "Description": "an ACM certificate in us-east-1 covering DomainName",
            },
            "ApiOrigin": {
                "Type": "String", "Default": "", "AllowedPattern": r"^(https://[a-z0-9.-]+(:[0-9]+)?)?$",
                "Description": ("the stage API's origin (https://<id>.execute-api.<region>.amazonaws.com) that "
                                "config.js calls; added to the pages' connect-src. Empty: same origin only"),
            },
        },
        "Conditions": {"HasApiOrigin": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiOrigin"}, ""]}]}},
        "Resources": {
            "WebBucket": {
                "Type": "AWS::S3::Bucket",
                # The pages are rebuilt from the repository, but a stack mistake must not drop a live site.
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketName": {"Fn::Sub": "qalqan-${Stage}-web-${AWS::AccountId}-${AWS::Region}"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True, "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},  # no ACLs at all
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
                    # A bad `make deploy-web` is undone by restoring the previous versions.
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LifecycleConfiguration": {"Rules": [{
                        "Id": "old-versions", "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }]},
                    "Tags": [{"Key": "qalqan:stage", "Value": {"Ref": "Stage"}}],
                },
            },
            "WebOriginAccessControl": {
                "Type": "AWS::CloudFront::OriginAccessControl",
                "Properties": {"OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "qalqan-${Stage}-web"},
                    "Description": "CloudFront signs its requests to the private web bucket",
                    "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4",
                }},
            },
            "WebBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "WebBucket"}, "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {   # This distribution only: another distribution in the account gets nothing.
                            "Sid": "ThisDistributionReads", "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject", "Resource": objects_arn,
                            "Condition": {"StringEquals": {"AWS:SourceArn": {
                                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"}}},
                        },
                        {
                            "Sid": "HttpsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                            "Resource": [bucket_arn, objects_arn],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                }},
            },
            "WebHeadersPolicy": response_headers_policy(page_csp, security_headers),
            "WebDistribution": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {"DistributionConfig": {
                    "Enabled": True,
                    "Comment": {"Fn::Sub": "qalqan ${Stage} web"},
                    "Aliases": [{"Ref": "DomainName"}],
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "Origins": [{
                        "Id": "web-bucket",
                        "DomainName": {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},  # empty: OAC signs instead
                        "OriginAccessControlId": {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]},
                    }],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "web-bucket",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": {"Ref": "WebHeadersPolicy"},
                    },
                    "ViewerCertificate": {
                        "AcmCertificateArn": {"Ref": "CertificateArn"},
                        "SslSupportMethod": "sni-only",
                        "MinimumProtocolVersion": "TLSv1.2_2021",
                    },
                }},
            },
        },
        "Outputs": {
            "WebBucketName": {"Description": "where `make deploy-web` syncs web/", "Value": {"Ref": "WebBucket"}},
            "WebDistributionId": {"Description": "for cache invalidations after a deploy",
                                  "Value": {"Ref": "WebDistribution"}},
            "WebDistributionDomainName": {"Description": "the DNS target (alias/CNAME) for DomainName",
                                          "Value": {"Fn::GetAtt": ["WebDistribution", "DomainName"]}},
        },
    }


def render(template: dict) -> str:
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.infra", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fragments = {
        "tables": (TABLES_TARGET, tables_template, "the DynamoDB tables fragment, from the pynamodb models"),
        "web": (WEB_TARGET, web_template, "S3 and CloudFront for web/, with local/server.py's security headers"),
    }
    for name, (target, _, help_text) in fragments.items():
        command = sub.add_parser(name, help=help_text)
        mode = command.add_mutually_exclusive_group()
        mode.add_argument("--write", action="store_true", help=f"write {target.relative_to(ROOT)}")
        mode.add_argument("--check", action="store_true", help=f"fail if {target.relative_to(ROOT)} is stale")
    args = parser.parse_args(argv)
    target, build, _ = fragments[args.command]

    text = render(build())
    if args.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)
    elif args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target.relative_to(ROOT)} is stale: run `python -m tools.infra {args.command} --write`",
                  file=sys.stderr)
            return 1
        print(f"{target.relative_to(ROOT)} is up to date", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
