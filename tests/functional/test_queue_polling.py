"""Work queues polled with cursors: no gaps and no repeats under concurrent writes, regional scopes, filters,
limits. On moto, through the services (real clock) and over chalice.test.Client (a clock the test moves)."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.domain.complaint import GiveFeedback, Reject, Reroute, Resolve, Respond, TakeInReview, transition
from chalicelib.domain.model import Contact, change_key
from chalicelib.services.auth import Principal, issue_key
from chalicelib.services.cases import (
    Poller, agency_action, agency_queue, business_action, business_queue, give_feedback, reroute,
)
from chalicelib.services.complaints import SellerRef, SubmitComplaint, submit_complaint
from tests.fakes import FixedClock
from tests.functional.test_repository_contract import enforce_between_bounds

BIN = "940140000385"  # Таза Маркет: grocery outlets in Astana (71) and Almaty (75)
KZPP = Principal(role="agency", key_id="kagencykzpp1", label="kzpp", agency_id="kzpp")
KZPP_REGIONS = Principal(role="agency", key_id="kagencykzpp2", label="kzpp 71+75", agency_id="kzpp",
                         regions=frozenset({"71", "75"}))
KTRM = Principal(role="agency", key_id="kagencyktrm1", label="ktrm", agency_id="ktrm")
SELLER = Principal(role="business", key_id="kbusiness001", label="Таза", bin=BIN)
OTHER_BIN = "070941024691"  # a seller named without a sticker, in Shymkent (11)
OTHER_SELLER = Principal(role="business", key_id="kbusiness002", label="Дастархан", bin=OTHER_BIN)


@pytest.fixture
def strict(monkeypatch):
    enforce_between_bounds(monkeypatch)


# --- concurrent writers and pollers, through the services --------------------------------------------------
class SlowCommits:
    """The complaints repository, with each write landing 0-60 ms after the service took its timestamp (a
    slow network, an SDK retry), so writes commit out of timestamp order as they can in AWS. The lock only
    serialises the calls into moto: its tables are plain dicts, and a query iterating `Table.items.values()`
    while another thread's put adds a key fails with "dictionary changed size during iteration". The delay
    stays outside the lock, so the reordering is real."""

    def __init__(self, inner, seed: int) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.local = threading.local()
        self.seed = seed

    def _rng(self) -> random.Random:
        if not hasattr(self.local, "rng"):
            self.local.rng = random.Random(f"{self.seed}:{threading.get_ident()}")
        return self.local.rng

    def save(self, complaint):
        time.sleep(self._rng().uniform(0, 0.06))
        with self.lock:
            return self.inner.save(complaint)

    def get(self, complaint_id, *, consistent=False):
        with self.lock:
            return self.inner.get(complaint_id, consistent=consistent)

    def changes(self, *args, **kwargs):
        with self.lock:
            return self.inner.changes(*args, **kwargs)


# What a writer may do with a complaint after submitting it; each plan is a valid path through the lifecycle.
PLANS = [
    (),
    ("respond",),
    ("respond", "accept"),
    ("respond", "decline"),
    ("take",),
    ("take", "resolve"),
    ("respond", "take", "reject"),
    ("reroute",),
    ("respond", "reroute", "accept"),
]


def _writer(n: int, count: int, c, complaints, outlets, clock, rng: random.Random, written: dict, errors: list):
    try:
        for i in range(count):
            contact = Contact(name="Айдана", phone="+77011234567") if rng.random() < 0.5 else None
            # Most complaints name one of the seller's outlets (71, 75); some a seller in 11 without a sticker.
            seller = {"outlet_code": rng.choice(outlets)} if rng.random() < 0.75 else {
                "business": SellerRef(bin=OTHER_BIN, name="ТОО «Дастархан»", region="11")}
            submitted = submit_complaint(
                SubmitComplaint(text=f"Писатель {n}, жалоба {i}: обсчитали на кассе на {rng.randint(200, 9000)} тенге.",
                                channel="qr", category="overcharge", contact=contact, **seller),
                outlets=c.outlets, businesses=c.businesses, complaints=complaints, contacts=c.contacts,
                catalog=c.catalog, rules=c.rules, routing_rules=c.routing_rules, secret=c.settings.secret, clock=clock)
            cid, plan = submitted.complaint.id, rng.choice(PLANS)
            written[cid] = plan
            for step in plan:
                time.sleep(rng.uniform(0, 0.02))
                if step == "respond":
                    business = SELLER if submitted.complaint.business_bin == BIN else OTHER_SELLER
                    business_action(business, cid, Respond("Вернём разницу.", "refund"), complaints=complaints,
                                    clock=clock)
                elif step in ("accept", "decline"):
                    give_feedback(cid, submitted.tracking_token, GiveFeedback(step == "accept", 4),
                                  complaints=complaints, secret=c.settings.secret, clock=clock)
                elif step == "take":
                    agency_action(KZPP, cid, TakeInReview(), complaints=complaints, clock=clock)
                elif step == "resolve":
                    agency_action(KZPP, cid, Resolve("violation_confirmed", "Предписание выдано."),
                                  complaints=complaints, clock=clock)
                elif step == "reject":
                    agency_action(KZPP, cid, Reject("Нет состава нарушения."), complaints=complaints, clock=clock)
                elif step == "reroute":
                    reroute(KZPP, cid, Reroute("ktrm", "Весы — метрология."), complaints=complaints,
                            examples=c.routing_examples, rules=c.rules, agencies=frozenset(c.catalog.agencies),
                            clock=clock)
    except Exception as exc:  # reported by the test, never swallowed
        errors.append(exc)


class Watcher:
    """Polls one queue with its last cursor until told to stop, checking each page as it comes."""

    def __init__(self, name, read) -> None:
        self.name, self.read = name, read
        self.seen: list[tuple[str, int, str, str]] = []   # (id, version, change key, status)
        self.cursor: str | None = None
        self.polls = 0
        self.errors: list = []

    def poll(self) -> int:
        page = self.read(self.cursor)
        self.polls += 1
        keys = [change_key(x) for x in page.items]
        last = self.seen[-1][2] if self.seen else ""
        # Every page is in change order and starts after the previous one: a repeat would break this.
        assert keys == sorted(keys) and len(set(keys)) == len(keys), f"{self.name}: page out of order"
        assert not keys or keys[0] > last, f"{self.name}: page went back to {keys[0]} after {last}"
        self.seen += [(x.id, x.version, change_key(x), x.status.value) for x in page.items]
        self.cursor = page.next_cursor or self.cursor
        return len(page.items)

    def run(self, writers_done: threading.Event, settle: float) -> None:
        try:
            quiet_since = None
            while True:
                got = self.poll()
                if writers_done.is_set():
                    quiet_since = quiet_since or time.monotonic()
                    # Stop only once the lag has passed since the last write and a poll found nothing new.
                    if got == 0 and time.monotonic() - quiet_since > settle + 0.2:
                        return
                time.sleep(0.01)
        except Exception as exc:
            self.errors.append(exc)


@pytest.mark.parametrize("seed", [20261127, 7])
def test_given_concurrent_inserts_and_updates_when_polled_with_cursors_then_no_gaps_and_no_repeats(
        services, demo, strict, seed):
    from chalicelib.bootstrap import SystemClock

    settle = 0.3
    clock = SystemClock()
    complaints = SlowCommits(services.complaints, seed)
    outlets = [o["code"] for o in demo["outlets"] if o["business_bin"] == BIN]
    assert {o["region"] for o in demo["outlets"] if o["business_bin"] == BIN} == {"71", "75"}
    poller = Poller(complaints=complaints, clock=clock, secret=services.settings.secret, settle_seconds=settle)
    limit = 4  # small pages: many polls, many cursor hand-overs
    watchers = {
        "business": Watcher("business", lambda cur: business_queue(SELLER, poller=poller, status=None, cursor=cur,
                                                                   limit=limit)),
        "kzpp": Watcher("kzpp", lambda cur: agency_queue(KZPP_REGIONS, poller=poller, status=None, region=None,
                                                         cursor=cur, limit=limit,
                                                         known_regions=services.catalog.regions)),
        "ktrm": Watcher("ktrm", lambda cur: agency_queue(KTRM, poller=poller, status=None, region=None, cursor=cur,
                                                         limit=limit, known_regions=services.catalog.regions)),
    }
    # GIVEN four writers submitting and working complaints while three queues are polled
    written: dict[str, tuple] = {}
    errors: list = []
    writers_done = threading.Event()
    master = random.Random(seed)
    writers = [threading.Thread(target=_writer, args=(n, 6, services, complaints, outlets, clock,
                                                      random.Random(master.random()), written, errors))
               for n in range(4)]
    pollers = [threading.Thread(target=w.run, args=(writers_done, settle)) for w in watchers.values()]
    for t in pollers + writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    writers_done.set()
    for t in pollers:
        t.join(timeout=60)
    assert not errors and not any(w.errors for w in watchers.values()), (errors, [w.errors for w in watchers.values()])
    assert len(written) == 24 and all(w.polls > 5 for w in watchers.values())

    # THEN each queue saw every complaint that ends in it at its last version: no gaps
    finals = {cid: services.complaints.get(cid, consistent=True) for cid in written}
    assert {p for p in written.values() if p} and any("reroute" in p for p in written.values())
    expect = {
        "business": {cid for cid, c in finals.items() if c.business_bin == BIN},
        "kzpp": {cid for cid, c in finals.items() if c.agency_id == "kzpp" and c.region in ("71", "75")},
        "ktrm": {cid for cid, c in finals.items() if c.agency_id == "ktrm"},
    }
    assert all(expect.values()) and any(c.region == "11" for c in finals.values())
    for name, watcher in watchers.items():
        last_seen = {}
        for cid, version, _, status in watcher.seen:
            last_seen[cid] = (version, status)
        for cid in expect[name]:
            final = finals[cid]
            assert last_seen.get(cid) == (final.version, final.status.value), \
                f"{name} missed the final state of {cid} ({written[cid]})"
        # AND nothing appears twice at the same change key, nor twice at the same version: no repeats
        pairs = [(cid, key) for cid, _, key, _ in watcher.seen]
        assert len(set(pairs)) == len(pairs), f"{name} repeated an item"
        versions = [(cid, version) for cid, version, _, _ in watcher.seen]
        assert len(set(versions)) == len(versions), f"{name} showed one version twice"
    # AND the regional key saw nothing from region 11, and the seller nothing about another seller
    kzpp_seen = {cid for cid, *_ in watchers["kzpp"].seen}
    assert all(finals[cid].region in ("71", "75") for cid in kzpp_seen)
    assert all(finals[cid].business_bin == BIN for cid, *_ in watchers["business"].seen)
    # (what kzpp saw of a later-rerouted complaint was an earlier version, while it was still kzpp's)
    assert kzpp_seen - expect["kzpp"] <= {cid for cid, c in finals.items() if c.agency_id == "ktrm"}


def test_given_a_write_committed_after_a_later_one_then_only_the_settle_lag_keeps_it_from_being_skipped(
        services, demo, strict):
    clock = FixedClock(datetime.now(timezone.utc))
    outlet = next(o["code"] for o in demo["outlets"] if o["business_bin"] == BIN)

    def submit(text):
        return submit_complaint(SubmitComplaint(text=text, channel="qr", outlet_code=outlet, category="overcharge"),
                                outlets=services.outlets, businesses=services.businesses,
                                complaints=services.complaints, contacts=services.contacts,
                                catalog=services.catalog, rules=services.rules,
                                routing_rules=services.routing_rules, secret=services.settings.secret,
                                clock=clock).complaint

    def race(settle: float) -> set[str]:
        """Which of two answers the poller ever sees when B's answer is timestamped before C's but lands
        after it (a slow write)."""
        b, c = submit("Первая жалоба: обсчитали на кассе."), submit("Вторая жалоба: обсчитали на кассе.")
        clock.advance(seconds=10)
        poller = Poller(complaints=services.complaints, clock=clock, secret=services.settings.secret,
                        settle_seconds=settle)
        read = lambda cur: business_queue(SELLER, poller=poller, status=None, cursor=cur, limit=50)  # noqa: E731
        cursor = read(None).next_cursor
        b_answered, _ = transition(b, Respond("Вернём.", "refund"), actor=SELLER.actor, now=clock.now())
        clock.advance(milliseconds=100)
        c_answered, _ = transition(c, Respond("Вернём.", "refund"), actor=SELLER.actor, now=clock.now())
        services.complaints.save(c_answered)
        clock.advance(milliseconds=100)
        first = read(cursor)          # C's answer is stored, B's is still on its way
        services.complaints.save(b_answered)
        clock.advance(seconds=settle + 1)
        second = read(first.next_cursor or cursor)
        names = {b.id: "b", c.id: "c"}
        return {names[x.id] for x in first.items + second.items if x.business_response is not None}

    # WHEN the poller reads right up to now THEN B's answer falls behind the cursor: a gap
    assert race(0.0) == {"c"}
    # WHEN it keeps a settle lag longer than the write took THEN both answers are seen
    assert race(0.3) == {"b", "c"}


def test_given_a_cursor_ahead_of_this_pollers_horizon_then_the_page_is_empty_not_an_error(services, demo, strict):
    # GIVEN a cursor handed out by a poller whose clock was 2 s ahead (another Lambda container), or before
    # the settle lag was raised
    clock = FixedClock(datetime.now(timezone.utc))
    outlet = next(o["code"] for o in demo["outlets"] if o["business_bin"] == BIN)
    submit_complaint(SubmitComplaint(text="Обсчитали на кассе на 500 тенге.", channel="qr", outlet_code=outlet,
                                     category="overcharge"),
                     outlets=services.outlets, businesses=services.businesses, complaints=services.complaints,
                     contacts=services.contacts, catalog=services.catalog, rules=services.rules,
                     routing_rules=services.routing_rules, secret=services.settings.secret, clock=clock)
    clock.advance(seconds=0.5)
    ahead = Poller(complaints=services.complaints, clock=clock, secret=services.settings.secret, settle_seconds=0.3)
    page = business_queue(SELLER, poller=ahead, status=None, cursor=None, limit=10)
    assert len(page.items) == 1
    # WHEN a poller with a longer lag reads with it THEN nothing is new yet, and the cursor still works later
    behind = replace(ahead, settle_seconds=3.0)
    empty = business_queue(SELLER, poller=behind, status=None, cursor=page.next_cursor, limit=10)
    assert empty.items == [] and empty.next_cursor
    clock.advance(seconds=5)
    assert business_queue(SELLER, poller=behind, status=None, cursor=empty.next_cursor, limit=10).items == []


# --- over HTTP: scopes, filters, limits ---------------------------------------------------------------------
TEXT = "Обсчитали на кассе: пробили товар дважды, деньги вернуть отказались."


@pytest.fixture
def queue_api(api, demo, services, strict):
    """Complaints to kzpp in Astana (71), Almaty (75) and Shymkent (11, a seller without a sticker),
    submitted a second apart, with the container's clock under the test's control."""
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    services.clock = clock
    grocery = {o["region"]: o["code"] for o in demo["outlets"] if o["business_bin"] == BIN}
    bodies = {
        "71": {"outlet_code": grocery["71"], "category": "overcharge", "text": TEXT},
        "75": {"outlet_code": grocery["75"], "category": "overcharge", "text": TEXT},
        "11": {"business": {"bin": OTHER_BIN, "name": "ТОО «Дастархан»", "region": "11"},
               "category": "overcharge", "text": TEXT},
    }
    submitted = []
    for region in ("71", "11", "75", "71", "75", "11", "71"):
        clock.advance(seconds=1)
        response = api.post("/complaints", bodies[region])
        assert response.status_code == 201 and response.json_body["agency"]["id"] == "kzpp", response.body
        submitted.append((response.json_body["id"], region, response.json_body["tracking_token"]))
    keys = {
        "seller": demo["keys"]["businesses"][BIN],
        "other_seller": demo["keys"]["businesses"][OTHER_BIN],
        "all": demo["keys"]["agencies"]["kzpp"],
        "71+75": issue_key(role="agency", label="kzpp 71+75", agency_id="kzpp", regions=("75", "71"),
                           keys=services.keys, clock=clock).key,
        "71": issue_key(role="agency", label="kzpp 71", agency_id="kzpp", regions=("71",), keys=services.keys,
                        clock=clock).key,
    }
    clock.advance(seconds=10)  # past the settle lag
    return api, clock, submitted, keys, grocery


def _auth(key):
    return {"Authorization": f"Bearer {key}"}


def _drain(api, path, key, *, limit):
    """Every page of a queue from the start; returns the ids in the order they came and the last cursor."""
    ids, cursor, pages = [], None, 0
    sep = "&" if "?" in path else "?"
    while True:
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url, _auth(key))
        assert response.status_code == 200, response.body
        body = response.json_body
        pages += 1
        # after a cursor, every change comes back; those outside the status filter say so
        ids += [x["id"] for x in body["items"] if x.get("in_filter", True)]
        cursor = body["next_cursor"] or cursor
        if len(body["items"]) < limit:
            return ids, cursor, pages
        assert pages < 20


def test_a_regional_key_sees_only_its_regions_merged_in_change_order(queue_api):
    api, _, submitted, keys, _ = queue_api
    ids, _, pages = _drain(api, "/agency/complaints", keys["71+75"], limit=2)
    assert ids == [cid for cid, region, _ in submitted if region in ("71", "75")] and pages == 3
    ids, _, _ = _drain(api, "/agency/complaints", keys["71"], limit=2)
    assert ids == [cid for cid, region, _ in submitted if region == "71"]
    ids, _, _ = _drain(api, "/agency/complaints", keys["all"], limit=3)
    assert ids == [cid for cid, _, _ in submitted]
    items = api.get("/agency/complaints", _auth(keys["71+75"])).json_body["items"]
    assert {x["region"]["code"] for x in items} == {"71", "75"}
    assert [x["updated_at"] for x in items] == sorted(x["updated_at"] for x in items)


def test_a_region_filter_outside_the_keys_scope_is_403_and_inside_it_narrows_the_queue(queue_api):
    api, _, submitted, keys, _ = queue_api
    response = api.get("/agency/complaints?region=11", _auth(keys["71+75"]))
    assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden"
    assert api.get("/agency/complaints?region=75", _auth(keys["71"])).status_code == 403
    ids, _, _ = _drain(api, "/agency/complaints?region=75", keys["71+75"], limit=1)
    assert ids == [cid for cid, region, _ in submitted if region == "75"]
    ids, _, _ = _drain(api, "/agency/complaints?region=11", keys["all"], limit=5)
    assert ids == [cid for cid, region, _ in submitted if region == "11"]
    unknown = api.get("/agency/complaints?region=99", _auth(keys["all"]))
    assert unknown.status_code == 422 and unknown.json_body["error"]["fields"]["region"]["code"] == "unknown_region"


def test_polling_with_the_last_cursor_returns_only_what_changed_since(queue_api):
    api, clock, submitted, keys, grocery = queue_api
    key = keys["71+75"]
    ids, cursor, _ = _drain(api, "/agency/complaints", key, limit=50)
    assert len(ids) == 5
    # WHEN nothing changes THEN the next poll is empty and keeps the cursor
    again = api.get(f"/agency/complaints?cursor={cursor}", _auth(key)).json_body
    assert again == {"items": [], "next_cursor": cursor}
    # WHEN the first complaint is taken in review and a new one arrives
    first = submitted[0][0]
    taken = api.post(f"/agency/complaints/{first}/status", {"status": "in_review"}, _auth(keys["all"]))
    assert taken.status_code == 200
    clock.advance(seconds=1)
    new = api.post("/complaints", {"outlet_code": grocery["75"], "category": "overcharge", "text": TEXT}).json_body
    # THEN only after the settle lag does the next poll show exactly those two, in change order
    assert api.get(f"/agency/complaints?cursor={cursor}", _auth(key)).json_body["items"] == []
    clock.advance(seconds=10)
    page = api.get(f"/agency/complaints?cursor={cursor}", _auth(key)).json_body
    assert [(x["id"], x["status"]) for x in page["items"]] == [(first, "in_review"), (new["id"], "routed")]


def test_the_status_filter_shows_open_cases_or_one_status(queue_api):
    api, clock, submitted, keys, grocery = queue_api
    key = keys["all"]
    resolved, rejected = submitted[0][0], submitted[1][0]
    for cid, body in ((resolved, {"status": "in_review"}),
                      (resolved, {"status": "resolved", "decision": "not_confirmed", "result": "Нарушение не подтвердилось."}),
                      (rejected, {"status": "rejected", "reason": "Повторная жалоба."})):
        clock.advance(seconds=1)
        assert api.post(f"/agency/complaints/{cid}/status", body, _auth(key)).status_code == 200
    clock.advance(seconds=10)
    ids, _, _ = _drain(api, "/agency/complaints?status=open", key, limit=2)
    assert ids == [cid for cid, _, _ in submitted[2:]]
    assert _drain(api, "/agency/complaints?status=resolved", key, limit=5)[0] == [resolved]
    assert _drain(api, "/agency/complaints?status=rejected", key, limit=5)[0] == [rejected]
    assert _drain(api, "/agency/complaints?status=settled", key, limit=5)[0] == []
    everything, _, _ = _drain(api, "/agency/complaints", key, limit=50)
    assert everything == [cid for cid, _, _ in submitted[2:]] + [resolved, rejected]
    bad = api.get("/agency/complaints?status=closed", _auth(key))
    assert bad.status_code == 422 and bad.json_body["error"]["fields"]["status"]["code"] == "enum"
    # AND the seller's inbox filters the same way, over its own complaints only
    ids, _, _ = _drain(api, "/business/complaints?status=open", keys["seller"], limit=2)
    assert ids == [cid for cid, region, _ in submitted[2:] if region != "11"]
    assert _drain(api, "/business/complaints?status=resolved", keys["seller"], limit=2)[0] == [resolved]
    first = api.get("/agency/complaints?status=open&limit=50", _auth(key)).json_body
    assert [x["id"] for x in first["items"]] == [cid for cid, _, _ in submitted[2:]]
    assert all(x["in_filter"] for x in first["items"])
    # AND a poll with the cursor reports a case that LEFT the filter, marked, so a console can drop it
    clock.advance(seconds=1)
    settled = submitted[2][0]
    assert api.post(f"/agency/complaints/{settled}/status", {"status": "rejected", "reason": "Дубль."},
                    _auth(key)).status_code == 200
    clock.advance(seconds=10)
    polled = api.get(f"/agency/complaints?status=open&cursor={first['next_cursor']}", _auth(key)).json_body
    # (the cases closed before the first page changed after its last item: they are reported too)
    assert [(x["id"], x["status"], x["in_filter"]) for x in polled["items"]] == [
        (resolved, "resolved", False), (rejected, "rejected", False), (settled, "rejected", False)]


BAD_LIMITS = ["²", "0", "101", "-1", "1.5", "abc", "", "1e2", "٣", "%EF%BC%95", "+5", " 5", "9" * 5000, "0" * 5000 + "5"]


@pytest.mark.parametrize("path", ["/agency/complaints", "/business/complaints"])
def test_a_limit_outside_1_to_100_or_not_ascii_digits_is_400(queue_api, path):
    api, _, _, keys, _ = queue_api
    key = keys["all"] if path.startswith("/agency") else keys["seller"]
    for limit in BAD_LIMITS:
        response = api.get(f"{path}?limit={limit}", _auth(key))
        assert response.status_code == 400, (limit, response.body)
        assert response.json_body["error"]["code"] == "invalid_limit", limit
        assert response.json_body["error"]["fields"]["limit"]["code"] == "out_of_range", limit


def test_limits_at_the_bounds_are_accepted(queue_api):
    api, _, submitted, keys, _ = queue_api
    one = api.get("/agency/complaints?limit=1", _auth(keys["all"])).json_body
    assert len(one["items"]) == 1 and one["items"][0]["id"] == submitted[0][0]
    hundred = api.get("/agency/complaints?limit=100", _auth(keys["all"])).json_body
    assert [x["id"] for x in hundred["items"]] == [cid for cid, _, _ in submitted]
    default = api.get("/agency/complaints", _auth(keys["all"])).json_body
    assert default == hundred


def test_the_business_inbox_holds_only_the_sellers_own_complaints_in_change_order(queue_api):
    api, _, submitted, keys, _ = queue_api
    ids, _, _ = _drain(api, "/business/complaints", keys["seller"], limit=2)
    assert ids == [cid for cid, region, _ in submitted if region in ("71", "75")]
    ids, _, _ = _drain(api, "/business/complaints", keys["other_seller"], limit=50)
    assert ids == [cid for cid, region, _ in submitted if region == "11"]
