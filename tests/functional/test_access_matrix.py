"""The access matrix: every route that takes an id, called by every kind of caller.

One row per (route, principal). A caller entitled to the object gets a 2xx (or a 409/422 the state
explains); everyone else gets exactly what the same caller gets for an id that does not exist: 401 for a
missing, bad, revoked or expired key, 403 for a valid key of the wrong role, 404 for a valid key whose
scope does not cover the object. Those answers are compared byte for byte (status, headers, body) with the
missing-id answer, searched for the complaint's text, id and contact, and the stored object must not
have changed. Each cell gets its own fresh complaint (or outlet), so a cell that wrongly acts cannot hide
another. Public routes (the outlet card, ratings, a quick rating) answer every caller the same: a key, even
a dead one, neither opens nor closes anything there.

Routes without an id are scoped by the key alone (notification channels, analytics): the second table says
who may call them, and an entitled caller must see and change only its own agency's or BIN's channels.
"""
from __future__ import annotations

import json
import secrets
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from chalice.test import Client
from moto import mock_aws

from tests.fakes import FixedClock

AGENCY_X, AGENCY_Y, REROUTE_TO = "kzpp", "ktrm", "kgd"
BIN_A, BIN_B = "940140000385", "950341000052"
UNREGISTERED_BIN = "850315301801"  # a BIN with a correct check digit that no demo business has
AUDIT_BIN = "110540000011"        # another valid one, registered by the audit test
UNKNOWN_KEY_ID = "k000000000000"
CONTACT_NAME, CONTACT_PHONE = "Айгүл Матрицова", "+77015551234"


def key_id(key: str) -> str:
    """The id part of `qk_<id>.<secret>`: what audit trails record instead of the key."""
    return key.split(".", 1)[0][len("qk_"):]


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


# --- the world: one in-memory AWS per module; each cell adds its own complaint -------------------------------
@dataclass
class World:
    client: Client
    services: object
    clock: FixedClock
    demo: dict
    headers: dict          # principal name -> request headers (without a tracking token)
    keys: dict             # principal name -> plain key, for the principals that have a valid key
    outlet_code: str       # business A's outlet in region 71; complaints about it go to agency X
    other_token: str       # the tracking token of another person's complaint
    analytics_day: str = ""    # the local day of the one complaint counted in analytics (the other person's)
    counted_outlet: str = ""   # ... and its outlet

    def call(self, method: str, path: str, body=None, headers=None):
        raw = None if body is None else json.dumps(body)
        extra = {"Content-Type": "application/json"} if raw is not None else {}
        return getattr(self.client.http, method.lower())(path, body=raw, headers={**extra, **(headers or {})})

    def submit(self, marker: str, *, share: bool = True) -> dict:
        """A fresh identified complaint about business A's outlet in Astana, routed to agency X (kzpp)."""
        response = self.call("POST", "/complaints", {
            "outlet_code": self.outlet_code, "category": "overcharge", "language": "ru",
            "text": f"На кассе обсчитали на 500 тенге и не дали чек. Метка {marker}.",
            "contact": {"name": CONTACT_NAME, "phone": CONTACT_PHONE, "email": f"{marker.lower()}@example.kz"},
            "share_contact_with_business": share,
        })
        assert response.status_code == 201, response.body
        body = response.json_body
        assert body["agency"]["id"] == AGENCY_X, "the matrix needs a complaint routed to agency X"
        return body


