"""Public transparency on moto: the publication consent, the outlet's and the business's public pages fed by
the stream reactions, and the open data (the reaction's day-partitioned rows, the export job on moto S3, the
CLI, GET /open-data/)."""
import csv
import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest

H = {"Content-Type": "application/json"}
TEXT = "Кассир Айгүл Сейтқалиқызы обсчитала на 2 500 тенге, звоните +7 701 123 45 67. Чек не дали."
PLAIN = "Продали просроченный кефир, чек не выдали, деньги вернуть отказались."
BUCKET = "qalqan-test-open-data"
UNKNOWN_CODE = __import__("chalicelib.domain.codes", fromlist=["x"]).new_outlet_code(lambda bits: 12345)


@pytest.fixture
def world(aws, demo, client):
    """The app wired to a moto bucket for the open data, and a reader of the complaints table's stream."""
    import boto3

    from chalicelib.adapters.open_data import S3Objects
    from chalicelib.adapters.tables import ComplaintTable
    from chalicelib.bootstrap import container, use_container
    from local.streams import StreamReader

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    base = container()
    settings = replace(base.settings, open_data_bucket=BUCKET, open_data_refresh_days=3)
    c = replace(base, settings=settings, objects=S3Objects(BUCKET, settings.aws_region))
    use_container(c)

    class World:
        pass

    w = World()
    w.c, w.demo, w.client, w.s3 = c, demo, client, s3
    w.reader = StreamReader(ComplaintTable.Meta.table_name)
    w.reader.read()  # start after the seed

    def post(path, body, key=None, status=(200, 201), **headers):
        if key:
            headers["Authorization"] = f"Bearer {key}"
        response = client.http.post(path, body=json.dumps(body), headers={**H, **headers})
        assert response.status_code in status, response.body
        return json.loads(response.body)

    def get(path):
        return client.http.get(path)

    def react():
        records = w.reader.read()
        payload = client.lambda_.invoke("reactions", {"Records": records}).payload
        assert payload["parked"] == 0, payload
        return records

    w.post, w.get, w.react = post, get, react
    return w


def _outlet(demo, sector):
    return next(o for o in demo["outlets"] if o["sector"] == sector)


def _complain(w, code, text=PLAIN, **extra):
    return w.post("/complaints", {"outlet_code": code, "text": text, "language": "ru", "channel": "qr", **extra})


# --- consent ------------------------------------------------------------------------------------------------
def test_consent_is_stored_and_echoed_and_off_by_default(world):
    from chalicelib.adapters.tables import ComplaintTable

    code = _outlet(world.demo, "grocery")["code"]
    given = _complain(world, code, publish_consent=True)
    silent = _complain(world, code)
    assert given["publish_consent"] is True and silent["publish_consent"] is False
    assert ComplaintTable.get(given["id"]).publish_consent is True
    assert ComplaintTable.get(silent["id"]).publish_consent is False
    view = world.client.http.get(f"/complaints/{given['id']}", headers={"X-Tracking-Token": given["tracking_token"]})
    assert json.loads(view.body)["publish_consent"] is True


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_consent_must_be_a_real_boolean(world, value):
    code = _outlet(world.demo, "grocery")["code"]
    body = world.post("/complaints", {"outlet_code": code, "text": PLAIN, "publish_consent": value}, status=(422,))
    assert body["error"]["code"] == "validation_failed" and "publish_consent" in body["error"]["fields"]


def test_a_retry_with_another_consent_is_another_request(world):
    code = _outlet(world.demo, "grocery")["code"]
    _complain(world, code, **{"publish_consent": True})
    first = world.post("/complaints", {"outlet_code": code, "text": PLAIN, "publish_consent": True},
                       **{"Idempotency-Key": "consent-1"})
    again = world.post("/complaints", {"outlet_code": code, "text": PLAIN, "publish_consent": True},
                       **{"Idempotency-Key": "consent-1"})
    assert again["id"] == first["id"]
    other = world.post("/complaints", {"outlet_code": code, "text": PLAIN, "publish_consent": False},
                       status=(409,), **{"Idempotency-Key": "consent-1"})
    assert other["error"]["code"] == "idempotency_key_reused"


