"""Admin API: keys, businesses, outlets, stickers."""
import io
import json

import pytest

BIN = "940140000385"


def _post(api, path, body, headers):
    return api.client.http.post(path, body=json.dumps(body), headers=headers)


def test_admin_routes_need_a_valid_admin_key(api, demo):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = api.client.http.get(f"/admin/businesses/{BIN}", headers=headers)
        assert response.status_code == 401
        assert response.json_body["error"]["code"] == "unauthorized"


def test_keys_are_stored_hashed(demo):
    from chalicelib.adapters.tables import ApiKeyTable

    items = list(ApiKeyTable.scan())
    every_key = [demo["keys"]["admin"], demo["keys"]["analyst"], *demo["keys"]["agencies"].values(),
                 *demo["keys"]["businesses"].values()]
    stored = " ".join(str(item.attribute_values) for item in items)
    assert len(items) == len(every_key) and all(len(item.key_hash) == 64 for item in items)
    assert not any(key in stored or key.split(".")[1] in stored for key in every_key)


def test_a_non_admin_key_is_forbidden(api, services):
    from chalicelib.services.auth import issue_key

    key = issue_key(role="agency", agency_id="kzpp", label="kzpp", keys=services.keys, clock=services.clock).key
    response = api.client.http.get(f"/admin/businesses/{BIN}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403


def test_register_business_validates_and_is_repeatable(api, admin_headers):
    body = {"bin": "070941024691", "name": "ТОО «Жаңа»", "region": "75"}
    # the demo already holds 070941024691 under another name
    assert _post(api, "/admin/businesses", body, admin_headers).status_code == 409
    new = {"bin": "850315300009", "name": "ИП Серіков А.", "region": "71"}
    assert _post(api, "/admin/businesses", new, admin_headers).status_code == 200  # same data: a no-op
    bad = _post(api, "/admin/businesses", {"bin": "123456789012", "name": "X", "region": "00"}, admin_headers)
    assert bad.status_code == 422
    assert {"bin", "name", "region"} <= set(bad.json_body["error"]["fields"])


def test_register_outlet_gives_a_sticker_code(api, admin_headers):
    from chalicelib.domain.codes import parse_outlet_code

    body = {"business_bin": BIN, "name": "Таза Маркет — Есіл", "address": "Астана, Сығанақ 10",
            "region": "71", "sector": "grocery", "external_ref": "tm-003"}
    response = _post(api, "/admin/outlets", body, {**admin_headers, "Idempotency-Key": f"{BIN}:tm-003"})
    assert response.status_code == 201
    outlet = response.json_body
    assert parse_outlet_code(outlet["code"]) == outlet["code"]
    assert outlet["qr_url"] == f"http://127.0.0.1:8000/q/{outlet['code']}"
    again = _post(api, "/admin/outlets", body, {**admin_headers, "Idempotency-Key": f"{BIN}:tm-003"})
    assert again.status_code == 200 and again.json_body["code"] == outlet["code"]
    assert api.client.http.get(f"/outlets/{outlet['code']}").json_body["name"] == "Таза Маркет — Есіл"


def test_register_outlet_for_an_unknown_business_fails(api, admin_headers):
    body = {"business_bin": "961141000023", "name": "X shop", "address": "Somewhere 1", "region": "71",
            "sector": "grocery"}
    from chalicelib.adapters.tables import BusinessTable

    BusinessTable.get("961141000023").delete()
    response = _post(api, "/admin/outlets", body, admin_headers)
    assert response.status_code == 404
    assert "business_bin" in response.json_body["error"]["fields"]


def test_list_outlets_of_a_business_pages_with_a_cursor(api, admin_headers, demo):
    expected = sorted(o["code"] for o in demo["outlets"] if o["business_bin"] == BIN)
    first = api.client.http.get(f"/admin/businesses/{BIN}/outlets?limit=2", headers=admin_headers).json_body
    assert len(first["outlets"]) == 2 and first["next_cursor"]
    rest = api.client.http.get(f"/admin/businesses/{BIN}/outlets?limit=2&cursor={first['next_cursor']}",
                               headers=admin_headers).json_body
    assert sorted(o["code"] for o in first["outlets"] + rest["outlets"]) == expected
    import base64

    forged = [base64.urlsafe_b64encode(json.dumps(k).encode()).decode()
              for k in ({"x": 1}, {"code": {"S": "A"}}, {"code": {"N": "1"}, "business_bin": {"S": BIN}}, [1])]
    for cursor in ["zzz", *forged]:
        bad = api.client.http.get(f"/admin/businesses/{BIN}/outlets?cursor={cursor}", headers=admin_headers)
        assert bad.status_code == 400 and bad.json_body["error"]["code"] == "invalid_cursor", cursor


@pytest.mark.parametrize("kind", ["png", "pdf"])
def test_sticker_downloads(api, admin_headers, demo, kind):
    code = demo["outlets"][0]["code"]
    response = api.client.http.get(f"/admin/outlets/{code}/sticker.{kind}",
                                   headers={**admin_headers, "Accept": "image/png,application/pdf"})
    assert response.status_code == 200
    if kind == "png":
        import zxingcpp
        from PIL import Image

        decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(response.body)))]
        assert decoded == [f"http://127.0.0.1:8000/q/{code}"]
    else:
        assert response.body.startswith(b"%PDF")