@pytest.fixture(scope="module")
def world():
    from chalicelib.bootstrap import container, use_container
    from chalicelib.services.auth import issue_key, revoke_key

    with mock_aws():
        from chalicelib.adapters.tables import create_tables
        from local.seed import seed_demo

        create_tables()
        use_container(None)
        services = container()
        clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
        services.clock = clock
        from dataclasses import replace as _replace  # Web Push on, so its subscription routes can be entitled

        vapid_private, vapid_public = new_vapid_keys()
        services.settings = _replace(services.settings, vapid_private_key_value=vapid_private,
                                     vapid_public_key=vapid_public, vapid_subject="mailto:matrix@qalqan.kz")
        import boto3  # the open data's bucket, so GET /open-data/{name} has files to link to

        from chalicelib.adapters.open_data import S3Objects

        boto3.client("s3").create_bucket(Bucket=OPEN_DATA_BUCKET, CreateBucketConfiguration={
            "LocationConstraint": services.settings.aws_region})
        services.objects = S3Objects(OPEN_DATA_BUCKET, services.settings.aws_region)
        demo = seed_demo(services)
        keys = demo["keys"]
        from app import app

        with Client(app) as client:
            w = World(client=client, services=services, clock=clock, demo=demo, headers={}, keys={},
                      outlet_code=next(o["code"] for o in demo["outlets"]
                                       if o["business_bin"] == BIN_A and o["region"] == "71"), other_token="")

            def issued(role, label, **scope):
                return issue_key(role=role, label=label, keys=services.keys, clock=clock, **scope).key

            def via_api(body):
                response = w.call("POST", "/admin/keys", body, bearer(keys["admin"]))
                assert response.status_code == 201, response.body
                return response.json_body["key"]

            valid = {
                "admin": keys["admin"],
                "analyst": keys["analyst"],
                "agency X": keys["agencies"][AGENCY_X],
                "agency X, region 71": issued("agency", "kzpp astana", agency_id=AGENCY_X, regions=["71"]),
                "agency X, region 75": issued("agency", "kzpp almaty", agency_id=AGENCY_X, regions=["75"]),
                "agency Y": keys["agencies"][AGENCY_Y],
                "business A": keys["businesses"][BIN_A],
                "business B": keys["businesses"][BIN_B],
            }
            # Keys that would be entitled but are revoked (made through the admin API, revoked through the
            # service) or expired (made with an expiry, then the clock moves past it).
            dead = {
                "revoked agency X": via_api({"role": "agency", "agency_id": AGENCY_X, "label": "to revoke"}),
                "revoked admin": via_api({"role": "admin", "label": "admin to revoke"}),
                "expired business A": issued("business", "short-lived", bin=BIN_A,
                                             expires_at=clock.now() + timedelta(minutes=1)),
                "expired admin": issued("admin", "short-lived admin", expires_at=clock.now() + timedelta(minutes=1)),
            }
            # Each dead key works before it dies, so its 401 later is the revocation or expiry, not a typo.
            probes = {"revoked agency X": "/agency/complaints", "revoked admin": f"/admin/businesses/{BIN_A}",
                      "expired business A": "/business/complaints", "expired admin": f"/admin/businesses/{BIN_A}"}
            for name, key in dead.items():
                assert w.call("GET", probes[name], headers=bearer(key)).status_code == 200, name
            for name in ("revoked agency X", "revoked admin"):
                assert revoke_key(key_id(dead[name]), keys=services.keys, clock=clock)
            clock.advance(minutes=5)

            w.keys = valid
            w.headers = {name: bearer(key) for name, key in {**valid, **dead}.items()}
            w.headers["anonymous"] = {}
            # Shaped like a key, but no such key id; and a real key id with someone else's secret.
            w.headers["garbage key"] = bearer("qk_k0123456789ab." + "A" * 43)
            w.headers["forged key"] = bearer(f"qk_{key_id(keys['admin'])}." + "B" * 43)
            other = w.call("POST", "/complaints", {
                "outlet_code": next(o["code"] for o in demo["outlets"] if o["business_bin"] == BIN_B),
                "text": "Продали неисправный телефон, в гарантийном ремонте отказали без объяснений.",
            }).json_body
            w.other_token = other["tracking_token"]
            w.headers["another complaint's token"] = {"X-Tracking-Token": w.other_token}
            # Analytics counters come from the stream, which this client does not run: count this one
            # complaint as the reaction would, so an analytics answer has something to show.
            from chalicelib.services.analytics import analytics_increments, local_day

            stored = services.complaints.get(other["id"], consistent=True)
            assert services.counters.apply_once(f"{stored.id}#matrix", analytics_increments(None, stored),
                                                at=clock.now())
            w.analytics_day, w.counted_outlet = local_day(stored.created_at).isoformat(), stored.outlet_code
            yield w
        use_container(None)


def new_vapid_keys() -> tuple[str, str]:
    from tools.admin import new_vapid_keys as make

    return make()


