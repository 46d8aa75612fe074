"""One contract, two implementations: the in-memory fakes and pynamodb on moto must behave alike."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.domain.errors import AlreadyExists
from chalicelib.domain.model import Business, Outlet
from tests.fakes import FakeBusinesses, FakeOutlets

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)


def _outlet(code, bin="940140000385", status="active"):
    return Outlet(code=code, business_bin=bin, business_name="ТОО «Таза»", name=f"Shop {code}", address="Астана",
                  region="71", sector="grocery", created_at=NOW, status=status, external_ref=code.lower())


@pytest.fixture(params=["fake", "dynamodb"])
def repos(request):
    if request.param == "fake":
        yield FakeBusinesses(), FakeOutlets()
    else:
        request.getfixturevalue("aws")
        from chalicelib.adapters.repositories import DynamoBusinesses, DynamoOutlets

        yield DynamoBusinesses(), DynamoOutlets()


def test_added_business_reads_back_equal_and_cannot_be_added_twice(repos):
    businesses, _ = repos
    business = Business(bin="940140000385", kind="bin", name="ТОО «Таза»", region="71", created_at=NOW)
    businesses.add(business)
    assert businesses.get("940140000385") == business
    with pytest.raises(AlreadyExists):
        businesses.add(replace(business, name="other"))
    assert businesses.get("940140000385").name == "ТОО «Таза»"
    assert businesses.get("950341000052") is None


def test_outlets_read_back_and_list_by_business_in_pages(repos):
    _, outlets = repos
    codes = ["0000000A", "1111111B", "2222222C", "3333333D", "4444444E"]
    for code in codes:
        outlets.add(_outlet(code))
    outlets.add(_outlet("5555555F", bin="950341000052"))
    assert outlets.get("2222222C") == _outlet("2222222C")
    with pytest.raises(AlreadyExists):
        outlets.add(_outlet("2222222C"))
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = outlets.list_by_business("940140000385", limit=2, cursor=cursor)
        seen += [o.code for o in page]
        pages += 1
        if not cursor:
            break
    assert sorted(seen) == codes and pages == 3
    with pytest.raises(ValueError):
        outlets.list_by_business("940140000385", cursor="not-a-cursor")


def test_set_status_changes_an_existing_outlet_only(repos):
    _, outlets = repos
    outlets.add(_outlet("0000000A"))
    suspended = outlets.set_status("0000000A", "suspended")
    assert suspended == replace(_outlet("0000000A"), status="suspended")
    assert outlets.get("0000000A").status == "suspended" and not outlets.get("0000000A").active
    assert outlets.set_status("1111111B", "suspended") is None
    assert outlets.get("1111111B") is None