# --- the outlet's and the business's pages ------------------------------------------------------------------
def test_outlet_page_says_why_a_rating_is_not_published_and_compares_with_the_sector(world):
    outlet = _outlet(world.demo, "grocery")
    for _ in range(3):
        _complain(world, outlet["code"])
    world.react()
    response = world.get(f"/public/outlets/{outlet['code']}")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"] and "max-age" in response.headers["Cache-Control"]
    page = json.loads(response.body)
    assert page["outlet"]["code"] == outlet["code"] and page["outlet"]["active"] is True
    assert page["outlet"]["business"] == {"name": outlet["business_name"], "bin": outlet["business_bin"]}
    rating = page["rating"]
    assert rating["published"] is False and rating["score"] is None and rating["count"] == 3
    assert rating["reason"] == "too_few" and rating["min_count"] == 10
    assert "10" in rating["reason_text"]["ru"] and "10" in rating["reason_text"]["kk"]
    assert rating["reason_text"]["en"] == "Fewer than 10 ratings: the rating is not published yet."
    assert page["record"] == {"complaints": 3, "answered_in_time": {"share": None, "count": 0},
                              "settled": {"share": None, "count": 0}}
    sector = page["sector_average"]
    assert sector["sector"]["id"] == "grocery" and sector["complaints"] == 3 and sector["published"] is False


def _published_outlet(w):
    """Ten complaints on one outlet: six answered in time (two then accepted by the consumer), four let run
    past the seller's term. A sister outlet in the same sector gets two more, unanswered."""
    outlet = _outlet(w.demo, "grocery")
    sister = [o for o in w.demo["outlets"] if o["sector"] == "grocery" and o["code"] != outlet["code"]][0]
    bkey = w.demo["keys"]["businesses"][outlet["business_bin"]]
    made = [_complain(w, outlet["code"]) for _ in range(10)]
    for _ in range(2):
        _complain(w, sister["code"])
    for complaint in made[:6]:
        w.post(f"/business/complaints/{complaint['id']}/response",
               {"message": "Вернём деньги, приходите.", "offer": "refund"}, key=bkey)
    for complaint in made[:2]:
        w.post(f"/complaints/{complaint['id']}/feedback", {"accepted": True, "stars": 5},
               **{"X-Tracking-Token": complaint["tracking_token"]})
    from chalicelib.services.cases import sweep_deadlines

    later = w.c.clock.now() + timedelta(days=40)
    sweep_deadlines(later, complaints=w.c.complaints, clock=w.c.clock)
    return outlet, sister, made


def test_a_published_outlet_shows_its_shares_beside_its_sectors(world):
    outlet, sister, _ = _published_outlet(world)
    records = world.react()
    page = json.loads(world.get(f"/public/outlets/{outlet['code']}").body)
    assert page["rating"]["published"] is True and page["rating"]["count"] == 10
    assert page["rating"]["reason"] is None and page["rating"]["reason_text"] is None
    # 6 of 10 judged answers came in time; 2 settled of the 2 closed
    assert page["record"]["answered_in_time"] == {"share": 0.6, "count": 10}
    assert page["record"]["settled"] == {"share": 1.0, "count": 2}
    for name in ("answered_in_time", "settled"):  # the same figures as the rating's own components
        assert page["record"][name] == page["rating"]["components"][name]
    sector = page["sector_average"]
    # the sector: 12 complaints, 6 answered in time of 12 judged (the sister's two ran past their term too)
    assert sector["complaints"] == 12 and sector["published"] is True
    assert sector["answered_in_time"] == {"share": 0.5, "count": 12}
    # THEN a redelivered batch moves nothing
    world.client.lambda_.invoke("reactions", {"Records": records})
    assert json.loads(world.get(f"/public/outlets/{outlet['code']}").body) == page


def test_business_page_lists_its_outlets_a_page_at_a_time(world):
    outlet, _, _ = _published_outlet(world)
    world.react()
    bin = outlet["business_bin"]
    first = world.get(f"/public/businesses/{bin}?limit=2")
    assert first.status_code == 200 and "public" in first.headers["Cache-Control"]
    page = json.loads(first.body)
    # the sister outlet is the same chain's: its two complaints count for the business too
    assert page["business"]["name"] == outlet["business_name"] and page["rating"]["count"] == 12
    assert len(page["outlets"]) == 2 and page["next_cursor"]
    codes = [o["outlet"]["code"] for o in page["outlets"]]
    rest = json.loads(world.get(f"/public/businesses/{bin}?limit=2&cursor={page['next_cursor']}").body)
    codes += [o["outlet"]["code"] for o in rest["outlets"]]
    mine = sorted(o["code"] for o in world.demo["outlets"] if o["business_bin"] == bin)
    assert sorted(codes) == mine and len(set(codes)) == len(codes)
    rated = next(o for o in page["outlets"] + rest["outlets"] if o["outlet"]["code"] == outlet["code"])
    assert rated["rating"]["published"] is True and rated["record"]["answered_in_time"]["share"] == 0.6
    assert {s["sector"]["id"] for s in page["sector_averages"]} == {"grocery"}


