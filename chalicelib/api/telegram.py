"""The Telegram channel: the Bot API webhook and the conversation that ends in a complaint. One Blueprint with full paths (registered in app.py without a prefix).

POST /channels/telegram/webhook is called by Telegram only. It proves itself with the secret token given to
setWebhook (`python -m tools.admin telegram-set-webhook`), echoed in X-Telegram-Bot-Api-Secret-Token and
compared in constant time: none is a 401, a wrong one a 403. Every update it can read is answered 200, handled or
ignored, so Telegram never re-sends it for ever; a re-sent update that was handled is acknowledged and dropped. An
update another worker is handling right now is a 503 with Retry-After, so Telegram re-sends it: that worker may
still fail and give it up.
The conversation itself is chalicelib/services/telegram.py; this module only wires it to the container.
"""
from __future__ import annotations

import hmac
import logging

from chalice import Blueprint

from chalicelib.api.http import HttpError, error_response, json_route, read_json
from chalicelib.bootstrap import container

telegram_api = Blueprint(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"
_log = logging.getLogger("qalqan.telegram")


class ContainerDesk:
    """What the conversation reads (services.telegram.Desk), from the container: the same outlets, businesses
    and router as the form and POST /routing/preview."""

    def __init__(self, c) -> None:
        self._c = c
        self.catalog = c.catalog

    def outlet(self, code):
        return self._c.outlets.get(code)

    def business(self, bin):
        return self._c.businesses.get(bin)

    def preview(self, *, text, category, outlet_code):
        from chalicelib.services.complaints import preview_routing

        c = self._c
        return preview_routing(text=text, category=category, outlet_code=outlet_code, outlets=c.outlets,
                               catalog=c.catalog, routing_rules=c.routing_rules, model=c.routing_model())

    def form_url(self, outlet_code=None):
        return self._c.settings.form_url(outlet_code)


def submit_conversation(conv, c):
    """The confirmed conversation through the web form's use case, under the conversation's Idempotency-Key.

    It goes through the form's request model too, so what the bot passes is cleaned and bounded exactly like
    what the form sends (the Telegram profile name by `clean_line`, the phone to E.164 in Kazakhstan, the text's
    length and words, the seller's region against the catalogue); a refusal is a ValidationFailed whose field
    codes the conversation turns into its own words."""
    from dataclasses import replace

    from chalicelib.api.complaint_schemas import submit_command
    from chalicelib.services.complaints import submit_complaint

    body = {"text": conv.text or "", "category": conv.category, "language": conv.lang,
            "publish_consent": conv.publish_consent}
    if conv.outlet_code is not None:
        body["outlet_code"] = conv.outlet_code
    else:
        # the conversation takes only registered sellers: its name and region are the registry's. One
        # deregistered since has no region, and the model refuses it as the form would.
        known = c.businesses.get(conv.business_bin)
        body["business"] = {"bin": conv.business_bin, "name": known.name if known else (conv.seller or ""),
                            "region": known.region if known else ""}
    if conv.contact_phone:
        body["contact"] = {"name": conv.contact_name, "phone": conv.contact_phone}
    # ComplaintIn's channel is what a public caller may claim ("qr", "web", "api"); "telegram" is set here, by
    # the webhook that proved itself with the secret token, not taken from any input
    command = replace(submit_command(body, key=conv.idempotency_key), channel="telegram")
    return submit_complaint(command, outlets=c.outlets, businesses=c.businesses, complaints=c.complaints,
                            contacts=c.contacts, catalog=c.catalog, rules=c.rules, routing_rules=c.routing_rules,
                            secret=c.settings.secret, clock=c.clock, model=c.routing_model())


def _check_secret(request, settings) -> None:
    offered = request.headers.get(SECRET_HEADER)
    if not offered:
        raise HttpError(401, "missing_secret_token", "X-Telegram-Bot-Api-Secret-Token is required.")
    if not hmac.compare_digest(offered.encode("utf-8"), settings.telegram_secret_token.encode("utf-8")):
        raise HttpError(403, "invalid_secret_token", "X-Telegram-Bot-Api-Secret-Token does not match.")


@json_route(telegram_api, "/channels/telegram/webhook", methods=("POST",))
def telegram_webhook():
    from chalicelib.domain import codes
    from chalicelib.services.telegram import LEASE_SECONDS, handle_update, update_id_of

    c = container()
    settings = c.settings
    if not settings.telegram_configured or c.telegram is None:
        raise HttpError(404, "telegram_unavailable", "The Telegram bot is not configured on this stage.")
    request = telegram_api.current_request
    _check_secret(request, settings)
    update = read_json(request, max_bytes=settings.max_body_bytes)
    if update_id_of(update) is None:
        raise HttpError(400, "invalid_update", "A Telegram update must carry an integer update_id.",
                        fields={"update_id": {"code": "required", "message": "an integer"}})
    result = handle_update(
        update, store=c.telegram_store, bot=c.telegram, desk=ContainerDesk(c), clock=c.clock,
        submit=lambda conv: submit_conversation(conv, c),
        link_for=lambda cid: settings.status_url(cid, codes.tracking_token(settings.secret, cid)),
    )
    if result.status == "busy":
        # Another worker holds the claim. A 200 would make Telegram forget the update, and if that worker then
        # fails and releases it, the message is lost; a 5xx makes Telegram re-send it. By the lease's end the
        # claim is done (the re-send is a duplicate), released or expired (the re-send is handled).
        return error_response(503, "update_in_progress", "This update is being handled; send it again later.",
                              headers={"Retry-After": str(int(LEASE_SECONDS))})
    if result.send_failures:
        # no chat id, no text: how many replies did not go out, and where the conversation stands
        _log.warning("telegram replies not sent", extra={"failures": result.send_failures, "step": result.step})
    return {"ok": True, "status": result.status}
