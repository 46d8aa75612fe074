"""The admin CLI against the running local stack: bulk CSV import with a progress bar, chain PDF."""
import csv
import subprocess
import sys

from tests.e2e.conftest import ROOT

HEADER = "business_bin,business_name,business_region,outlet_name,address,region,sector,external_ref\n"


def _cli(stack, *args):
    return subprocess.run(
        [sys.executable, "-m", "tools.admin", "--api", stack.base, "--key", stack.demo["keys"]["admin"], *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_bulk_import_registers_outlets_once_and_reports_bad_rows(stack, tmp_path):
    rows = [f"070941024691,ТОО «Дастархан»,75,Дастархан №{i},\"Алматы, Абай {i}\",75,food_service,дк-1{i:02d}\n"
            for i in range(10)]  # store numbers in Cyrillic: they must not break the HTTP headers
    bad = "123456789012,Bad BIN,75,Shop,\"Алматы\",75,grocery,x-1\n"
    source = tmp_path / "chain.csv"
    source.write_text(HEADER + "".join(rows) + bad, encoding="utf-8")
    out = tmp_path / "codes.csv"
    # WHEN the file is imported
    first = _cli(stack, "import-csv", str(source), "--out", str(out))
    # THEN the good rows get codes, the bad one is named with its line, and a progress bar ran
    assert first.returncode == 1, first.stderr
    assert "line 12: business_bin 123456789012 fails the BIN/IIN checksum" in first.stderr
    assert "outlets: 100%" in first.stderr and "10/10" in first.stderr
    result = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["status"] for r in result] == ["created"] * 10 + ["failed"]
    codes = [r["code"] for r in result[:10]]
    assert len(set(codes)) == 10 and all(r["qr_url"].endswith(r["code"]) for r in result[:10])
    # AND a second run changes nothing: same codes, reported as existing; it can print their stickers
    pdf = tmp_path / "imported.pdf"
    again = _cli(stack, "import-csv", str(source), "--out", str(out), "--stickers", str(pdf))
    assert "10 stickers on 3 A4 sheets" in again.stdout
    assert pdf.read_bytes().count(b"/Type /Page") - pdf.read_bytes().count(b"/Type /Pages") == 3
    result2 = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["code"] for r in result2[:10]] == codes
    assert [r["status"] for r in result2[:10]] == ["existing"] * 10, again.stderr


def test_chain_stickers_pdf_has_one_a4_sheet_per_four_outlets(stack, tmp_path):
    out = tmp_path / "chain.pdf"
    status, listing = stack.json("GET", "/admin/businesses/940140000385/outlets",
                                 headers={"Authorization": f"Bearer {stack.demo['keys']['admin']}"})
    active = len(listing["outlets"])
    result = _cli(stack, "stickers", "940140000385", "--out", str(out))
    assert result.returncode == 0, result.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert f"{active} stickers on {-(-active // 4)} A4 sheets" in result.stdout
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == -(-active // 4)
