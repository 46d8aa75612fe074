"""infra/tables.json is generated from the pynamodb models (tools/infra.py): a model change that is not
regenerated, a key or index the stack would not create, or a template CloudFormation would refuse, fails here."""
import copy
import json

import pytest
from chalice.package import TemplateDeepMerger
from cfnlint.api import ManualArgs, lint
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.adapters.tables import ALL_TABLES, ContactTable, ComplaintTable
from chalicelib.settings import get_settings, load_settings
from tools import infra

COMMITTED_TEXT = infra.TABLES_TARGET.read_text(encoding="utf-8")
COMMITTED = json.loads(COMMITTED_TEXT)
RESOURCES = COMMITTED["Resources"]
PREFIX = get_settings().table_prefix


def _short(model):
    return model.Meta.table_name[len(PREFIX) + 1:]


def _table(model):
    return RESOURCES[infra.logical_id(_short(model))]


def _lint(template: dict) -> list[str]:
    text = json.dumps({"AWSTemplateFormatVersion": "2010-09-09", **template})
    return [f"{m.rule.id} {m.message}" for m in lint(text, config=ManualArgs(regions=["eu-central-1"]))]


def test_the_committed_fragment_is_what_the_models_generate_now():
    # Byte for byte, so `python -m tools.infra tables --write` after a model change is the only way to pass.
    assert COMMITTED_TEXT == infra.render(infra.tables_template()), \
        "infra/tables.json is stale: run `python -m tools.infra tables --write`"
    assert infra.main(["tables", "--check"]) == 0


def test_one_table_per_model_and_nothing_else():
    assert {r["Type"] for r in RESOURCES.values()} == {"AWS::DynamoDB::Table"}
    assert sorted(RESOURCES) == sorted(infra.logical_id(_short(m)) for m in ALL_TABLES)
    assert len(RESOURCES) == len(ALL_TABLES) == 12


@pytest.mark.parametrize("model", ALL_TABLES, ids=lambda m: m.__name__)
def test_every_key_and_index_of_the_model_is_in_the_stack(model):
    """Read from the model's attributes, not from pynamodb's schema helper the generator uses."""
    props = _table(model)["Properties"]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    attrs = model.get_attributes()
    expected_keys = [{"AttributeName": attrs[model._hash_keyname].attr_name, "KeyType": "HASH"}]
    if model._range_keyname:
        expected_keys.append({"AttributeName": attrs[model._range_keyname].attr_name, "KeyType": "RANGE"})
    assert props["KeySchema"] == expected_keys

    key_attrs = {k["AttributeName"] for k in expected_keys}
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert sorted(indexes) == sorted(model._indexes)
    for name, index in model._indexes.items():
        assert isinstance(index, GlobalSecondaryIndex)
        index_attrs = index.Meta.attributes  # the key attributes the index class declares
        hash_ = next(a for a in index_attrs.values() if a.is_hash_key)
        range_ = [a for a in index_attrs.values() if a.is_range_key]
        expected = [{"AttributeName": hash_.attr_name, "KeyType": "HASH"}] + [
            {"AttributeName": a.attr_name, "KeyType": "RANGE"} for a in range_]
        assert indexes[name]["KeySchema"] == expected
        assert indexes[name]["Projection"]["ProjectionType"] == index.Meta.projection.projection_type
        key_attrs |= {k["AttributeName"] for k in expected}
    # Exactly the key attributes are declared (CloudFormation refuses unused definitions), with the model's type.
    assert set(types) == key_attrs
    for name in key_attrs:
        declared = next(a for a in attrs.values() if a.attr_name == name)
        assert types[name] == declared.attr_type


