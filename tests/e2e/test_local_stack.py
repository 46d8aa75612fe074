"""End to end over HTTP against `python -m local`: the five steps a person takes."""
import concurrent.futures
import io
import signal
import time

import pytest

from tests.e2e.conftest import start_stack


def test_ready_line_and_demo_file(stack):
    demo = stack.demo
    assert demo["api"] == stack.base and demo["web"] == stack.base + "/"
    assert len(demo["outlets"]) >= 8 and demo["keys"]["admin"]
    assert {o["region"] for o in demo["outlets"]} == {"71", "75"}
    assert {"grocery", "electronics", "pharmacy", "food_service", "taxi"} <= {o["sector"] for o in demo["outlets"]}
    assert len({o["business_bin"] for o in demo["outlets"]}) >= 3


def test_admin_registers_a_business_and_outlet_and_prints_its_sticker(stack):
    import zxingcpp
    from PIL import Image

    auth = {"Authorization": f"Bearer {stack.demo['keys']['admin']}"}
    status, business = stack.json("POST", "/admin/businesses",
                                  {"bin": "850315301801", "name": "ИП Ахметова", "region": "75"}, auth)
    assert status == 201, business
    status, outlet = stack.json("POST", "/admin/outlets", {
        "business_bin": "850315301801", "name": "Киоск «Нұр»", "address": "Алматы, Абылай хана 1",
        "region": "75", "sector": "grocery"}, auth)
    assert status == 201, outlet
    status, headers, png = stack.request("GET", f"/admin/outlets/{outlet['code']}/sticker.png",
                                         headers={**auth, "Accept": "image/png"})
    assert status == 200 and headers["Content-Type"] == "image/png"
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == [f"{stack.base}/q/{outlet['code']}"]


def test_consumer_scans_complains_and_tracks(stack):
    outlet = stack.demo["outlets"][0]
    # 1. the QR opens the resolver, which sends the consumer to the form with the outlet filled in
    status, headers, _ = stack.request("GET", f"/q/{outlet['code']}")
    assert status == 302
    location = headers["Location"]
    assert location == f"{stack.base}/?o={outlet['code']}&ch=qr"
    # 2. the form page and its assets load, and the outlet card is there for it
    status, headers, page = stack.request("GET", location[len(stack.base):])
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<form" in page
    status, card = stack.json("GET", f"/outlets/{outlet['code']}")
    assert status == 200 and card["name"] == outlet["name"]
    # 3. the preview tells where it will go while the consumer types
    text = "Кассир пробил товар дважды, на кассе обсчитали на 2000 тенге, деньги вернуть отказались."
    status, preview = stack.json("POST", "/routing/preview", {"text": text, "outlet_code": outlet["code"]})
    assert status == 200 and preview["agency"]["id"] == "kzpp"
    # 4. the consumer submits and gets the agency and a tracking link at once
    status, created = stack.json("POST", "/complaints", {
        "outlet_code": outlet["code"], "text": text, "language": "kk", "channel": "qr",
        "contact": {"phone": "+7 701 123 45 67"}, "share_contact_with_business": False,
    }, {"Idempotency-Key": "e2e-1"})
    assert status == 201 and created["agency"]["id"] == "kzpp"
    assert created["status_url"].startswith(f"{stack.base}/track.html#id={created['id']}&token=")
    # 5. the tracking page and the status API show status, agency and timeline
    status, headers, track = stack.request("GET", "/track.html")
    assert status == 200 and b"track.js" in track
    status, view = stack.json("GET", f"/complaints/{created['id']}?token={created['tracking_token']}")
    assert status == 200 and view["status"] == "routed" and view["agency"]["id"] == "kzpp"
    assert [e["type"] for e in view["timeline"]] == ["submitted", "routed"]


def test_bad_code_gets_the_helpful_page(stack):
    code = stack.demo["outlets"][0]["code"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    status, headers, page = stack.request("GET", f"/q/{typo}")
    assert status == 400 and headers["Content-Type"].startswith("text/html") and b'name="code"' in page


def test_server_handles_requests_concurrently(stack):
    # GIVEN a client that opened a connection and is slow to send its request
    import socket

    host, port = stack.base.removeprefix("http://").split(":")
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # headers not finished
    try:
        # WHEN others make requests meanwhile THEN they are served, and in parallel
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            started = time.monotonic()
            results = list(pool.map(lambda _: stack.request("GET", "/catalog")[0], range(16)))
        assert results == [200] * 16
        assert time.monotonic() - started < 10
    finally:
        slow.close()


def test_sigterm_stops_cleanly(tmp_path):
    s, _ = start_stack(tmp_path)
    s.process.send_signal(signal.SIGTERM)
    assert s.process.wait(timeout=20) == 0
    deadline = time.monotonic() + 5  # the drain thread reads the last lines after the exit
    while "stopping\n" not in s.log and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "stopping\n" in s.log
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", int(s.base.rsplit(":", 1)[1])), timeout=1)


def test_the_form_page_weighs_under_60_kb_over_the_wire(stack):
    # GIVEN a phone that accepts gzip, as every mobile browser does
    import re

    def fetch(path):
        status, headers, body = stack.request("GET", path, headers={"Accept-Encoding": "gzip"})
        assert status == 200, path
        return headers, body

    code = stack.demo["outlets"][0]["code"]
    headers, page = fetch(f"/?o={code}&ch=qr")
    assert headers.get("Content-Encoding") == "gzip"
    import gzip

    html = gzip.decompress(page).decode()
    assets = re.findall(r'(?:src|href)="([^"#:]+\.(?:js|css))"', html)
    assert len(assets) >= 3
    # WHEN the page, its assets and the API calls it makes on load are fetched
    total = len(page) + sum(len(fetch("/" + a.lstrip("./"))[1]) for a in assets)
    total += len(fetch("/catalog")[1]) + len(fetch(f"/outlets/{code}")[1])
    # THEN all of it together stays under 60 KB
    assert total < 60 * 1024, total


def test_head_sends_no_body_and_odd_paths_get_a_404(stack):
    import http.client

    host, port = stack.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("HEAD", "/")
    response = conn.getresponse()
    assert response.status == 200 and int(response.getheader("Content-Length")) > 0 and response.read() == b""
    for path in ("/" + "a" * 300 + ".js", "/%00.js", "/../.local/demo.json", "/..%2f..%2fapp.py"):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert response.status in (403, 404), path
    conn.close()