def _push_subscription() -> dict:
    """A browser's subscription (a real P-256 key and auth secret) on a known push service."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962,
                                                                             PublicFormat.UncompressedPoint)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return {"endpoint": "https://fcm.googleapis.com/fcm/send/matrix-device-0123456789abcdef",
            "keys": {"p256dh": b64(point), "auth": b64(secrets.token_bytes(16))}}


PUSH_BODY = {"subscription": _push_subscription(), "lang": "ru"}


# --- the table ------------------------------------------------------------------------------------------------
OK = "entitled"
# Who may do what, by the route's audience. `token`: the consumer routes (the tracking token is the
# credential, a key means nothing there). A 404 is "outside your scope", indistinguishable from "missing".
# `public`: what anyone who scans a sticker may do; whatever credential a caller sends is ignored.
EXPECTED = {
    #  principal                   token  agency business admin public
    "admin":                       (404,  403,   403,     OK,   OK),
    "analyst":                     (404,  403,   403,     403,  OK),
    "agency X":                    (404,  OK,    403,     403,  OK),
    "agency X, region 71":         (404,  OK,    403,     403,  OK),
    "agency X, region 75":         (404,  404,   403,     403,  OK),
    "agency Y":                    (404,  404,   403,     403,  OK),
    "business A":                  (404,  403,   OK,      403,  OK),
    "business B":                  (404,  403,   404,     403,  OK),
    "anonymous":                   (404,  401,   401,     401,  OK),
    "garbage key":                 (404,  401,   401,     401,  OK),
    "forged key":                  (404,  401,   401,     401,  OK),
    "revoked agency X":            (404,  401,   401,     401,  OK),
    "revoked admin":               (404,  401,   401,     401,  OK),
    "expired business A":          (404,  401,   401,     401,  OK),
    "expired admin":               (404,  401,   401,     401,  OK),
    "own tracking token":          (OK,   401,   401,     401,  OK),
    "another complaint's token":   (404,  401,   401,     401,  OK),
}
AUDIENCES = ("token", "agency", "business", "admin", "public")
ERROR_CODES = {401: "unauthorized", 403: "forbidden"}


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str                  # {id} is the complaint id, a BIN, an outlet code, a key id or a channel owner
    audience: str
    body: dict | None = None   # "{marker}" in a string value becomes the cell's marker (lower case)
    # what {id} names: complaint | bin | outlet | key | fresh outlet (registered for the cell) | held outlet
    # (a fresh outlet whose burst of quick ratings is held for review) | owner (business A's channels)
    target: str = "complaint"
    answered: bool = False     # the complaint already has the business's answer (feedback needs one)
    content_type: str = "application/json"
    ok_status: int = 200


ROUTES = [
    Route("track", "GET", "/complaints/{id}", "token"),
    Route("feedback", "POST", "/complaints/{id}/feedback", "token", {"accepted": True, "stars": 5}, answered=True),
    Route("push subscribe", "POST", "/complaints/{id}/push-subscriptions", "token", PUSH_BODY, ok_status=201),
    Route("push unsubscribe", "DELETE", "/complaints/{id}/push-subscriptions", "token", PUSH_BODY, ok_status=204),
    Route("agency case", "GET", "/agency/complaints/{id}", "agency"),
    Route("agency status", "POST", "/agency/complaints/{id}/status", "agency", {"status": "in_review"}),
    Route("agency reroute", "POST", "/agency/complaints/{id}/reroute", "agency",
          {"agency_id": REROUTE_TO, "reason": "Это вопрос налоговой: не выдали чек."}),
    Route("business case", "GET", "/business/complaints/{id}", "business"),
    Route("business response", "POST", "/business/complaints/{id}/response", "business",
          {"message": "Приносим извинения, вернём 500 тенге на карту.", "offer": "refund"}),
    Route("admin business", "GET", "/admin/businesses/{id}", "admin", target="bin"),
    Route("admin business outlets", "GET", "/admin/businesses/{id}/outlets", "admin", target="bin"),
    Route("admin chain stickers", "GET", "/admin/businesses/{id}/stickers.pdf", "admin", target="bin",
          content_type="application/pdf"),
    Route("admin outlet", "GET", "/admin/outlets/{id}", "admin", target="outlet"),
    Route("admin outlet status", "PATCH", "/admin/outlets/{id}", "admin", {"status": "active"}, target="outlet"),
    Route("admin sticker png", "GET", "/admin/outlets/{id}/sticker.png", "admin", target="outlet",
          content_type="image/png"),
    Route("admin sticker pdf", "GET", "/admin/outlets/{id}/sticker.pdf", "admin", target="outlet",
          content_type="application/pdf"),
    Route("admin revoke key", "DELETE", "/admin/keys/{id}", "admin", target="key"),
    Route("admin rating release", "POST", "/admin/ratings/outlets/{id}/release", "admin", {"decision": "publish"},
          target="held outlet"),
    Route("admin channels", "PUT", "/admin/channels/{id}", "admin", {"email": "{marker}@example.kz"}, target="owner"),
    # Public by design: what anyone who scans the sticker sees, and the stars they may leave.
    Route("outlet card", "GET", "/outlets/{id}", "public", target="outlet"),
    Route("outlet rating", "GET", "/ratings/outlets/{id}", "public", target="outlet"),
    Route("business rating", "GET", "/ratings/businesses/{id}", "public", target="bin"),
    Route("quick rating", "POST", "/outlets/{id}/ratings", "public", {"stars": 4}, target="fresh outlet",
          ok_status=201),
    # Open311: a request's public status (no text, no contact) and a service's definition; {id} carries the
    # format suffix, as a client sends it.
    Route("open311 request", "GET", "/open311/v2/requests/{id}", "public", target="open311 request"),
    Route("open311 service", "GET", "/open311/v2/services/{id}", "public", target="open311 service"),
]
ROUTES += [
    # the public record pages and an open-data file (a redirect to a short-lived link on the bucket)
    Route("public outlet page", "GET", "/public/outlets/{id}", "public", target="outlet"),
    Route("public business page", "GET", "/public/businesses/{id}", "public", target="bin"),
    Route("open data file", "GET", "/open-data/{id}", "public", target="open data file", ok_status=302),
]
OPEN_DATA_BUCKET = "qalqan-matrix-open-data"
CELLS = [(route, who) for route in ROUTES for who in EXPECTED]


def expected(route: Route, who: str):
    return EXPECTED[who][AUDIENCES.index(route.audience)]


def test_the_matrix_covers_every_id_route_and_principal_and_reports_its_size():
    """The table itself: every audience has an entitled caller and every refusal kind occurs, so no cell
    can pass by the table being lopsided. Its size goes to the run's summary (below)."""
    from app import app

    id_routes = {(m, p.replace("{complaint_id}", "{id}").replace("{bin}", "{id}").replace("{code}", "{id}")
                  .replace("{key_id}", "{id}").replace("{owner}", "{id}").replace("{request_file}", "{id}")
                  .replace("{service_file}", "{id}").replace("{name}", "{id}"))
                 for p, entry in app.routes.items() if "{" in p for m in entry}
    assert {(r.method, r.path) for r in ROUTES} == id_routes, "a route that takes an id is missing from the access matrix (or the table names one that is gone)"
    assert len(ROUTES) == len({(r.method, r.path) for r in ROUTES})
    columns = {audience: [row[i] for row in EXPECTED.values()] for i, audience in enumerate(AUDIENCES)}
    for audience, column in columns.items():
        if audience != "public":
            assert column.count(OK) >= 1 and len(set(column) - {OK}) >= 1, audience
    assert set(columns["token"]) == {OK, 404}       # a key means nothing on the consumer's routes
    assert set(columns["agency"]) == set(columns["business"]) == {OK, 401, 403, 404}  # scoped rooms
    assert set(columns["admin"]) == {OK, 401, 403}  # the admin sees everything: nothing is out of scope
    assert set(columns["public"]) == {OK}           # nobody is turned away from a sticker's public side
    assert {r.audience for r in ROUTES} == set(AUDIENCES)
    size = len(CELLS)
    assert size == len(ROUTES) * len(EXPECTED) == 28 * 17
    message = f"access matrix: {size} cells ({len(ROUTES)} routes x {len(EXPECTED)} principals)"
    print(message)
    # pytest captures a test's output and xdist workers have no terminal of their own; a warning is the
    # one channel that reaches the summary of every run, so the size is reported through it too.
    warnings.warn(AccessMatrixSize(message), stacklevel=1)


class AccessMatrixSize(UserWarning):
    """Carries the matrix size to the test run's summary."""