@pytest.mark.parametrize("model", ALL_TABLES, ids=lambda m: m.__name__)
def test_every_table_is_a_retained_encrypted_recoverable_on_demand_table_named_for_the_stage(model):
    table = _table(model)
    props = table["Properties"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
    assert props["DeletionProtectionEnabled"] is True
    # The name CloudFormation gives each stage is the one the app's settings compute for that stage.
    template_name = props["TableName"]["Fn::Sub"]
    for stage in ("dev", "prod"):
        settings = load_settings({"QALQAN_STAGE": stage, "AWS_REGION": "eu-central-1", "QALQAN_SECRET": "s" * 32})
        assert template_name.replace("${Stage}", stage) == settings.table_name(_short(model))


def test_the_complaints_stream_carries_both_images_and_its_arn_is_an_output():
    props = _table(ComplaintTable)["Properties"]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    lid = infra.logical_id(_short(ComplaintTable))
    assert COMMITTED["Outputs"][f"{lid}StreamArn"]["Value"] == {"Fn::GetAtt": [lid, "StreamArn"]}
    streamed = [lid for lid, r in RESOURCES.items() if "StreamSpecification" in r["Properties"]]
    assert streamed == [lid]  # the only stream: nothing else pays for one


def test_every_table_name_is_an_output():
    for lid, resource in RESOURCES.items():
        output = COMMITTED["Outputs"][f"{lid}Name"]
        assert output["Value"] == {"Ref": lid}
        assert output.get("Condition") == resource.get("Condition")


def test_ttl_exactly_on_the_tables_whose_model_has_a_ttl_attribute():
    with_ttl = {}
    for model in ALL_TABLES:
        ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
        spec = _table(model)["Properties"].get("TimeToLiveSpecification")
        assert spec == ({"AttributeName": ttl[0], "Enabled": True} if ttl else None)
        if ttl:
            with_ttl[_short(model)] = ttl[0]
    assert with_ttl == {"reactions": "expires_at", "ratings": "expires_at", "telegram": "expires_at"}


def test_the_contact_vault_is_marked_and_can_be_left_out_of_aws():
    vault = _table(ContactTable)
    assert vault["Metadata"]["Qalqan"]["MayLiveElsewhere"] is True
    assert vault["Condition"] == infra.VAULT_CONDITION
    assert COMMITTED["Conditions"][infra.VAULT_CONDITION] == {"Fn::Equals": [{"Ref": "ContactVaultInAws"}, "true"]}
    assert COMMITTED["Parameters"]["ContactVaultInAws"]["Default"] == "true"  # kept in AWS unless a stage says
    others = [lid for lid, r in RESOURCES.items() if "Condition" in r or "Metadata" in r]
    # the Telegram bot's table holds chat ids and conversations: it lives beside the vault
    assert sorted(others) == sorted([infra.logical_id("contacts"), infra.logical_id("telegram")])


def test_the_stage_parameter_is_declared_as_in_the_reactions_fragment_so_they_merge():
    reactions = json.loads((infra.ROOT / "infra" / "reactions.json").read_text())
    assert COMMITTED["Parameters"]["Stage"] == reactions["Parameters"]["Stage"]
    merged = TemplateDeepMerger().merge(copy.deepcopy(COMMITTED), copy.deepcopy(reactions))
    assert set(RESOURCES) <= set(merged["Resources"])


def test_cfn_lint_passes_on_the_fragment_and_catches_a_broken_one():
    assert _lint(COMMITTED) == []
    broken = copy.deepcopy(COMMITTED)
    broken["Resources"]["ComplaintsTable"]["Properties"]["StreamSpecification"]["StreamViewType"] = "BOTH_IMAGES"
    del broken["Resources"]["OutletsTable"]["Properties"]["AttributeDefinitions"][0]
    problems = _lint(broken)
    assert any("BOTH_IMAGES" in p for p in problems), problems
    assert any("OutletsTable" in p or "AttributeDefinitions" in p or "business_bin" in p for p in problems), problems


def test_the_generator_follows_the_model_range_keys_include_projections_and_ttl():
    """A model this repository does not have yet: the generator reads it, it does not hard-code the tables."""
    class ByKind(GlobalSecondaryIndex):
        class Meta:
            index_name = "by_kind"
            projection = IncludeProjection(["title", "amount"])
        kind = UnicodeAttribute(hash_key=True)

    class ByOwner(GlobalSecondaryIndex):
        class Meta:
            index_name = "by_owner"
            projection = KeysOnlyProjection()
        owner = UnicodeAttribute(hash_key=True)
        created = UnicodeAttribute(range_key=True)

    class Example(Model):
        class Meta:
            table_name = f"{PREFIX}-example-things"
            billing_mode = "PAY_PER_REQUEST"
        part = UnicodeAttribute(hash_key=True)
        sort = UnicodeAttribute(range_key=True, attr_name="s")
        kind = UnicodeAttribute()
        owner = UnicodeAttribute()
        created = UnicodeAttribute()
        gone_at = TTLAttribute(null=True)
        by_kind = ByKind()
        by_owner = ByOwner()

    short = infra.short_name(Example, PREFIX)
    assert (short, infra.logical_id(short)) == ("example-things", "ExampleThingsTable")
    props = infra.table_resource(Example, short)["Properties"]
    assert props["TableName"] == {"Fn::Sub": "qalqan-${Stage}-example-things"}
    assert props["KeySchema"] == [{"AttributeName": "part", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}]
    assert [a["AttributeName"] for a in props["AttributeDefinitions"]] == ["created", "kind", "owner", "part", "s"]
    assert props["GlobalSecondaryIndexes"] == [
        {"IndexName": "by_kind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["amount", "title"]}},
        {"IndexName": "by_owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                                                {"AttributeName": "created", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "KEYS_ONLY"}},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "gone_at", "Enabled": True}
    assert "StreamSpecification" not in props

    Example.Meta.billing_mode = "PROVISIONED"  # the stack only creates on-demand tables: refuse, never guess
    with pytest.raises(ValueError, match="on-demand"):
        infra.table_resource(Example, short)