def test_a_sole_proprietors_iin_is_not_shown_on_the_outlet_page(world):
    taxi = _outlet(world.demo, "taxi")
    page = json.loads(world.get(f"/public/outlets/{taxi['code']}").body)
    assert page["outlet"]["business"] == {"name": taxi["business_name"]}
    assert taxi["business_bin"] not in world.get(f"/public/outlets/{taxi['code']}").body.decode()


@pytest.mark.parametrize("path,status,code", [
    ("/public/outlets/XXXX", 400, "invalid_outlet_code"),
    (f"/public/outlets/{UNKNOWN_CODE}", 404, "outlet_not_found"),
    ("/public/businesses/123", 400, "invalid_bin"),
    ("/public/businesses/940140000386", 400, "invalid_bin"),
    ("/public/businesses/990140000017", 404, "business_not_found"),
    ("/public/businesses/940140000385?limit=0", 400, "invalid_limit"),
    ("/public/businesses/940140000385?limit=51", 400, "invalid_limit"),
    ("/public/businesses/940140000385?cursor=bm9wZQ", 400, "invalid_cursor"),
    ("/open-data/?limit=abc", 400, "invalid_limit"),
    ("/open-data/?cursor=../../etc", 400, "invalid_cursor"),
    ("/open-data/?cursor=x", 400, "invalid_cursor"),
    ("/open-data/complaints-2026-13-01.csv", 404, "open_data_file_not_found"),
    ("/open-data/secret.txt", 404, "open_data_file_not_found"),
])
def test_bad_public_requests_get_the_house_error_shape(world, path, status, code):
    response = world.get(path)
    assert response.status_code == status, response.body
    assert json.loads(response.body)["error"]["code"] == code


def test_an_outlet_page_is_one_getitem_and_one_batch_read(world, dynamodb_calls):
    outlet = _outlet(world.demo, "grocery")
    for _ in range(3):
        _complain(world, outlet["code"])
    world.react()
    dynamodb_calls.clear()
    assert world.get(f"/public/outlets/{outlet['code']}").status_code == 200
    assert dict(dynamodb_calls) == {"GetItem": 1, "BatchGetItem": 1}
    dynamodb_calls.clear()
    assert world.get(f"/public/businesses/{outlet['business_bin']}").status_code == 200
    assert dict(dynamodb_calls) == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}


# --- open data ----------------------------------------------------------------------------------------------
def _rows(day):
    from chalicelib.adapters.open_data import DynamoOpenData

    return list(DynamoOpenData().rows(day))


def test_the_reaction_keeps_one_anonymised_row_per_complaint_and_never_rolls_it_back(world):
    from chalicelib.services.analytics import local_day

    code = _outlet(world.demo, "grocery")["code"]
    consented = _complain(world, code, TEXT, publish_consent=True)
    silent = _complain(world, code, TEXT)
    inserts = world.react()
    bkey = world.demo["keys"]["businesses"][_outlet(world.demo, "grocery")["business_bin"]]
    world.post(f"/business/complaints/{consented['id']}/response", {"message": "Вернём.", "offer": "refund"}, key=bkey)
    world.react()
    day = local_day(world.c.clock.now()).isoformat()
    rows = {r["record_id"]: r for r in _rows(day)}
    from chalicelib.services.open_data import record_id

    secret = world.c.settings.secret
    mine, other = rows[record_id(secret, consented["id"])], rows[record_id(secret, silent["id"])]
    assert mine["status"] == "business_responded" and mine["business_answered"] is True
    assert mine["business_answered_in_time"] is True and mine["business_answer_hours"] is not None
    assert "[name]" in mine["text"] and "[phone]" in mine["text"] and "Айгүл" not in mine["text"]
    assert "2 500 тенге" in mine["text"]
    assert other["text"] is None and other["text_language"] is None
    dumped = json.dumps(list(rows.values()), ensure_ascii=False)
    assert consented["id"] not in dumped and "701" not in dumped
    # WHEN the first (older) records are delivered again, e.g. replayed from the parking queue
    world.client.lambda_.invoke("reactions", {"Records": inserts})
    # THEN the row still shows the later state
    again = {r["record_id"]: r for r in _rows(day)}
    assert again[record_id(secret, consented["id"])]["status"] == "business_responded"


