"""Sending the stream reactions' messages from AWS: SNS topic, SMS through SNS, email through SES, webhooks.

The stream processor calls `AwsNotifier.send` between claiming and completing a ledger marker, and retries
or parks by the `DeliveryFailed.transient` flag, so this module's job is to send once and classify every
failure honestly: throttling, 5xx and timeouts are transient; a refused address, a redirect, a 4xx or a
channel that is not configured are permanent.

boto3 is imported and its clients built on the first send, not at import: the HTTP Lambda imports the
container too and should not pay for clients it never uses on a cold start.

Logs carry the channel, audience, template, complaint id and a masked recipient, never a phone number, an
email address or a message body.
"""
from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from typing import Callable

from chalicelib.domain.errors import ValidationFailed
from chalicelib.services.notifications import masked
from chalicelib.services.ports import DeliveryFailed, Message
from chalicelib.services.webhooks import (
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, WebhookTarget, sign, validate_webhook_url,
)
from chalicelib.settings import Settings

log = logging.getLogger("qalqan.messaging")

WEBHOOK_TIMEOUT_SECONDS = 5.0
WEBHOOK_DEADLINE_SECONDS = 8.0   # the whole exchange, whatever the server does
WEBHOOK_ADDRESSES = 2            # checked addresses tried per send
# AWS error codes that mean "later, not never" (botocore's own list plus SNS/SES specifics).
_TRANSIENT_AWS_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
    "ProvisionedThroughputExceededException", "RequestThrottled", "RequestThrottledException", "SlowDown",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalError", "InternalFailure", "InternalErrorException",
    "KMSThrottlingException", "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "EC2ThrottledException", "BandwidthLimitExceeded", "LimitExceededException",
})
USER_AGENT = "Qalqan-Webhooks/1"

