"""Catalogue, health and outlet cards."""

AGENCY_IDS = ["kzpp", "ktrm", "kgd", "ksek", "police", "azrk", "arrfr", "transport", "akimat", "mindigital", "kmfk", "krem"]


def test_health(api):
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json_body["status"] == "ok"


def test_catalog_lists_agencies_categories_regions_sectors_in_three_languages(api):
    body = api.get("/catalog").json_body
    assert [a["id"] for a in body["agencies"]] == AGENCY_IDS
    assert any(c["id"] == "other" and c["default_agency"] is None for c in body["categories"])
    for group in ("agencies", "categories", "sectors", "regions"):
        assert body[group], group
        for item in body[group]:
            assert all(item["name"][lang] for lang in ("kk", "ru", "en")), item
    assert {"71", "75", "79"} <= {r["code"] for r in body["regions"]}


def test_outlet_card_shows_public_data_and_no_identifiers(api, demo):
    outlet = next(o for o in demo["outlets"] if o["sector"] == "taxi")  # a sole proprietor: BIN is an IIN
    response = api.get(f"/outlets/{outlet['code']}")
    assert response.status_code == 200
    card = response.json_body
    assert card["name"] == outlet["name"] and card["business"]["name"] == outlet["business_name"]
    assert card["region"]["code"] == "71" and card["region"]["name"]["kk"] == "Астана қаласы"
    assert card["sector"]["id"] == "taxi" and card["display_code"] == f"{outlet['code'][:4]}-{outlet['code'][4:]}"
    assert outlet["business_bin"] not in response.body.decode()
    # the rating, in the shape of GET /ratings/outlets/{code}: nothing published for a new outlet
    rating = card["rating"]
    assert (rating["subject"], rating["code"], rating["formula_version"]) == ("outlet", outlet["code"], "r1")
    assert (rating["score"], rating["published"], rating["reason"], rating["count"]) == (None, False, "too_few", 0)


def test_outlet_card_shows_a_published_rating(api, demo, services):
    from chalicelib.services.ports import Increment

    code = demo["outlets"][0]["code"]
    # twelve complaints, all settled with the consumer's acceptance, as the stream reaction counts them
    services.counters.apply_once("test|ratings", [Increment("ratings", (f"outlet#{code}",), add={
        "complaints": 12, "closed": 12, "settled": 12, "answer_due": 12, "answered_in_time": 12})],
        at=services.clock.now())
    rating = api.get(f"/outlets/{code}").json_body["rating"]
    assert (rating["published"], rating["count"], rating["reason"]) == (True, 12, None)
    assert rating["components"]["settled"] == {"share": 1.0, "count": 12}
    assert rating["score"] == api.get(f"/ratings/outlets/{code}").json_body["score"] == 3.3


def test_outlet_card_accepts_what_people_type(api, demo):
    from urllib.parse import quote

    code = demo["outlets"][0]["code"]
    typed = f"{code[:4].lower()} - {code[4:].lower()}".replace("0", "o").replace("1", "l")
    assert api.get(f"/outlets/{typed}").json_body["code"] == code
    from tests.fakes import cyrillic_spelling

    code, cyrillic = cyrillic_spelling(demo)
    assert api.get(f"/outlets/{quote(cyrillic)}").json_body["code"] == code


def test_outlet_card_errors(api, demo, services):
    code = demo["outlets"][0]["code"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    bad = api.get(f"/outlets/{typo}")
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "invalid_outlet_code"
    assert bad.json_body["error"]["fields"]["code"]["code"] == "invalid_checksum"
    from chalicelib.domain.codes import new_outlet_code

    assert api.get(f"/outlets/{new_outlet_code()}").status_code == 404
    # a suspended outlet is not shown publicly
    from chalicelib.adapters.tables import OutletTable

    OutletTable.get(code).update(actions=[OutletTable.status.set("suspended")])
    suspended = api.get(f"/outlets/{code}")
    assert suspended.status_code == 404 and suspended.json_body["error"]["code"] == "outlet_not_found"


def test_unsupported_method_uses_the_error_shape(api):
    response = api.client.http.delete("/catalog")
    assert response.status_code == 405
    assert response.json_body["error"]["code"] == "method_not_allowed"


def test_cors_allows_the_web_origin_and_idempotency_header(api):
    response = api.get("/catalog", headers={"Origin": "http://127.0.0.1:8000"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]


def test_an_unsupported_content_type_uses_the_error_shape(api):
    response = api.client.http.post("/complaints", body=b"--x--", headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 415
    assert response.json_body["error"]["code"] == "unsupported_media_type"
