"""Web Push for the installable app: the server's public key and a complaint's push subscriptions. One Blueprint with full paths (registered in app.py without a prefix).

- GET /push/key -> {"public_key": <VAPID application server key>} or 404 push_unavailable
- POST /complaints/{id}/push-subscriptions (X-Tracking-Token) -> 201 {"subscribed": true}, 200 if already there
- DELETE /complaints/{id}/push-subscriptions (same body) -> 204
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import HttpError, cors_for_web, json_response, json_route, read_json
from chalicelib.bootstrap import container

push_api = Blueprint(__name__)
CORS = cors_for_web("X-Request-Id", "X-Tracking-Token")


def _request():
    return push_api.current_request


def _token(request) -> str | None:
    return request.headers.get("x-tracking-token") or (request.query_params or {}).get("token")


def _unavailable() -> HttpError:
    return HttpError(404, "push_unavailable", "Push notifications are not configured on this installation.")


@json_route(push_api, "/push/key", cors=CORS)
def push_key():
    # VAPID_PUBLIC_KEY as configured (checked at load): the API neither reads the private key nor loads
    # cryptography; the reactions function refuses to send if the pair does not match.
    settings = container().settings
    if not settings.push_configured:
        raise _unavailable()
    return json_response({"public_key": settings.vapid_public_key},
                         headers={"Cache-Control": "public, max-age=3600"})


@json_route(push_api, "/complaints/{complaint_id}/push-subscriptions", methods=("POST",), cors=CORS)
def add_subscription(complaint_id):
    from chalicelib.api.push_schemas import SubscribeIn
    from chalicelib.api.schemas import parse
    from chalicelib.services.push import PushUnavailable, Subscribe, subscribe

    c = container()
    request = _request()
    data = parse(SubscribeIn, read_json(request, max_bytes=8 * 1024))
    sub = data.subscription
    try:
        created = subscribe(complaint_id, _token(request),
                            Subscribe(endpoint=sub.endpoint, p256dh=sub.keys.p256dh, auth=sub.keys.auth, lang=data.lang),
                            complaints=c.complaints, subscriptions=c.push_subscriptions, settings=c.settings,
                            clock=c.clock)
    except PushUnavailable:
        raise _unavailable() from None
    return json_response({"subscribed": True}, status=201 if created else 200, headers={"Cache-Control": "no-store"})


@json_route(push_api, "/complaints/{complaint_id}/push-subscriptions", methods=("DELETE",), cors=CORS)
def remove_subscription(complaint_id):
    from chalicelib.api.push_schemas import UnsubscribeIn
    from chalicelib.api.schemas import parse
    from chalicelib.services.push import unsubscribe

    c = container()
    request = _request()
    data = parse(UnsubscribeIn, read_json(request, max_bytes=8 * 1024))
    unsubscribe(complaint_id, _token(request), data.subscription.endpoint, complaints=c.complaints,
                subscriptions=c.push_subscriptions, settings=c.settings)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})