# Opens an HTTP(S) connection to `address` for `target` (TLS SNI and Host stay the target's host name).
Connector = Callable[[WebhookTarget, str, float], http.client.HTTPConnection]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address we already checked, with the certificate still verified for the host name.

    http.client would resolve `host` again at connect time, and that second answer is exactly what a DNS
    rebinding attack controls; so the socket goes to the checked address and only TLS sees the name."""

    def __init__(self, target: WebhookTarget, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_https(target: WebhookTarget, address: str, timeout: float) -> http.client.HTTPConnection:
    return _PinnedHTTPSConnection(target, address, timeout, ssl.create_default_context())


class AwsNotifier:
    """The production Notifier. `resolve`, `connect` and `clock` are injectable collaborators (tests point a
    webhook at a local plain-HTTP server through `connect`; the address rules themselves stay in force)."""

    def __init__(self, settings: Settings, *, resolve: Callable[..., list] = socket.getaddrinfo,
                 connect: Connector = pinned_https, clock: Callable[[], float] = time.time,
                 timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
        self._settings = settings
        self._resolve = resolve
        self._connect = connect
        self._clock = clock
        self._timeout = timeout
        self._clients: dict[str, object] = {}

    # --- the port ----------------------------------------------------------------------------------------
    def send(self, message: Message) -> None:
        senders = {"sns": self._topic, "sms": self._sms, "email": self._email, "webhook": self._webhook,
                   "telegram": self._telegram}
        senders["webpush"] = self._webpush
        sender = senders.get(message.channel)
        if sender is None:
            raise DeliveryFailed(f"unknown channel {message.channel!r}", transient=False)
        try:
            sender(message)
        except DeliveryFailed as failure:
            log.warning("notification failed", extra=self._log_fields(message, transient=failure.transient,
                                                                       reason=str(failure)))
            raise
        log.info("notification sent", extra=self._log_fields(message))

    @staticmethod
    def _log_fields(message: Message, **more) -> dict:
        return {"channel": message.channel, "audience": message.audience, "template": message.template,
                "complaint_id": message.complaint_id, "to": masked(message.to, message.channel),
                "delivery": message.idempotency_key, **more}

    # --- Telegram ----------------------------------------------------------------------------------------
    def _telegram(self, message: Message) -> None:
        """A status change to the consumer's chat, through the Bot API (chalicelib/adapters/telegram.py)."""
        from chalicelib.adapters.telegram import bot_from_settings
        from chalicelib.services.telegram import BotApiError

        bot = self._clients.get("telegram")
        if bot is None:
            bot = self._clients["telegram"] = bot_from_settings(self._settings)
        try:
            bot.send_message(message.to, message.body)
        except BotApiError as exc:
            raise DeliveryFailed(str(exc), transient=exc.transient) from None

    # --- AWS ---------------------------------------------------------------------------------------------
    def _client(self, service: str):
        client = self._clients.get(service)
        if client is None:
            import boto3  # lazily: see the module docstring
            from botocore.config import Config

            # One quick retry here: the stream processor retries transient failures itself (with its own
            # backoff), and a Lambda sitting in botocore's backoff holds up the whole shard.
            config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=3, read_timeout=5)
            client = boto3.client(service, region_name=self._settings.aws_region or None, config=config)
            self._clients[service] = client
        return client

    def _call(self, service: str, operation: str, **params) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError

        try:
            return getattr(self._client(service), operation)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            code = str(error.get("Code", ""))
            transient = code in _TRANSIENT_AWS_CODES or status >= 500 or status == 429
            raise DeliveryFailed(f"{service} {operation}: {code or status}", transient=transient) from None
        except (BotoConnectionError, TimeoutError) as exc:
            raise DeliveryFailed(f"{service} {operation}: {exc.__class__.__name__}", transient=True) from None
        except BotoCoreError as exc:
            # Bad parameters, missing credentials: retrying the same call will not help.
            raise DeliveryFailed(f"{service} {operation}: {exc.__class__.__name__}", transient=False) from None

    def _topic(self, message: Message) -> None:
        attributes = dict(message.attributes)
        if message.idempotency_key:
            attributes.setdefault("delivery", message.idempotency_key)
        params = {
            "TopicArn": message.to, "Message": message.body,
            "MessageAttributes": {name: {"DataType": "String", "StringValue": str(value)}
                                  for name, value in attributes.items() if value not in (None, "")},
        }
        if message.subject:
            params["Subject"] = message.subject[:100]
        self._call("sns", "publish", **params)

    def _sms(self, message: Message) -> None:
        self._call("sns", "publish", PhoneNumber=message.to, Message=message.body, MessageAttributes={
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self._settings.sms_sender_id},
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        })

    def _email(self, message: Message) -> None:
        if not self._settings.email_sender:
            raise DeliveryFailed("email is not configured (EMAIL_SENDER is unset)", transient=False)
        self._call("ses", "send_email", Source=self._settings.email_sender,
                   Destination={"ToAddresses": [message.to]},
                   Message={"Subject": {"Data": message.subject or message.template, "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}}})

    # --- web push (chalicelib/adapters/webpush.py) -------------------------------------------------------
    def _webpush(self, message: Message) -> None:
        sender = self._clients.get("webpush")
        if sender is None:
            from chalicelib.adapters.webpush import VaultPushSubscriptions, WebPushSender

            sender = self._clients["webpush"] = WebPushSender(self._settings, VaultPushSubscriptions())
        sender.send(message)

    # --- webhooks ----------------------------------------------------------------------------------------
    def _webhook(self, message: Message) -> None:
        if not message.signing_secret:
            raise DeliveryFailed("webhook without a signing secret", transient=False)
        try:
            # Checked again now, not only at registration: the name may resolve elsewhere today.
            target = validate_webhook_url(message.to, self._resolve)
        except ValidationFailed as refused:
            code = refused.fields.get("webhook_url", {}).get("code", "")
            # A name that does not resolve right now may be a DNS hiccup; a private address is a refusal.
            raise DeliveryFailed(f"webhook address refused: {code}", transient=code == "unresolvable") from None
        body = message.body.encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(message.signing_secret, body, int(self._clock())),
            EVENT_HEADER: message.attributes.get("event") or message.template, DELIVERY_HEADER: message.idempotency_key,
        }
        status = self._post(target, body, headers)
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            # Never followed: the new location was never checked, and a redirect is the classic way
            # around an address check.
            raise DeliveryFailed(f"webhook answered a redirect ({status}); redirects are not followed", transient=False)
        # 408 and 429 ask us to come back later; any other 4xx will not change on a retry.
        transient = status >= 500 or status in (408, 429)
        raise DeliveryFailed(f"webhook answered {status}", transient=transient)

    def _post(self, target: WebhookTarget, body: bytes, headers: dict[str, str]) -> int:
        """POST within one overall deadline. Socket timeouts bound each connect and each read, not the whole
        exchange (a server trickling a header line every few seconds could hold the stream function until
        Lambda kills it, and then the record could be neither done nor parked), so the exchange runs in a
        worker thread that is abandoned when the deadline passes."""
        import threading

        outcome: dict = {}

        def work():
            try:
                outcome["status"] = self._post_now(target, body, headers)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="webhook", daemon=True)
        worker.start()
        worker.join(WEBHOOK_DEADLINE_SECONDS)
        if worker.is_alive():
            raise DeliveryFailed(f"webhook did not answer within {WEBHOOK_DEADLINE_SECONDS:g} s", transient=True)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["status"]

    def _post_now(self, target: WebhookTarget, body: bytes, headers: dict[str, str]) -> int:
        last: Exception | None = None
        # At most two of the checked addresses: a name resolving to many unreachable ones must not multiply
        # the wait (each try has its own timeout).
        for address in target.addresses[:WEBHOOK_ADDRESSES]:
            connection = self._connect(target, address, self._timeout)
            try:
                connection.request("POST", target.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read(64 * 1024)  # drain a little so the connection closes cleanly; content unused
                return response.status
            except ssl.SSLCertVerificationError:
                raise DeliveryFailed("webhook TLS certificate not valid for its host", transient=False) from None
            except (ConnectionRefusedError, ConnectionResetError, socket.timeout, TimeoutError, OSError,
                    http.client.HTTPException) as exc:
                last = exc  # try the next checked address; all of them failing is a transient failure
            finally:
                connection.close()
        raise DeliveryFailed(f"webhook unreachable: {last.__class__.__name__ if last else 'no address'}", transient=True)
