"""The open data's rows and files (chalicelib/services/open_data.py) and the sector counters of the public pages
(chalicelib/services/transparency.py), on in-memory fakes."""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.complaint import (
    GiveFeedback, MarkOverdue, Reject, Resolve, Respond, TakeInReview, file_complaint, transition,
)
from chalicelib.domain.model import Actor
from chalicelib.domain.routing import RoutingDecision
from chalicelib.services import open_data, transparency
from tests.fakes import FakeCounters

UTC = timezone.utc
RULES = load_deadline_rules()
SUBMITTED = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)  # 01:30 on the 24th in Astana: the local day counts
BUSINESS = Actor("business", "940140000385", "k0000000000b1")
AGENCY = Actor("agency", "kzpp", "k0000000000a1")
CONSUMER = Actor("consumer")
SECRET = "unit-test-stage-secret-of-32-characters"
TEXT = "Кассир Айгүл обсчитала на 2 000 тенге, мой телефон +7 701 123 45 67, ИИН 880101300123."


def _new(*, consent: bool = False, text: str = TEXT):
    routing = RoutingDecision(agency_id="kzpp", method="category", confidence=1.0, version="r1+c1",
                              explanation="category overcharge", matched=())
    complaint, _ = file_complaint(
        complaint_id="C" + "7" * 11, now=SUBMITTED, rules=RULES, routing=routing, identified=True,
        channel="qr", language="ru", text_language="ru", text=text, category="overcharge", sector="grocery",
        region="71", business_bin="850315300009", business_name="ИП Серіков А.", business_registered=True,
        outlet_code="T4ZAMRK1", outlet_name="Такси 777 ABC 01", outlet_address="Астана", contact_ref="ct_ref",
        share_contact_with_business=True, incident_at=None, publish_consent=consent)
    return replace(complaint, version=1)


def _do(complaint, command, actor, *, hours: float = 1):
    now = complaint.updated_at + timedelta(hours=hours)
    changed, _ = transition(complaint, command, actor=actor, now=now, rules=RULES,
                            agencies=frozenset({"kzpp", "ktrm"}))
    return replace(changed, version=complaint.version + 1)


ROUTED = _new()
ANSWERED = _do(ROUTED, Respond("Вернём деньги", "refund"), BUSINESS, hours=5)
SETTLED = _do(ANSWERED, GiveFeedback(True, 5), CONSUMER)
REVIEWED = _do(ROUTED, TakeInReview(), AGENCY)
UPHELD = _do(REVIEWED, Resolve("violation_confirmed", "Выдано предписание."), AGENCY, hours=47)
REFUSED = _do(ROUTED, Reject("Не относится к защите прав потребителей."), AGENCY)


# --- the row -----------------------------------------------------------------------------------------------
def test_a_row_holds_codes_and_numbers_and_no_text_without_consent():
    row = open_data.row(ROUTED, SECRET)
    assert set(row) == set(open_data.COLUMNS)
    assert row["date"] == "2026-11-24"  # Kazakhstan's day, not UTC's
    assert (row["region"], row["sector"], row["category"], row["agency"]) == ("71", "grocery", "overcharge", "kzpp")
    assert row["outcome"] == "open" and row["status"] == "routed"
    assert row["business_answered"] is False and row["business_answered_in_time"] is None
    assert row["text"] is None and row["text_language"] is None
    dumped = json.dumps(row, ensure_ascii=False)
    for private in (ROUTED.id, "850315300009", "Серіков", "T4ZAMRK1", "ct_ref", "777 ABC"):
        assert private not in dumped


def test_with_consent_the_text_goes_out_scrubbed():
    row = open_data.row(_new(consent=True), SECRET)
    assert row["text_language"] == "ru"
    assert "2 000 тенге" in row["text"] and "[phone]" in row["text"] and "[iin]" in row["text"]
    for private in ("Айгүл", "701", "880101300123"):
        assert private not in row["text"]