# --- the cells ------------------------------------------------------------------------------------------------
def _fresh_outlet(w: World, marker: str):
    """A new outlet of business A in Astana, so the cell's ratings start from nothing and no cell's device
    or address limits reach another's."""
    from chalicelib.services.admin import RegisterOutlet, register_outlet

    outlet, created = register_outlet(
        RegisterOutlet(business_bin=BIN_A, name=f"Таза Маркет — {marker}", address="Астана, ул. Матрица, 1",
                       region="71", sector="grocery"),
        businesses=w.services.businesses, outlets=w.services.outlets, secret=w.services.settings.secret,
        clock=w.clock)
    assert created
    return outlet


BURST = 10  # quick ratings in one hour that flag a new outlet (docs/ratings.md); the 10th and all before are held


def _held_burst(w: World, code: str, marker: str) -> None:
    """A review-bombing burst on the outlet: ten one-star ratings from ten devices and addresses in one hour."""
    from chalicelib.services.ratings import rating_for, submit_quick_rating

    answers = [submit_quick_rating(code, 1, None, f"matrix-{marker}-{n:03d}", f"203.0.113.{n + 1}", None,
                                   c=w.services) for n in range(BURST)]
    assert answers[-1].held
    held = rating_for("outlet", code, c=w.services, consistent=True)
    assert (held["held"], held["count"]) == (BURST, 0), held


def _target(w: World, route: Route, marker: str):
    """(id for this cell, an id of the same kind that does not exist, strings no refused caller may see)."""
    from chalicelib.domain.codes import new_complaint_id, new_outlet_code
    from chalicelib.services.auth import issue_key

    if route.target == "open311 request":
        created = w.submit(marker)
        from chalicelib.domain.codes import new_complaint_id

        return (f"{created['id']}.json", f"{new_complaint_id()}.json",
                [marker, CONTACT_NAME, CONTACT_PHONE, f"{marker.lower()}@example.kz", created["tracking_token"]], None)
    if route.target == "open311 service":
        return "overcharge.json", "no_such_service.json", [], None
    if route.target == "open data file":
        from chalicelib.services.open_data import export_day

        day = w.clock.now().astimezone(w.services.rules.tz).date()
        export_day(day, c=w.services)
        return f"complaints-{day.isoformat()}.csv", "complaints-1999-01-01.csv", [], None
    if route.target == "complaint":
        created = w.submit(marker)
        if route.name == "push unsubscribe":  # a device already follows it: a refused DELETE must leave it
            added = w.call("POST", f"/complaints/{created['id']}/push-subscriptions", PUSH_BODY,
                           {"X-Tracking-Token": created["tracking_token"]})
            assert added.status_code == 201, added.body
        if route.answered:
            answer = w.call("POST", f"/business/complaints/{created['id']}/response",
                            {"message": "Вернём деньги.", "offer": "refund"}, w.headers["business A"])
            assert answer.status_code == 200, answer.body
        secrets_ = [created["id"], marker, CONTACT_NAME, CONTACT_PHONE, f"{marker.lower()}@example.kz",
                    created["tracking_token"]]
        return created["id"], new_complaint_id(), secrets_, created["tracking_token"]
    if route.target == "bin":
        return BIN_A, UNREGISTERED_BIN, [BIN_A, "Таза Маркет"], None
    if route.target == "outlet":
        outlet = next(o for o in w.demo["outlets"] if o["code"] == w.outlet_code)
        return w.outlet_code, new_outlet_code(), [w.outlet_code, outlet["name"], "Мәңгілік"], None
    if route.target in ("fresh outlet", "held outlet"):
        outlet = _fresh_outlet(w, marker)
        if route.target == "held outlet":
            _held_burst(w, outlet.code, marker)
        return outlet.code, new_outlet_code(), [outlet.code, marker], None
    if route.target == "owner":
        return f"business:{BIN_A}", f"business:{UNREGISTERED_BIN}", [marker.lower(), BIN_A], None
    throwaway = issue_key(role="analyst", label=f"throwaway {marker}", keys=w.services.keys, clock=w.clock)
    return throwaway.key_id, UNKNOWN_KEY_ID, [throwaway.key_id, marker], None


def _headers_for(w: World, who: str, own_token: str | None) -> dict:
    if who == "own tracking token":
        # Outside the consumer routes there is no complaint of "its own"; any real token will do.
        return {"X-Tracking-Token": own_token or w.other_token}
    return dict(w.headers[who])


def _comparable(response) -> tuple:
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() != "x-request-id"}
    return response.status_code, headers, response.body


def _body(route: Route, marker: str):
    if route.body is None:
        return None
    return {k: v.replace("{marker}", marker.lower()) if isinstance(v, str) else v for k, v in route.body.items()}


def _ratings(w: World, code: str) -> tuple:
    """The outlet's and its business's rating counters, as stored."""
    return (w.services.counters.get("ratings", (f"outlet#{code}",), consistent=True),
            w.services.counters.get("ratings", (f"business#{BIN_A}",), consistent=True))


def _snapshot(w: World, route: Route, ident: str):
    """What a refused call must leave untouched."""
    if route.target == "complaint":
        from chalicelib.services.push import push_ref

        stored = w.services.complaints.get(ident, consistent=True)
        devices = [s.endpoint for s in w.services.push_subscriptions.list(push_ref(w.services.settings.secret, ident))]
        return stored.version, stored.status, stored.agency_id, stored.updated_at, devices
    if route.target == "open311 request":
        stored = w.services.complaints.get(ident.rsplit(".", 1)[0], consistent=True)
        return stored.version, stored.status, stored.updated_at
    if route.target in ("open311 service", "open data file"):
        return None
    if route.target == "outlet":
        return w.services.outlets.get(ident, consistent=True)
    if route.target in ("fresh outlet", "held outlet"):
        return _ratings(w, ident)
    if route.target == "owner":
        return w.services.channels.get(f"business#{BIN_A}")
    if route.target == "key":
        return w.services.keys.get(ident)
    return w.services.businesses.get(ident)


