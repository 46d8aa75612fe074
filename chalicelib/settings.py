"""One validated settings object, read from the environment once at cold start.

Nothing else in the code reads os.environ. A bad setting fails the import loudly, so a broken deploy
shows up on the first invocation instead of as odd behaviour later.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import urlparse


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    stage: str
    aws_region: str
    table_prefix: str
    qr_base_url: str
    web_base_url: str
    log_level: str
    secret_value: str = field(default="", repr=False)
    secret_parameter: str | None = None
    max_body_bytes: int = 64 * 1024
    # The contact vault (complainants' names, phones, emails) may live on a DynamoDB-compatible store in
    # Kazakhstan while everything else runs in AWS: its own endpoint and region (personal-data law No. 94-V).
    contact_vault_endpoint: str | None = None
    contact_vault_region: str = ""
    # The vault's own credentials, for a store outside this AWS account (a key pair that store issued, its secret
    # half in SSM). Unset: the function's role, whose policy names the vault's tables (ContactVaultInAws).
    contact_vault_access_key_id: str | None = None
    contact_vault_secret_key_value: str = field(default="", repr=False)
    contact_vault_secret_key_parameter: str | None = None
    # Work-queue polls read only changes at least this old, so a write that started earlier but committed
    # later (or an index still catching up) is never skipped by a cursor.
    queue_settle_seconds: float = 3.0
    # The stream reactions: where notifications go and where a record that keeps failing is parked.
    # Unset (local runs without them, tests) means: that channel is not configured.
    notifications_topic_arn: str | None = None
    parked_queue_url: str | None = None
    email_sender: str | None = None          # a verified SES identity, e.g. "Qalqan <no-reply@qalqan.kz>"
    sms_sender_id: str = "Qalqan"
    complaints_stream_arn: str = ""
    # A rotation: tracking tokens made with the previous secret are still accepted (links already sent keep
    # working); new tokens, ids and cursors use the current one. QALQAN_PREVIOUS_SECRET or its SSM parameter.
    previous_secret_value: str = field(default="", repr=False)
    previous_secret_parameter: str | None = None
    # Web Push (docs/push.md): the VAPID private key is a secret like QALQAN_SECRET (VAPID_PRIVATE_KEY, or
    # VAPID_PRIVATE_KEY_PARAMETER in SSM, read on first use); without one, GET /push/key answers 404 and no
    # push is sent. `push_endpoint_prefixes`: endpoints accepted besides the known push services' https hosts
    # (only the local stack's fake push service sets it).
    vapid_private_key_value: str = field(default="", repr=False)
    vapid_private_key_parameter: str | None = None
    # VAPID_PUBLIC_KEY: the pair's public half (base64url uncompressed point), served by GET /push/key as it is,
    # so the API never reads the private key nor needs cryptography; the sender checks that the two match.
    vapid_public_key: str = ""
    vapid_subject: str = ""
    push_endpoint_prefixes: tuple[str, ...] = ()
    # The open data (docs/open-data.md): the bucket the daily export writes to (unset: no export, and
    # GET /open-data/ says so), and how many days back each nightly run rewrites (outcomes arrive late).
    open_data_bucket: str | None = None
    open_data_refresh_days: int = 45
    # The Telegram bot (docs/telegram.md): its Bot API token and the webhook's secret token are secrets like
    # QALQAN_SECRET (a value, or an SSM SecureString parameter read on first use). Without a token and a
    # secret token the bot is off: the webhook answers 404 and outlet cards carry no telegram_url.
    telegram_bot_token_value: str = field(default="", repr=False)
    telegram_bot_token_parameter: str | None = None
    telegram_secret_token_value: str = field(default="", repr=False)
    telegram_secret_token_parameter: str | None = None
    telegram_bot_username: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"

    @cached_property
    def secret(self) -> str:
        """The HMAC secret. From SSM it is fetched on first use, not at import: `chalice package`
        imports the app with the stage's variables but without AWS credentials."""
        value = self.secret_value or _secret_from_ssm(self.secret_parameter)
        if len(value) < 32:
            raise ConfigurationError("the secret behind QALQAN_SECRET_PARAMETER is shorter than 32 characters")
        return value

    @cached_property
    def previous_secrets(self) -> tuple[str, ...]:
        value = self.previous_secret_value or (
            _secret_from_ssm(self.previous_secret_parameter) if self.previous_secret_parameter else "")
        if value and len(value) < 32:
            raise ConfigurationError("the previous secret is shorter than 32 characters")
        return (value,) if value and value != self.secret else ()

    @cached_property
    def contact_vault_credentials(self) -> dict[str, str]:
        """pynamodb Meta attributes for the vault's own key pair, or {} (the function's role)."""
        if not self.contact_vault_access_key_id:
            return {}
        secret = self.contact_vault_secret_key_value or _parameter_value(self.contact_vault_secret_key_parameter,
                                                                         "CONTACT_VAULT_SECRET_KEY_PARAMETER")
        return {"aws_access_key_id": self.contact_vault_access_key_id, "aws_secret_access_key": secret}

    @property
    def telegram_configured(self) -> bool:
        """Both Telegram secrets are given (as values or parameters); nothing is fetched to know it."""
        return bool((self.telegram_bot_token_value or self.telegram_bot_token_parameter)
                    and (self.telegram_secret_token_value or self.telegram_secret_token_parameter))

    @cached_property
    def telegram_bot_token(self) -> str:
        return self.telegram_bot_token_value or _parameter_value(self.telegram_bot_token_parameter,
                                                                 "TELEGRAM_BOT_TOKEN_PARAMETER")

    @cached_property
    def telegram_secret_token(self) -> str:
        value = self.telegram_secret_token_value or _parameter_value(self.telegram_secret_token_parameter,
                                                                     "TELEGRAM_SECRET_TOKEN_PARAMETER")
        if not _TELEGRAM_SECRET.match(value):
            raise ConfigurationError("the Telegram secret token must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def push_configured(self) -> bool:
        """A VAPID key pair is given (the private half as a value or a parameter); nothing is fetched to know it."""
        return bool((self.vapid_private_key_value or self.vapid_private_key_parameter) and self.vapid_public_key)

    @cached_property
    def vapid_private_key(self) -> str:
        """The VAPID private key (base64url raw P-256 scalar, base64url DER or PEM), "" when push is off."""
        if self.vapid_private_key_value or not self.vapid_private_key_parameter:
            return self.vapid_private_key_value
        try:
            return _secret_from_ssm(self.vapid_private_key_parameter)
        except ConfigurationError:
            raise ConfigurationError(f"cannot read VAPID_PRIVATE_KEY_PARAMETER "
                                     f"{self.vapid_private_key_parameter!r}") from None

    def table_name(self, short: str) -> str:
        return f"{self.table_prefix}-{short}"

    def status_url(self, complaint_id: str, token: str) -> str:
        # The token travels in the fragment, so the static host never sees it in its logs.
        return f"{self.web_base_url}track.html#id={complaint_id}&token={token}"

    def form_url(self, outlet_code: str | None = None, *, channel: str = "qr") -> str:
        if outlet_code is None:
            return self.web_base_url
        return f"{self.web_base_url}?o={outlet_code}&ch={channel}"


def _url(name: str, value: str, problems: list[str]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(f"{name} must be an absolute http(s) URL, got {value!r}")
    return value


_LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _remote_url(name: str, value: str, problems: list[str], *, prefix: bool = False) -> str:
    """A URL the API sends secrets or personal data to: https, or plain http only to this machine (the local
    stack's stand-ins), with no user part, query or fragment. A `prefix` (matched with str.startswith) must also
    end in "/", so that it cannot match another host ("https://push.example" matches "https://push.example.evil")
    or a longer path."""
    parsed = urlparse(value)
    try:
        parsed.port  # raises on a port that is not a number
        bad = not parsed.hostname
    except ValueError:
        bad = True
    local = parsed.scheme == "http" and parsed.hostname in _LOCAL_HOSTS
    if (bad or not (parsed.scheme == "https" or local) or "@" in parsed.netloc or parsed.query or parsed.fragment
            or "?" in value or "#" in value or (prefix and not value.endswith("/"))):
        shape = "an https URL ending in \"/\"" if prefix else "an https URL"
        problems.append(f"{name} must be {shape} (http only for 127.0.0.1 or localhost), with no user, query or "
                        f"fragment, got {value!r}")
    return value


def _secret_from_ssm(parameter: str) -> str:
    """In AWS the secret lives in SSM Parameter Store (SecureString), read once per container."""
    import boto3  # only in deployed stages; local runs and tests pass QALQAN_SECRET directly

    try:
        return boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    except Exception as exc:  # report which setting is wrong, not a bare botocore error
        raise ConfigurationError(f"cannot read QALQAN_SECRET_PARAMETER {parameter!r}: {exc.__class__.__name__}") from exc


def _parameter_value(parameter: str | None, setting: str) -> str:
    """A secret kept in SSM (SecureString), read once per container, on first use."""
    if not parameter:
        raise ConfigurationError(f"{setting} is not set")
    import boto3

    try:
        return boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    except Exception as exc:  # report which setting is wrong, not a bare botocore error
        raise ConfigurationError(f"cannot read {setting} {parameter!r}: {exc.__class__.__name__}") from exc


# Telegram's own rules: a secret_token is 1-256 of these characters (we ask for at least 16); a bot's
# username is 5-32 letters, digits and underscores and ends in "bot".
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_TELEGRAM_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,29}[Bb][Oo][Tt]$")
_TELEGRAM_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")


def _region_from_aws_config(env) -> str:
    """The region in the AWS config file (AWS_CONFIG_FILE or ~/.aws/config, profile AWS_PROFILE or
    "default"), as the CLI would use. Lambda always sets AWS_REGION; this is for the shells that run
    `chalice package` or the admin CLI. Only `env` and the file are read, nothing else of the process."""
    try:
        from botocore.configloader import load_config  # only when no region variable is set: never in Lambda

        path = os.path.expanduser(env.get("AWS_CONFIG_FILE") or "~/.aws/config")
        profile = env.get("AWS_PROFILE") or "default"
        return load_config(path).get("profiles", {}).get(profile, {}).get("region") or ""
    except Exception:  # noqa: BLE001 - no file or an unreadable one is the same as no region: the check says so
        return ""


def load_settings(env: dict | None = None) -> Settings:
    """Build Settings from `env` (default: the process environment), collecting every problem at once."""
    env = os.environ if env is None else env
    problems: list[str] = []
    stage = env.get("QALQAN_STAGE", "dev")
    web_base = _url("WEB_BASE_URL", env.get("WEB_BASE_URL", "http://127.0.0.1:8000/"), problems)
    if not web_base.endswith("/"):
        web_base += "/"
    qr_base = _url("QR_BASE_URL", env.get("QR_BASE_URL", "http://127.0.0.1:8000/q"), problems).rstrip("/")
    secret, parameter = env.get("QALQAN_SECRET", ""), env.get("QALQAN_SECRET_PARAMETER") or None
    if not parameter and len(secret) < 32:
        problems.append("QALQAN_SECRET (or QALQAN_SECRET_PARAMETER) must give at least 32 characters: tracking tokens are derived from it")
    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    prefix = env.get("TABLE_PREFIX", f"qalqan-{stage}")
    if not prefix.replace("-", "").replace("_", "").isalnum():
        problems.append(f"TABLE_PREFIX may contain only letters, digits, '-' and '_', got {prefix!r}")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or _region_from_aws_config(env)
    if not region:
        problems.append("AWS_REGION must be set, or a region in the AWS config file "
                        "(personal data must stay in the chosen region)")
    vault_endpoint = env.get("CONTACT_VAULT_ENDPOINT") or None
    if vault_endpoint:
        _url("CONTACT_VAULT_ENDPOINT", vault_endpoint, problems)
    vault_key_id = env.get("CONTACT_VAULT_ACCESS_KEY_ID") or None
    vault_secret = env.get("CONTACT_VAULT_SECRET_ACCESS_KEY", "")
    vault_secret_parameter = env.get("CONTACT_VAULT_SECRET_KEY_PARAMETER") or None
    if vault_key_id and not (vault_secret or vault_secret_parameter):
        problems.append("CONTACT_VAULT_ACCESS_KEY_ID needs CONTACT_VAULT_SECRET_KEY_PARAMETER (or, locally, "
                        "CONTACT_VAULT_SECRET_ACCESS_KEY)")
    if (vault_secret or vault_secret_parameter) and not vault_key_id:
        problems.append("the contact vault's secret key is set without CONTACT_VAULT_ACCESS_KEY_ID")
    if vault_key_id and not vault_endpoint:
        problems.append("CONTACT_VAULT_ACCESS_KEY_ID is for a store outside AWS: set CONTACT_VAULT_ENDPOINT too")
    try:
        settle = float(env.get("QUEUE_SETTLE_SECONDS", "3"))
        if not 0 <= settle <= 60:
            raise ValueError
    except ValueError:
        problems.append("QUEUE_SETTLE_SECONDS must be a number of seconds from 0 to 60")
        settle = 0.0
    stream_arn = env.get("COMPLAINTS_STREAM_ARN") or (
        f"arn:aws:dynamodb:{region or 'eu-central-1'}:000000000000:table/{prefix}-complaints/stream/local")
    if not stream_arn.startswith("arn:aws"):
        problems.append("COMPLAINTS_STREAM_ARN must be the complaints table's stream ARN")
    topic = env.get("NOTIFICATIONS_TOPIC_ARN") or None
    if topic and not topic.startswith("arn:aws"):
        problems.append("NOTIFICATIONS_TOPIC_ARN must be an SNS topic ARN")
    parked = env.get("PARKED_QUEUE_URL") or None
    if parked:
        _url("PARKED_QUEUE_URL", parked, problems)
    bot_token = env.get("TELEGRAM_BOT_TOKEN", "")
    if bot_token and not _TELEGRAM_TOKEN.match(bot_token):
        problems.append("TELEGRAM_BOT_TOKEN must be a Bot API token as BotFather gives it (<digits>:<letters>)")
    telegram_secret = env.get("TELEGRAM_SECRET_TOKEN", "")
    if telegram_secret and not _TELEGRAM_SECRET.match(telegram_secret):
        problems.append("TELEGRAM_SECRET_TOKEN must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
    bot_username = (env.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@") or None
    if bot_username and not _TELEGRAM_USERNAME.match(bot_username):
        problems.append("TELEGRAM_BOT_USERNAME must be the bot's username (5-32 letters, digits, _; ends in 'bot')")
    telegram_api = env.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org").rstrip("/")
    _remote_url("TELEGRAM_API_BASE_URL", telegram_api, problems)  # every Bot API URL carries the bot's token
    open_data_bucket = env.get("OPEN_DATA_BUCKET") or None
    if open_data_bucket and not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", open_data_bucket):
        problems.append(f"OPEN_DATA_BUCKET must be an S3 bucket name, got {open_data_bucket!r}")
    refresh = env.get("OPEN_DATA_REFRESH_DAYS", "45")
    if not (refresh.isascii() and refresh.isdigit() and 1 <= int(refresh) <= 366):
        problems.append("OPEN_DATA_REFRESH_DAYS must be a whole number of days from 1 to 366")
        refresh = "45"
    vapid_key, vapid_parameter = env.get("VAPID_PRIVATE_KEY", ""), env.get("VAPID_PRIVATE_KEY_PARAMETER") or None
    # Push services want to know who sends: a mailto: or https: contact (Apple refuses anything else).
    vapid_subject = env.get("VAPID_SUBJECT") or (web_base.rstrip("/") if web_base.startswith("https://") else "")
    if (vapid_key or vapid_parameter) and not vapid_subject.startswith(("mailto:", "https://")):
        problems.append("VAPID_SUBJECT must be a mailto: or https: contact when a VAPID key is set")
    vapid_public = env.get("VAPID_PUBLIC_KEY", "").strip()
    if bool(vapid_key or vapid_parameter) != bool(vapid_public):
        problems.append("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (or VAPID_PRIVATE_KEY_PARAMETER) go together "
                        "(`python -m tools.admin push-keys` makes a pair)")
    elif vapid_public:
        from chalicelib.domain.p256 import public_key_point

        try:
            public_key_point(vapid_public)
        except ValueError:
            problems.append("VAPID_PUBLIC_KEY must be a base64url uncompressed P-256 point (65 bytes)")
    push_prefixes = tuple(p.strip() for p in env.get("PUSH_ENDPOINT_PREFIXES", "").split(",") if p.strip())
    for push_prefix in push_prefixes:
        _remote_url("PUSH_ENDPOINT_PREFIXES", push_prefix, problems, prefix=True)
    if problems:
        raise ConfigurationError("; ".join(problems))
    return Settings(
        stage=stage, aws_region=region, table_prefix=prefix, qr_base_url=qr_base,
        web_base_url=web_base, log_level=log_level, secret_value=secret, secret_parameter=parameter,
        contact_vault_endpoint=vault_endpoint, contact_vault_region=env.get("CONTACT_VAULT_REGION") or region,
        contact_vault_access_key_id=vault_key_id, contact_vault_secret_key_value=vault_secret,
        contact_vault_secret_key_parameter=vault_secret_parameter,
        queue_settle_seconds=settle, notifications_topic_arn=topic, parked_queue_url=parked,
        email_sender=env.get("EMAIL_SENDER") or None, sms_sender_id=env.get("SMS_SENDER_ID", "Qalqan")[:11],
        complaints_stream_arn=stream_arn,
        previous_secret_value=env.get("QALQAN_PREVIOUS_SECRET", ""),
        previous_secret_parameter=env.get("QALQAN_PREVIOUS_SECRET_PARAMETER") or None,
        vapid_private_key_value=vapid_key, vapid_private_key_parameter=vapid_parameter, vapid_subject=vapid_subject,
        vapid_public_key=vapid_public,
        push_endpoint_prefixes=push_prefixes,
        open_data_bucket=open_data_bucket, open_data_refresh_days=int(refresh),
        telegram_bot_token_value=bot_token, telegram_bot_token_parameter=env.get("TELEGRAM_BOT_TOKEN_PARAMETER") or None,
        telegram_secret_token_value=telegram_secret,
        telegram_secret_token_parameter=env.get("TELEGRAM_SECRET_TOKEN_PARAMETER") or None,
        telegram_bot_username=bot_username, telegram_api_base_url=telegram_api,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
