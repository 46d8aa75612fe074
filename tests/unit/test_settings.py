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


@pytest.mark.parametrize("prefix", [
    "https://push.example.kz/",                 # no trailing slash would let https://push.example.kz.evil.com match
    "http://127.0.0.1:8000/_local/push/",       # the local stack's fake push service
    "http://localhost:8000/_local/push/",
])
def test_a_push_endpoint_prefix_is_an_https_url_ending_in_a_slash_or_a_local_http_one(prefix):
    assert load_settings({**GOOD, "PUSH_ENDPOINT_PREFIXES": f" {prefix} "}).push_endpoint_prefixes == (prefix,)


@pytest.mark.parametrize("prefix", [
    "https://push.example.kz",                  # matches https://push.example.kz.attacker.com/...
    "https://push.example.kz/send",             # matches https://push.example.kz/sendings-elsewhere
    "http://push.example.kz/",                  # plain http off this machine
    "http://localhost.attacker.com/",           # not the local host
    "http://127.0.0.1.attacker.com/",
    "https://push.example.kz@attacker.com/",    # a user part: the host is attacker.com
    "https://push.example.kz/?x=/",
    "ftp://push.example.kz/",
    "/_local/push/",
])
def test_a_push_endpoint_prefix_that_startswith_could_not_hold_to_its_host_is_refused(prefix):
    with pytest.raises(ConfigurationError, match="PUSH_ENDPOINT_PREFIXES"):
        load_settings({**GOOD, "PUSH_ENDPOINT_PREFIXES": f"https://fine.example.kz/,{prefix}"})


@pytest.mark.parametrize("url", ["https://api.telegram.org", "https://tg-proxy.example.kz/bot-api/",
                                 "http://127.0.0.1:8081", "http://localhost:8081/"])
def test_the_telegram_api_base_url_is_https_or_a_local_http_one(url):
    assert load_settings({**GOOD, "TELEGRAM_API_BASE_URL": url}).telegram_api_base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://api.telegram.org", "http://localhost.attacker.com",
                                 "https://api.telegram.org@attacker.com", "api.telegram.org",
                                 "https://api.telegram.org/?x=1"])
def test_a_telegram_api_base_url_that_would_carry_the_bot_token_in_clear_or_elsewhere_is_refused(url):
    with pytest.raises(ConfigurationError, match="TELEGRAM_API_BASE_URL"):
        load_settings({**GOOD, "TELEGRAM_API_BASE_URL": url})