@pytest.mark.parametrize("route,who", CELLS, ids=[f"{r.name} | {who}" for r, who in CELLS])
def test_access_matrix_cell(world, route, who):
    w = world
    marker = "QM" + secrets.token_hex(4).upper()
    ident, missing, must_not_show, own_token = _target(w, route, marker)
    # API Gateway answers binary bodies only to a matching Accept; a browser or curl sends one.
    headers = {**_headers_for(w, who, own_token), "Accept": route.content_type}
    body = _body(route, marker)
    before = _snapshot(w, route, ident)
    response = w.call(route.method, route.path.format(id=ident), body, headers)
    outcome = expected(route, who)

    if outcome == OK:
        _check_entitled(w, route, who, ident, response, own_token, marker)
        if route.audience == "public":
            _check_public(w, route, ident, missing, headers, response)
        return

    # Refused: the exact status, the one error shape, and nothing that tells this object from a missing one.
    assert response.status_code == outcome, response.body
    error = json.loads(response.body)["error"]
    assert error["code"] == ERROR_CODES.get(outcome, error["code"])
    if outcome == 404 and route.target == "complaint":
        assert error["code"] == "complaint_not_found"
    if outcome == 401:
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    same_for_missing = w.call(route.method, route.path.format(id=missing), body, headers)
    assert _comparable(response) == _comparable(same_for_missing)
    text = response.body.decode("utf-8", "replace") if isinstance(response.body, bytes) else str(response.body)
    leaked = [s for s in must_not_show if s in text]
    assert not leaked, f"{who} saw {leaked} through {route.name}"
    assert _snapshot(w, route, ident) == before, f"{who} changed the object through {route.name}"


def _check_public(w: World, route: Route, ident: str, missing: str, headers: dict, response) -> None:
    """A public route answers a caller with a credential exactly as it answers one without (no extra
    fields for a key, no refusal for a dead one), and an unknown id is a 404 for everyone."""
    if route.method == "GET" and route.ok_status == 302:  # a signed link: the same file, its own signature
        anonymous = w.call("GET", route.path.format(id=ident), headers={"Accept": route.content_type})
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].split("?")[0] == response.headers["Location"].split("?")[0]
    elif route.method == "GET":  # a second POST would be a second rating
        anonymous = w.call("GET", route.path.format(id=ident), headers={"Accept": route.content_type})
        assert _comparable(response) == _comparable(anonymous)
    unknown = w.call(route.method, route.path.format(id=missing), route.body, headers)
    assert unknown.status_code == 404, unknown.body
    if route.path.startswith("/open311/"):  # the spec's error list
        assert json.loads(unknown.body) == [{"code": 404, "description": json.loads(unknown.body)[0]["description"]}]
        return
    code = json.loads(unknown.body)["error"]["code"]
    assert code == {"bin": "business_not_found", "open data file": "open_data_file_not_found"}.get(
        route.target, "outlet_not_found")


