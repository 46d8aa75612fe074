"""Generate infra/ CloudFormation fragments from the code, so the deployed tables cannot drift from the models.

    python -m tools.infra tables             # prints the DynamoDB tables fragment
    python -m tools.infra tables --write     # writes infra/tables.json
    python -m tools.infra tables --check     # fails if infra/tables.json is stale (the tests do the same)

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

# The short name of the contact vault table (settings.table_name("contacts")): see _vault_meta in the models.
VAULT_SHORT = "contacts"
VAULT_PARAMETER = "ContactVaultInAws"
VAULT_CONDITION = "KeepContactVaultInAws"

_PROJECTIONS = {"ALL", "KEYS_ONLY", "INCLUDE"}


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
    if short == VAULT_SHORT:
        resource["Condition"] = VAULT_CONDITION
        resource["Metadata"] = {"Qalqan": {
            "ContactVault": True,
            "MayLiveElsewhere": True,
            "Why": ("Direct identifiers of complainants (name, phone, email). Kazakhstan's personal-data law "
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
        if short == VAULT_SHORT:
            output["Condition"] = VAULT_CONDITION
        outputs[f"{lid}Name"] = output
        if resources[lid]["Properties"].get("StreamSpecification"):
            outputs[f"{lid}StreamArn"] = {
                "Description": f"the {short} table's stream (the reactions handler reads it)",
                "Value": {"Fn::GetAtt": [lid, "StreamArn"]}}
    return {
        "Parameters": {
            # Declared exactly as in infra/reactions.json, so merging both keeps one identical parameter.
            "Stage": {
                "Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"],
                "Description": "the Chalice stage this package is for (names match .chalice/policy-<stage>-<function>.json)",
            },
            VAULT_PARAMETER: {
                "Type": "String", "Default": "true", "AllowedValues": ["true", "false"],
                "Description": ("false when the contact vault lives on a DynamoDB-compatible store outside AWS "
                                "(CONTACT_VAULT_ENDPOINT); the stack then does not create the contacts table"),
            },
            "TablesKmsKeyArn": {
                "Type": "String", "Default": "",
                "Description": ("a customer-managed KMS key for the tables (the roles then need kms:Decrypt "
                                "and kms:GenerateDataKey on it); empty: the AWS-managed key"),
            },
        },
        "Conditions": {
            VAULT_CONDITION: {"Fn::Equals": [{"Ref": VAULT_PARAMETER}, "true"]},
            "UseTablesKmsKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "TablesKmsKeyArn"}, ""]}]},
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def render(template: dict) -> str:
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.infra", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tables = sub.add_parser("tables", help="the DynamoDB tables fragment, from the pynamodb models")
    mode = tables.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {TABLES_TARGET.relative_to(ROOT)}")
    mode.add_argument("--check", action="store_true", help=f"fail if {TABLES_TARGET.relative_to(ROOT)} is stale")
    args = parser.parse_args(argv)

    text = render(tables_template())
    if args.write:
        TABLES_TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TABLES_TARGET.relative_to(ROOT)}", file=sys.stderr)
    elif args.check:
        current = TABLES_TARGET.read_text(encoding="utf-8") if TABLES_TARGET.exists() else ""
        if current != text:
            print(f"{TABLES_TARGET.relative_to(ROOT)} is stale: run `python -m tools.infra tables --write`",
                  file=sys.stderr)
            return 1
        print(f"{TABLES_TARGET.relative_to(ROOT)} is up to date", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