@pytest.mark.parametrize("state,outcome,answered,in_time,decided", [
    (ANSWERED, "open", True, True, False),
    (SETTLED, "settled", True, True, False),
    (UPHELD, "violation_confirmed", False, None, True),
    (REFUSED, "rejected", False, None, True),
])
def test_outcome_and_response_times(state, outcome, answered, in_time, decided):
    row = open_data.row(state, SECRET)
    assert row["outcome"] == outcome and row["business_answered"] is answered
    assert row["business_answered_in_time"] is in_time and row["agency_decided"] is decided
    if answered:
        assert row["business_answer_hours"] == 5.0
    if state is UPHELD:
        assert row["agency_decision_hours"] == 48.0


def test_an_unanswered_complaint_past_its_term_is_answered_late():
    late = _do(ROUTED, MarkOverdue(ROUTED.business_due_at + timedelta(minutes=1)), Actor("system"), hours=24 * 11)
    row = open_data.row(late, SECRET)
    assert row["business_overdue"] is True and row["business_answered_in_time"] is False


def test_the_record_id_is_stable_and_not_the_complaint_id():
    one = open_data.record_id(SECRET, ROUTED.id)
    assert one == open_data.record_id(SECRET, ROUTED.id) != open_data.record_id(SECRET, "C" + "8" * 11)
    assert ROUTED.id not in one and len(one) == 16


def test_the_record_id_cannot_be_computed_from_the_complaint_id_without_the_secret():
    """Open311 lists every complaint id with its outlet and time: a digest anyone can recompute would link a
    published row (and its text) back to the outlet."""
    one = open_data.record_id(SECRET, ROUTED.id)
    for unkeyed in (hashlib.sha256(ROUTED.id.encode()).hexdigest(),
                    hashlib.sha256(f"qalqan-open-data\x00{ROUTED.id}".encode()).hexdigest()):
        assert one != unkeyed[:16]
    assert one != open_data.record_id("another-stage-secret-of-32-characters!", ROUTED.id)
    assert open_data.row(ROUTED, SECRET)["record_id"] == one


# --- the files ---------------------------------------------------------------------------------------------
def test_csv_and_jsonl_carry_the_same_rows_in_the_documented_columns():
    said = _new(consent=True, text="Сказали: «чек не нужен»,\nи выгнали. Звоните 8 777 000 11 22")
    rows = [open_data.row(said, SECRET), open_data.row(UPHELD, SECRET)]
    table = list(csv.reader(io.StringIO(open_data.render(rows, "csv").decode("utf-8"))))
    assert table[0] == list(open_data.COLUMNS) and len(table) == 3
    first = dict(zip(table[0], table[1]))
    assert first["text"].startswith("Сказали: «чек не нужен»,\nи выгнали.")  # quoted, newline kept
    assert first["business_answered"] == "false" and first["business_answer_hours"] == ""
    lines = open_data.render(rows, "jsonl").decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == rows
    assert json.loads(lines[1])["agency_decision_hours"] == 48.0


def test_an_empty_day_is_a_header_only_csv_and_an_empty_jsonl():
    assert open_data.render([], "csv").decode() == ",".join(open_data.COLUMNS) + "\r\n"
    assert open_data.render([], "jsonl") == b""


def test_the_nightly_run_covers_yesterday_and_the_refresh_window_in_kazakhstan_time():
    now = datetime(2026, 11, 30, 20, 30, tzinfo=UTC)  # 01:30 on 1 December in Astana
    days = open_data.days_to_export(now, 3, RULES.tz)
    assert days == [date(2026, 11, 30), date(2026, 11, 29), date(2026, 11, 28)]


@pytest.mark.parametrize("name", ["complaints-2026-11-30.csv", "complaints-2026-11-30.jsonl"])
def test_file_names_map_to_keys_under_their_year(name):
    assert open_data.FILE_NAME.match(name)
    assert open_data.object_key(name) == f"complaints/2026/{name}"