def _check_entitled(w: World, route: Route, who: str, ident: str, response, own_token, marker: str):
    """The entitled caller gets the object (or a state conflict), and its key id is what the record keeps."""
    assert response.status_code == route.ok_status, response.body
    if route.name == "open data file":
        location = response.headers["Location"]
        assert OPEN_DATA_BUCKET in location and f"/complaints/{ident[11:15]}/{ident}?" in location and "Signature" in location
        return
    if route.name.startswith("push "):
        from chalicelib.services.push import push_ref

        devices = [s.endpoint for s in w.services.push_subscriptions.list(push_ref(w.services.settings.secret, ident))]
        if route.name == "push subscribe":
            assert response.json_body == {"subscribed": True}
            assert devices == [PUSH_BODY["subscription"]["endpoint"]]
        else:
            assert devices == []
        return
    assert response.headers["Content-Type"].startswith(route.content_type)
    if route.content_type != "application/json":
        assert len(response.body) > 500  # a real image or PDF, not an error page
        return
    body = response.json_body
    acting = key_id(w.keys[who]) if who in w.keys else None
    if route.name == "track":
        assert body["id"] == ident and body["agency"]["id"] == AGENCY_X
        # The tracking link may be shared: it never shows the contact, nor who acted with which key.
        raw = json.dumps(body, ensure_ascii=False)
        assert CONTACT_NAME not in raw and CONTACT_PHONE not in raw and "key_id" not in raw
    elif route.name == "feedback":
        assert body["status"] == "settled" and body["feedback"]["stars"] == 5 and not body["can_give_feedback"]
    elif route.name == "agency case":
        assert body["id"] == ident and body["contact"]["name"] == CONTACT_NAME and body["routing"]["method"]
    elif route.name == "agency status":
        assert body["status"] == "in_review"
        assert body["timeline"][-1]["type"] == "taken_in_review" and body["timeline"][-1]["key_id"] == acting
    elif route.name == "agency reroute":
        assert body == {"id": ident, "status": "routed", "agency": body["agency"]}
        assert body["agency"]["id"] == REROUTE_TO
        stored = w.services.complaints.get(ident, consistent=True)
        assert stored.timeline[-1].type == "rerouted" and stored.timeline[-1].key_id == acting
        assert [e.key_id for e in w.services.routing_examples.list_for(ident)] == [acting]
    elif route.name == "business case":
        assert body["id"] == ident and body["contact"]["name"] == CONTACT_NAME  # the consumer consented
        assert "routing" not in body and body["actions"] == ["respond"]
    elif route.name == "business response":
        assert body["status"] == "business_responded" and body["business_response"]["offer"] == "refund"
        assert body["timeline"][-1]["key_id"] == acting
        assert w.services.complaints.get(ident, consistent=True).business_response.key_id == acting
    elif route.name in ("admin business",):
        assert body["bin"] == ident
    elif route.name == "admin business outlets":
        assert w.outlet_code in [o["code"] for o in body["outlets"]]
    elif route.name == "admin outlet":
        assert body["code"] == ident and body["business_bin"] == BIN_A
    elif route.name == "admin outlet status":
        assert body["status"] == "active"
        assert w.services.outlets.get(ident, consistent=True).status_by == acting
    elif route.name == "admin revoke key":
        assert body == {"key_id": ident, "revoked": True}
        assert w.services.keys.get(ident).revoked_at is not None
    elif route.name == "admin rating release":
        assert (body["code"], body["decision"], body["released"]) == (ident, "publish", BURST)
        rating = body["rating"]
        assert (rating["count"], rating["held"], rating["published"]) == (BURST, 0, True)
        stored, _ = _ratings(w, ident)
        assert (stored["held_n"], stored["quick_n"], stored["flagged"]) == (0, BURST, 0)
        assert stored["released_by"] == acting
    elif route.name == "admin channels":
        assert body["owner"] == f"business#{BIN_A}" and body["email"] == f"{marker.lower()}@example.kz"
        stored = w.services.channels.get(f"business#{BIN_A}")
        assert stored.email == body["email"] and stored.updated_by == acting
    elif route.name == "outlet card":
        assert body["code"] == ident and body["rating"]["code"] == ident
        assert "business_bin" not in body and "status" not in body  # admin fields stay in the admin room
    elif route.name in ("outlet rating", "business rating"):
        from chalicelib.services.ratings import rating_for

        kind = "outlet" if route.target == "outlet" else "business"
        assert body["subject"] == kind and body["code" if kind == "outlet" else "bin"] == ident
        assert body == rating_for(kind, ident, c=w.services, consistent=True)  # the stored counters, as they are
    elif route.name == "quick rating":
        assert body["accepted"] is True and body["held"] is False
        assert (body["rating"]["code"], body["rating"]["count"]) == (ident, 1)
        stored, _ = _ratings(w, ident)
        assert (stored["quick_n"], stored["stars_sum"]) == (1, 4)  # a key gives a rating no extra weight
    elif route.name == "public outlet page":
        assert body["outlet"]["code"] == ident and body["rating"]["code"] == ident
        assert body["sector_average"]["sector"]["id"] == body["outlet"]["sector"]["id"]
    elif route.name == "public business page":
        assert body["business"]["bin"] == ident and ident in {o["outlet"]["business"]["bin"] for o in body["outlets"]}
    elif route.name == "open311 request":
        assert [row["service_request_id"] for row in body] == [ident.rsplit(".", 1)[0]]
        assert body[0]["status"] == "open" and body[0]["description"] is None
    elif route.name == "open311 service":
        assert body["service_code"] == "overcharge" and body["attributes"][0]["code"] == "outlet_code"
    else:  # pragma: no cover - a new entitled route needs its own check above
        raise AssertionError(f"no entitled check for {route.name}")


# --- routes without an id: the key is the scope ---------------------------------------------------------------
# Which own channels an entitled key sees and changes (a regional key belongs to its whole agency).
OWNERS = {"agency X": f"agency#{AGENCY_X}", "agency X, region 71": f"agency#{AGENCY_X}",
          "agency X, region 75": f"agency#{AGENCY_X}", "agency Y": f"agency#{AGENCY_Y}",
          "business A": f"business#{BIN_A}", "business B": f"business#{BIN_B}"}
ALL_OWNERS = sorted(set(OWNERS.values()))
SCOPES = ("agency read", "agency write", "business read", "business write", "analytics")
SCOPED_EXPECTED = {
    #  principal                   agency read/write  business read/write  analytics
    "admin":                       (403,  403,         403,  403,           OK),
    "analyst":                     (403,  403,         403,  403,           OK),
    "agency X":                    (OK,   OK,          403,  403,           403),
    "agency X, region 71":         (OK,   403,         403,  403,           403),
    "agency X, region 75":         (OK,   403,         403,  403,           403),
    "agency Y":                    (OK,   OK,          403,  403,           403),
    "business A":                  (403,  403,         OK,   OK,            403),
    "business B":                  (403,  403,         OK,   OK,            403),
    "anonymous":                   (401,  401,         401,  401,           401),
    "garbage key":                 (401,  401,         401,  401,           401),
    "forged key":                  (401,  401,         401,  401,           401),
    "revoked agency X":            (401,  401,         401,  401,           401),
    "revoked admin":               (401,  401,         401,  401,           401),
    "expired business A":          (401,  401,         401,  401,           401),
    "expired admin":               (401,  401,         401,  401,           401),
    "own tracking token":          (401,  401,         401,  401,           401),
    "another complaint's token":   (401,  401,         401,  401,           401),
}
WEBHOOK_IP = "93.184.216.34"  # what the made-up hook hosts resolve to: a public address


@dataclass(frozen=True)
class Scoped:
    name: str
    method: str
    path: str                  # {from} and {to}: a window around the one counted complaint
    scope: str
    body: dict | None = None   # "{marker}" as in Route
    content_type: str = "application/json"