def test_chain_stickers_pdf(api, admin_headers, demo):
    response = api.client.http.get(f"/admin/businesses/{BIN}/stickers.pdf",
                                   headers={**admin_headers, "Accept": "application/pdf"})
    assert response.status_code == 200 and response.body.startswith(b"%PDF")
    assert response.body.count(b"/Type /Page\n") + response.body.count(b"/Type /Page ") >= 1


def test_suspending_an_outlet_hides_it_and_its_sticker_leads_to_the_help_page(api, admin_headers, demo, client):
    from local.server import function_url_event

    code = demo["outlets"][0]["code"]
    patch = lambda body: api.client.http.patch(f"/admin/outlets/{code}", body=json.dumps(body),  # noqa: E731
                                               headers=admin_headers)
    response = patch({"status": "suspended"})
    assert response.status_code == 200 and response.json_body["status"] == "suspended"
    assert api.client.http.get(f"/outlets/{code}").status_code == 404
    resolved = client.lambda_.invoke("qr_resolver", function_url_event("GET", f"/q/{code}", "", {})).payload
    assert resolved["statusCode"] == 404
    complaint = api.client.http.post("/complaints", body=json.dumps(
        {"outlet_code": code, "text": "Проверка приостановленной точки продаж."}),
        headers={"Content-Type": "application/json"})
    assert complaint.status_code == 422 and "outlet_code" in complaint.json_body["error"]["fields"]
    assert patch({"status": "active"}).json_body["status"] == "active"
    assert api.client.http.get(f"/outlets/{code}").status_code == 200
    bad = patch({"status": "closed", "name": "x"})
    assert bad.status_code == 422 and {"status", "name"} <= set(bad.json_body["error"]["fields"])


def test_a_bin_that_bends_the_structure_is_registered_with_a_warning(api, admin_headers):
    from chalicelib.domain.identifiers import checksum_ok

    # month 13 in a BIN: the checksum decides validity, the structure is only reported
    number = next(f"9413400{n:04d}{d}" for n in range(10000) for d in "0123456789" if checksum_ok(f"9413400{n:04d}{d}"))
    response = _post(api, "/admin/businesses", {"bin": number, "name": "ТОО «Странный»", "region": "71"}, admin_headers)
    assert response.status_code == 201
    assert response.json_body["warnings"] == ["registration month out of range"]
    ok = _post(api, "/admin/businesses", {"bin": "961141000023", "name": "ТОО «Дәрумен Фарм»", "region": "71"},
               admin_headers)
    assert ok.json_body["warnings"] == []


@pytest.mark.parametrize("expires_at", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-05:00", "2019-12-31T00:00:00Z"])
def test_a_key_expiry_outside_2020_to_2100_is_a_field_error_not_a_500(api, admin_headers, expires_at):
    response = _post(api, "/admin/keys", {"role": "analyst", "label": "x", "expires_at": expires_at}, admin_headers)
    assert response.status_code == 422
    assert response.json_body["error"]["fields"]["expires_at"]["code"] == "out_of_range"


def test_agency_and_business_rooms_answer_the_web_origin_for_cors(client, demo):
    """The consoles may be served from WEB_BASE_URL while the API has its own domain."""
    agency = client.http.get("/agency/complaints", headers={"Authorization": f"Bearer {demo['keys']['agencies']['kzpp']}"})
    business = client.http.get("/business/complaints",
                               headers={"Authorization": f"Bearer {next(iter(demo['keys']['businesses'].values()))}"})
    for response in (agency, business):
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
