import pytest

from chalicelib.settings import ConfigurationError, load_settings

GOOD = {"QALQAN_SECRET": "x" * 32, "AWS_REGION": "eu-central-1"}


def test_defaults_suit_the_local_stack():
    s = load_settings(GOOD)
    assert s.web_base_url == "http://127.0.0.1:8000/" and s.qr_base_url == "http://127.0.0.1:8000/q"
    assert s.table_name("outlets") == "qalqan-dev-outlets"
    assert s.status_url("ID", "tok") == "http://127.0.0.1:8000/track.html#id=ID&token=tok"
    assert s.form_url("CODE") == "http://127.0.0.1:8000/?o=CODE&ch=qr"


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigurationError) as info:
        load_settings({"WEB_BASE_URL": "not a url", "LOG_LEVEL": "LOUD", "TABLE_PREFIX": "bad prefix!",
                       "AWS_CONFIG_FILE": "/nonexistent/aws-config"})  # no region anywhere
    message = str(info.value)
    for name in ("WEB_BASE_URL", "QALQAN_SECRET", "LOG_LEVEL", "TABLE_PREFIX", "AWS_REGION"):
        assert name in message


def test_base_urls_are_normalised():
    s = load_settings({**GOOD, "WEB_BASE_URL": "https://qalqan.kz", "QR_BASE_URL": "https://q.qalqan.kz/"})
    assert s.web_base_url == "https://qalqan.kz/" and s.qr_base_url == "https://q.qalqan.kz"


def test_the_secret_comes_from_ssm_on_first_use_not_at_load():
    import boto3
    from moto import mock_aws

    with mock_aws():
        s = load_settings({"AWS_REGION": "eu-central-1", "QALQAN_SECRET_PARAMETER": "/qalqan/test/secret"})
        with pytest.raises(ConfigurationError, match="ParameterNotFound"):
            _ = s.secret  # nothing there yet: a clear configuration error, raised only when used
        boto3.client("ssm", region_name="eu-central-1").put_parameter(
            Name="/qalqan/test/secret", Value="z" * 40, Type="SecureString")
        s = load_settings({"AWS_REGION": "eu-central-1", "QALQAN_SECRET_PARAMETER": "/qalqan/test/secret"})
        assert s.secret == "z" * 40


def test_a_previous_secret_is_optional_checked_and_never_the_current_one():
    from chalicelib.settings import ConfigurationError, load_settings

    base = {"AWS_REGION": "eu-central-1", "QALQAN_SECRET": "s" * 40}
    assert load_settings(base).previous_secrets == ()
    assert load_settings({**base, "QALQAN_PREVIOUS_SECRET": "p" * 40}).previous_secrets == ("p" * 40,)
    assert load_settings({**base, "QALQAN_PREVIOUS_SECRET": "s" * 40}).previous_secrets == ()
    with pytest.raises(ConfigurationError):
        load_settings({**base, "QALQAN_PREVIOUS_SECRET": "short"}).previous_secrets


def test_the_region_may_come_from_the_aws_config_file_as_for_the_cli(tmp_path, monkeypatch):
    from chalicelib.settings import ConfigurationError, load_settings

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-north-1\n[profile kz]\nregion = ap-south-1\n")
    base = {"QALQAN_SECRET": "s" * 40, "AWS_CONFIG_FILE": str(config)}
    assert load_settings(base).aws_region == "eu-north-1"
    assert load_settings({**base, "AWS_PROFILE": "kz"}).aws_region == "ap-south-1"
    assert load_settings({**base, "AWS_REGION": "eu-central-1"}).aws_region == "eu-central-1"
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    with pytest.raises(ConfigurationError, match="AWS_REGION must be set"):
        load_settings({"QALQAN_SECRET": "s" * 40, "AWS_CONFIG_FILE": str(empty)})


def test_the_contact_vault_may_have_its_own_key_pair_read_from_ssm_once():
    """A vault on a store in Kazakhstan is reached with that store's credentials, never the AWS role's."""
    import boto3
    from moto import mock_aws

    vault = {**GOOD, "CONTACT_VAULT_ENDPOINT": "https://ddb.kz-example.net", "CONTACT_VAULT_REGION": "kz-ala-1",
             "CONTACT_VAULT_ACCESS_KEY_ID": "KZVAULTKEY", "CONTACT_VAULT_SECRET_KEY_PARAMETER": "/qalqan/prod/vault-key"}
    with mock_aws():
        boto3.client("ssm", region_name="eu-central-1").put_parameter(
            Name="/qalqan/prod/vault-key", Value="vault-secret-half", Type="SecureString")
        s = load_settings(vault)
        assert "vault-secret-half" not in repr(s)
        assert s.contact_vault_credentials == {"aws_access_key_id": "KZVAULTKEY",
                                               "aws_secret_access_key": "vault-secret-half"}
    assert s.contact_vault_credentials["aws_secret_access_key"] == "vault-secret-half"  # cached: no second read
    assert load_settings(GOOD).contact_vault_credentials == {}  # the function's role


def test_the_vault_key_pair_is_all_or_nothing_and_needs_its_own_endpoint():
    for partial, complaint in (({"CONTACT_VAULT_ACCESS_KEY_ID": "K", "CONTACT_VAULT_ENDPOINT": "https://v.kz"},
                                "needs CONTACT_VAULT_SECRET_KEY_PARAMETER"),
                               ({"CONTACT_VAULT_SECRET_KEY_PARAMETER": "/p"}, "without CONTACT_VAULT_ACCESS_KEY_ID"),
                               ({"CONTACT_VAULT_ACCESS_KEY_ID": "K", "CONTACT_VAULT_SECRET_ACCESS_KEY": "s"},
                                "set CONTACT_VAULT_ENDPOINT too")):
        with pytest.raises(ConfigurationError, match=complaint):
            load_settings({**GOOD, **partial})


def test_the_vault_tables_carry_the_vaults_own_key_and_the_others_do_not(monkeypatch):
    from chalicelib.adapters import tables

    s = load_settings({**GOOD, "CONTACT_VAULT_ENDPOINT": "http://127.0.0.1:9", "CONTACT_VAULT_ACCESS_KEY_ID": "KZVAULTKEY",
                       "CONTACT_VAULT_SECRET_ACCESS_KEY": "s" * 20})
    monkeypatch.setattr(tables, "_settings", s)
    meta = tables._vault_meta()
    assert (meta.host, meta.aws_access_key_id, meta.aws_secret_access_key) == ("http://127.0.0.1:9", "KZVAULTKEY", "s" * 20)
    assert getattr(tables.ComplaintTable.Meta, "aws_access_key_id", None) is None  # the AWS side keeps the role