SCOPED_ROUTES = [
    Scoped("agency channels", "GET", "/agency/channels", "agency read"),
    Scoped("agency channels change", "PUT", "/agency/channels", "agency write",
           {"webhook_url": "https://hooks-{marker}.example.kz/qalqan"}),
    Scoped("business channels", "GET", "/business/channels", "business read"),
    Scoped("business channels change", "PUT", "/business/channels", "business write", {"email": "{marker}@example.kz"}),
    Scoped("analytics summary", "GET", "/analytics/summary?from={from}&to={to}&group_by=region", "analytics"),
    Scoped("analytics csv", "GET", "/analytics/summary.csv?from={from}&to={to}&group_by=region", "analytics",
           content_type="text/csv"),
    Scoped("analytics hotspots", "GET", "/analytics/hotspots?from={from}&to={to}&level=outlet", "analytics"),
    Scoped("analytics areas", "GET", "/analytics/areas?from={from}&to={to}", "analytics"),
    Scoped("analytics cases", "GET", "/analytics/cases?from={from}&to={to}&level=region&region=71&sector=grocery",
           "analytics"),
]
SCOPED_CELLS = [(route, who) for route in SCOPED_ROUTES for who in SCOPED_EXPECTED]


def test_the_scoped_table_names_every_route_without_an_id_that_needs_a_key():
    """Every keyed route without an id outside the complaint queues (tested in their own files) is here,
    every principal of the id matrix has a row, and every column both admits and refuses someone."""
    from app import app

    rooms = ("/analytics/", "/agency/channels", "/business/channels")
    keyed = {(m, p) for p, entry in app.routes.items() if "{" not in p and p.startswith(rooms) for m in entry}
    assert {(r.method, r.path.split("?")[0]) for r in SCOPED_ROUTES} == keyed
    assert set(SCOPED_EXPECTED) == set(EXPECTED)
    for i, scope in enumerate(SCOPES):
        column = [row[i] for row in SCOPED_EXPECTED.values()]
        assert OK in column and {401, 403} <= set(column), scope
    assert {r.scope for r in SCOPED_ROUTES} == set(SCOPES)


@pytest.fixture
def public_hooks(monkeypatch):
    """DNS for the made-up webhook hosts (the registration checks where a URL points; offline here)."""
    import socket

    from chalicelib.api import channels as channels_module

    def resolve(host, port, *args, **kwargs):
        if not host.endswith(".example.kz"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (WEBHOOK_IP, port))]

    monkeypatch.setattr(channels_module, "RESOLVE", resolve)


def _all_channels(w: World) -> dict:
    return {owner: w.services.channels.get(owner) for owner in ALL_OWNERS}


