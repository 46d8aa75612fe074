"""What printing stickers costs: `python -m bench.stickers`.

Prints, from one run: the bare QR (qrcode's make and matrix, no drawing) per code; one sticker as PNG and as
PDF; a 1,000-outlet sheets PDF with its time, pages, size and the process's peak RSS; and how many bare QRs
one sticker costs.
"""
from __future__ import annotations

import random
import resource
import sys
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE_URL = "https://qalqan.kz/q"
QR_CODES = 200
SINGLE_STICKERS = 20
SHEET_OUTLETS = 1000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _outlets(n: int, seed: int = 7):
    from chalicelib.stickers import StickerInfo

    rng = random.Random(seed)
    kinds = ["Дүкен", "Дәмхана", "Такси", "Аптека", "Magnum Cash&Carry", "Кофейня «Ғажайып»"]
    streets = ["Абай даңғылы", "Кабанбай батыра", "Төле би көшесі", "Сәтбаев көшесі", "Республика даңғ."]
    for i in range(n):
        code = "".join(rng.choice(CROCKFORD) for _ in range(8))
        name = f"{rng.choice(kinds)} № {i + 1} — {rng.choice(streets)} {rng.randint(1, 250)}"
        yield StickerInfo(code, name, f"ЖШС «Өңірлік Сауда {rng.randint(1, 99)}»")


def main() -> None:
    rss_at_start = _peak_rss_mb()
    started = time.perf_counter()
    from chalicelib import stickers  # Pillow and qrcode come with it

    import_ms = (time.perf_counter() - started) * 1000
    print(f"import chalicelib.stickers (Pillow, qrcode): {import_ms:.0f} ms")

    urls = [stickers.qr_url(info.code, BASE_URL) for info in _outlets(QR_CODES, seed=1)]
    stickers.qr_matrix(urls[0]).get_matrix()  # warm up
    started = time.perf_counter()
    for url in urls:
        stickers.qr_matrix(url).get_matrix()
    bare_ms = (time.perf_counter() - started) * 1000 / len(urls)
    version = stickers.qr_matrix(urls[0]).version
    print(f"bare QR (make + matrix, EC Q, version {version}): {bare_ms:.2f} ms/code, avg of {QR_CODES}")

    infos = list(_outlets(SINGLE_STICKERS, seed=2))
    stickers.render_sticker_png(infos[0], qr_base_url=BASE_URL)  # warm up fonts and the template
    started = time.perf_counter()
    png_sizes = [len(stickers.render_sticker_png(info, qr_base_url=BASE_URL)) for info in infos]
    png_ms = (time.perf_counter() - started) * 1000 / len(infos)
    started = time.perf_counter()
    pdf_sizes = [len(stickers.render_sticker_pdf(info, qr_base_url=BASE_URL)) for info in infos]
    pdf_ms = (time.perf_counter() - started) * 1000 / len(infos)
    print(f"sticker PNG: {png_ms:.1f} ms, {sum(png_sizes) / len(png_sizes) / 1024:.0f} KB, avg of {len(infos)}")
    print(f"sticker PDF: {pdf_ms:.1f} ms, {sum(pdf_sizes) / len(pdf_sizes) / 1024:.0f} KB, avg of {len(infos)}")

    rss_before_sheets = _peak_rss_mb()
    started = time.perf_counter()
    pdf = stickers.render_sheets_pdf(_outlets(SHEET_OUTLETS, seed=3), qr_base_url=BASE_URL)
    sheets_s = time.perf_counter() - started
    pages = pdf.count(b"/Type /Page ")
    print(
        f"sheets PDF, {SHEET_OUTLETS} outlets: {sheets_s:.1f} s ({sheets_s * 1000 / SHEET_OUTLETS:.1f} ms/sticker), "
        f"{pages} A4 pages, {len(pdf) / 1e6:.2f} MB ({len(pdf) / pages / 1024:.0f} KB/page)"
    )
    print(
        f"peak RSS: {_peak_rss_mb():.0f} MB (at start {rss_at_start:.0f} MB, "
        f"before the sheets {rss_before_sheets:.0f} MB)"
    )
    print(
        f"ratios to a bare QR: sticker PNG {png_ms / bare_ms:.1f}x, sticker PDF {pdf_ms / bare_ms:.1f}x, "
        f"sticker on a sheet {sheets_s * 1000 / SHEET_OUTLETS / bare_ms:.1f}x"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