def test_export_writes_csv_and_jsonl_to_s3_and_the_listing_links_them(world, capsys):
    from chalicelib.services.analytics import local_day
    from tools.admin import main

    code = _outlet(world.demo, "grocery")["code"]
    _complain(world, code, TEXT, publish_consent=True)
    _complain(world, code, PLAIN)
    world.react()
    day = local_day(world.c.clock.now()).isoformat()
    # WHEN an administrator exports the day by hand
    assert main(["export-open-data", "--date", day]) == 0
    assert "exported 2 complaint(s)" in capsys.readouterr().out
    # THEN both files are in the bucket, with the documented columns
    year = day[:4]
    body = world.s3.get_object(Bucket=BUCKET, Key=f"complaints/{year}/complaints-{day}.csv")["Body"].read().decode()
    table = list(csv.DictReader(io.StringIO(body)))
    from chalicelib.services.open_data import COLUMNS

    assert list(table[0]) == list(COLUMNS) and len(table) == 2
    assert sorted(r["text"] == "" for r in table) == [False, True]
    assert {r["date"] for r in table} == {day} and {r["sector"] for r in table} == {"grocery"}
    lines = world.s3.get_object(Bucket=BUCKET, Key=f"complaints/{year}/complaints-{day}.jsonl")["Body"].read()
    parsed = [json.loads(line) for line in lines.decode().splitlines()]
    assert [p["record_id"] for p in parsed] == [r["record_id"] for r in table]
    assert all(p["business_answered"] is False and p["business_answer_hours"] is None for p in parsed)
    # AND the listing names them with their size and digest, and a file link redirects to the bucket
    listing = json.loads(world.get("/open-data/").body)
    assert listing["available"] is True and listing["licence"]["name"] == "CC BY 4.0"
    names = {f["name"]: f for f in listing["files"]}
    assert set(names) == {f"complaints-{day}.csv", f"complaints-{day}.jsonl"}
    assert names[f"complaints-{day}.csv"]["rows"] == 2 and names[f"complaints-{day}.csv"]["bytes"] == len(body.encode())
    link = world.get(f"/open-data/complaints-{day}.csv")
    assert link.status_code == 302 and BUCKET in link.headers["Location"]
    assert f"complaints-{day}.csv" in link.headers["Location"] and "Signature" in link.headers["Location"]
    assert world.get("/open-data/complaints-1999-01-01.csv").status_code == 404


def _nightly(w):
    event = w.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={},
        resources=["arn:aws:events:eu-central-1:123456789012:rule/open_data_export"])
    return w.client.lambda_.invoke("open_data_export", event).payload


def test_the_scheduled_job_exports_yesterday_and_the_refresh_window(world):
    from chalicelib.services.analytics import local_day

    result = _nightly(world)
    assert result == {"days": 3, "rows": 0}
    yesterday = local_day(world.c.clock.now()) - timedelta(days=1)
    names = {f["name"] for f in json.loads(world.get("/open-data/").body)["files"]}
    wanted = {f"complaints-{(yesterday - timedelta(days=n)).isoformat()}.{fmt}" for n in range(3)
              for fmt in ("csv", "jsonl")}
    assert names == wanted
    # an empty day is still a file: a header and no rows says "nothing was filed", not "not exported"
    key = f"complaints/{yesterday.year}/complaints-{yesterday.isoformat()}.csv"
    assert world.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().startswith("record_id,date,")


def test_the_listing_pages_newest_first(world):
    _nightly(world)
    first = json.loads(world.get("/open-data/?limit=4").body)
    rest = json.loads(world.get(f"/open-data/?limit=4&cursor={first['next_cursor']}").body)
    names = [f["name"] for f in first["files"] + rest["files"]]
    assert len(names) == 6 and names == sorted(names, reverse=True) and rest["next_cursor"] is None


def test_the_cli_refuses_a_bad_date(world, capsys):
    from tools.admin import main

    with pytest.raises(SystemExit) as exit_:
        main(["export-open-data", "--date", "2026-02-30"])
    assert exit_.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err