@pytest.mark.parametrize("route,who", SCOPED_CELLS, ids=[f"{r.name} | {who}" for r, who in SCOPED_CELLS])
def test_scoped_route_cell(world, public_hooks, route, who):
    w = world
    marker = "QS" + secrets.token_hex(4).upper()
    day = date.fromisoformat(w.analytics_day)
    window = {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    path = route.path.replace("{from}", window["from"]).replace("{to}", window["to"])
    body = None if route.body is None else {k: v.replace("{marker}", marker.lower()) for k, v in route.body.items()}
    headers = {**_headers_for(w, who, None), "Accept": route.content_type}
    before = _all_channels(w)
    response = w.call(route.method, path, body, headers)
    outcome = SCOPED_EXPECTED[who][SCOPES.index(route.scope)]
    after = _all_channels(w)
    text = response.body.decode("utf-8") if isinstance(response.body, bytes) else str(response.body)

    if outcome != OK:
        assert response.status_code == outcome, response.body
        assert json.loads(text) == {"error": json.loads(text)["error"]}
        assert json.loads(text)["error"]["code"] == ERROR_CODES[outcome]
        if outcome == 401:
            assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert after == before, f"{who} changed channels through {route.name}"
        assert "#" not in text and marker.lower() not in text  # no owner, nothing of what was sent
        return

    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith(route.content_type)
    if route.scope == "analytics":
        _check_analytics(w, route, window, response, text)
        assert after == before
        return
    own = OWNERS[who]
    shown = json.loads(text)
    assert shown["owner"] == own
    if route.method == "GET":
        stored = w.services.channels.get(own)
        assert shown["webhook_url"] == (stored.webhook_url if stored else None)
        assert shown.get("email") == (stored.email if stored and own.startswith("business#") else None)
        assert "webhook_secret" not in shown  # a GET never shows the signing secret
        assert after == before
        return
    # A change lands on the caller's own owner, with the acting key id, and nowhere else.
    stored = after[own]
    assert stored.updated_by == key_id(w.keys[who])
    if route.scope == "agency write":
        assert stored.webhook_url == body["webhook_url"] == shown["webhook_url"]
        assert shown["webhook_secret"] == stored.webhook_secret  # the new secret, shown in this answer only
    else:
        assert stored.email == body["email"] == shown["email"]
    assert {o: c for o, c in after.items() if o != own} == {o: c for o, c in before.items() if o != own}


def _check_analytics(w: World, route: Scoped, window: dict, response, text: str) -> None:
    """Analyst and admin get the service's own answer: the one counted complaint, in its region and outlet."""
    from chalicelib.services import analytics

    if route.name == "analytics summary":
        body = json.loads(text)
        assert body == analytics.summary(window["from"], window["to"], "region", {}, c=w.services)
        assert body["totals"]["count"] == 1 and [g["count"] for g in body["groups"]] == [1]
    elif route.name == "analytics csv":
        lang = response.headers["Content-Language"]
        assert text == analytics.summary_csv(window["from"], window["to"], "region", {}, c=w.services, lang=lang)
        header, *rows = text.removeprefix("\ufeff").splitlines()
        assert header.startswith("region,region_name,count,") and len(rows) == 1  # the one counted region
    elif route.name == "analytics areas":
        body = json.loads(text)
        assert body == analytics.areas(window["from"], window["to"], "region", None, {}, c=w.services)
        assert body["total"] == 1 and len(body["rows"]) == 20
    elif route.name == "analytics cases":
        zone = {"region": "71", "sector": "grocery"}
        assert json.loads(text) == analytics.hotspot_cases(window["from"], window["to"], "region", zone, c=w.services)
    else:
        body = json.loads(text)
        assert body == analytics.hotspots(window["from"], window["to"], "outlet", c=w.services)
        assert [item["outlet"] for item in body["items"]] == [w.counted_outlet]


# --- who did it -----------------------------------------------------------------------------------------------
def test_every_admin_agency_and_business_action_records_the_acting_key_id(world):
    """Audit: each action names the key id that did it (never the key); the consumer and the system none."""
    from chalicelib.adapters.tables import ApiKeyTable

    w = world
    admin, admin_id = w.headers["admin"], key_id(w.keys["admin"])
    # Admin: a business, an outlet, a status change and a key, each stamped with the admin key's id.
    bin_ = AUDIT_BIN
    assert w.call("POST", "/admin/businesses", {"bin": bin_, "name": "ИП Аудитова", "region": "75"},
                  admin).status_code in (200, 201)
    assert w.services.businesses.get(bin_).created_by == admin_id
    outlet = w.call("POST", "/admin/outlets", {"business_bin": bin_, "name": "Киоск «Аудит»",
                                               "address": "Алматы, Абай 1", "region": "75", "sector": "grocery"},
                    {**admin, "Idempotency-Key": "audit-outlet"}).json_body
    assert w.services.outlets.get(outlet["code"]).created_by == admin_id
    assert w.call("PATCH", f"/admin/outlets/{outlet['code']}", {"status": "suspended"}, admin).status_code == 200
    assert w.services.outlets.get(outlet["code"], consistent=True).status_by == admin_id
    issued = w.call("POST", "/admin/keys", {"role": "business", "bin": bin_, "label": "audit"}, admin).json_body
    assert w.services.keys.get(issued["key_id"]).created_by == admin_id
    stored_key = ApiKeyTable.get(issued["key_id"])
    assert issued["key"] not in json.dumps(stored_key.attribute_values, default=str)  # only the hash is kept

    agency_x, agency_id = w.headers["agency X"], key_id(w.keys["agency X"])
    business_a, business_id = w.headers["business A"], key_id(w.keys["business A"])
    # Business answers, consumer rejects the offer, agency takes and resolves.
    first = w.submit("QAUDIT1")
    cid, token = first["id"], first["tracking_token"]
    assert w.call("POST", f"/business/complaints/{cid}/response", {"message": "Вернём 500 тенге.", "offer": "refund"},
                  business_a).status_code == 200
    assert w.call("POST", f"/complaints/{cid}/feedback", {"accepted": False, "stars": 2},
                  {"X-Tracking-Token": token}).status_code == 200
    assert w.call("POST", f"/agency/complaints/{cid}/status", {"status": "in_review"}, agency_x).status_code == 200
    resolved = w.call("POST", f"/agency/complaints/{cid}/status",
                      {"status": "resolved", "decision": "violation_confirmed", "result": "Продавец оштрафован."},
                      agency_x).json_body
    by_type = {e["type"]: e for e in resolved["timeline"]}
    assert by_type["business_responded"]["key_id"] == business_id
    assert by_type["business_responded"]["actor"] == "business" and by_type["business_responded"]["actor_scope"] == BIN_A
    assert by_type["offer_rejected"]["key_id"] is None and by_type["offer_rejected"]["actor"] == "consumer"
    assert by_type["taken_in_review"]["key_id"] == agency_id and by_type["resolved"]["key_id"] == agency_id
    assert by_type["resolved"]["actor"] == "agency" and by_type["resolved"]["actor_scope"] == AGENCY_X
    assert by_type["submitted"]["key_id"] is None and by_type["routed"]["key_id"] is None

    # A rejection and a reroute by the regional key record that key, not the agency's main key.
    regional, regional_id = w.headers["agency X, region 71"], key_id(w.keys["agency X, region 71"])
    second, third = w.submit("QAUDIT2")["id"], w.submit("QAUDIT3")["id"]
    rejected = w.call("POST", f"/agency/complaints/{second}/status",
                      {"status": "rejected", "reason": "Дубликат обращения."}, regional).json_body
    assert rejected["timeline"][-1]["type"] == "rejected" and rejected["timeline"][-1]["key_id"] == regional_id
    assert w.call("POST", f"/agency/complaints/{third}/reroute", {"agency_id": REROUTE_TO, "reason": "Чек: КГД."},
                  regional).status_code == 200
    moved = w.call("GET", f"/agency/complaints/{third}", headers=w.headers["agency Y"])
    assert moved.status_code == 404  # agency Y is not where it went
    assert w.services.complaints.get(third, consistent=True).timeline[-1].key_id == regional_id

    # A sweep run on demand records the admin key that ran it (the schedule acts as the system).
    report = w.call("POST", "/admin/jobs/deadlines", {"as_of": (w.clock.now() + timedelta(days=60)).date().isoformat()},
                    admin)
    assert report.status_code == 200 and report.json_body["business_overdue"] >= 1
    stored = w.services.complaints.get(third, consistent=True)
    overdue = [e for e in stored.timeline if e.type.endswith("_overdue")]
    assert overdue and all(e.actor == "admin" and e.key_id == admin_id for e in overdue)
    # Revoking a key records who revoked it.
    assert w.call("DELETE", f"/admin/keys/{issued['key_id']}", headers=admin).status_code == 200
    assert w.services.keys.get(issued["key_id"]).revoked_by == admin_id