@pytest.mark.parametrize("name", ["complaints-2026-11-30.xlsx", "../complaints-2026-11-30.csv",
                                  "complaints-2026-11-30.csv/x", "COMPLAINTS-2026-11-30.csv"])
def test_other_names_are_not_files(name):
    assert not open_data.FILE_NAME.match(name)


# --- the sector counters -----------------------------------------------------------------------------------
def test_sector_counters_add_up_to_the_latest_state_in_any_order():
    states = [None, ROUTED, ANSWERED, SETTLED]
    changes = [(f"e{i}|sector_ratings", a, b) for i, (a, b) in enumerate(zip(states, states[1:]))]
    results = []
    for order in itertools.permutations(changes):
        counters = FakeCounters()
        for marker, before, after in order:
            counters.apply_once(marker, transparency.sector_increments(before, after), at=SUBMITTED)
        # a redelivered record moves nothing
        marker, before, after = order[0]
        assert counters.apply_once(marker, transparency.sector_increments(before, after), at=SUBMITTED) is False
        results.append(counters.tables["ratings"][("sector#grocery",)])
    expected = {"complaints": 1, "answer_due": 1, "answered_in_time": 1, "stars_sum": 5, "stars_n": 1,
                "closed": 1, "settled": 1, "kind": "sector", "sector": "grocery"}
    assert all({k: v for k, v in r.items() if v} == expected for r in results)


def test_the_sector_average_withholds_its_shares_below_the_minimum_count():
    from chalicelib.domain.catalog import load_catalog

    few = transparency.sector_average("grocery", {"complaints": 9, "answer_due": 9, "answered_in_time": 9},
                                      load_catalog())
    assert few["published"] is False and few["answered_in_time"] == {"share": None, "count": 9}
    many = transparency.sector_average("grocery", {"complaints": 10, "answer_due": 8, "answered_in_time": 6,
                                                   "closed": 4, "settled": 1}, load_catalog())
    assert many["published"] is True and many["answered_in_time"] == {"share": 0.75, "count": 8}
    assert many["settled"] == {"share": 0.25, "count": 4} and many["sector"]["name"]["kk"]


# --- CSV injection (OWASP) -----------------------------------------------------------------------------------
FORMULA_LIKE = ["=HYPERLINK(\"http://x\",\"y\")", "+7 701 000", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]


def scrubbed(text):
    return open_data.scrub(text).text


PLAIN = ["Сказали: «чек не нужен»", "-3.5", "+12", "42", "", "a=b", " =1"]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_a_text_starting_like_a_formula_is_written_as_text_in_the_csv(text):
    consented = replace(_new(consent=True), text=text)
    cells = list(csv.reader(io.StringIO(open_data.render([open_data.row(consented, SECRET)], "csv").decode())))
    text_cell = dict(zip(cells[0], cells[1]))["text"]
    assert text_cell == "'" + scrubbed(text)
    # JSON Lines is read by programs, not spreadsheets: the value as it is
    assert json.loads(open_data.render([open_data.row(consented, SECRET)], "jsonl"))["text"] == scrubbed(text)


@pytest.mark.parametrize("text", PLAIN)
def test_numbers_and_ordinary_text_are_left_alone(text):
    assert open_data.csv_cell(text) == text


def test_the_consoles_csv_applies_the_same_rule():
    """web/analytics.js's csvCell (the console's CSV download) against the Python rule, run by node."""
    import re
    import shutil
    import subprocess
    from pathlib import Path

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    source = (Path(__file__).parents[2] / "web" / "analytics.js").read_text(encoding="utf-8")
    function = re.search(r"  function csvCell\(v\) \{\n.*?\n  \}\n", source, re.S).group(0)
    cases = FORMULA_LIKE + PLAIN
    script = function + f"process.stdout.write(JSON.stringify({json.dumps(cases)}.map(csvCell)));"
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out) == [open_data.csv_cell(case) for case in cases]
