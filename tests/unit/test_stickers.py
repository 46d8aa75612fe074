"""Printable QR stickers: what is printed scans back to the outlet, fits its frame, and prints at its size."""
from __future__ import annotations

import io
import re
import struct

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, PdfParser, features
from qrcode.constants import ERROR_CORRECT_Q

from chalicelib import stickers
from chalicelib.stickers import StickerInfo, qr_url

# Names come from the outlets table; these are realistic, and then absurd.
BASE = "https://qalqan.kz/q"
MAGNUM = StickerInfo("7K3M9QX2", "Magnum Cash&Carry — Кабанбай батыра 62", "ТОО «Magnum Cash&Carry»")
SHEET = [
    MAGNUM,
    StickerInfo("A1B2C3D4", "Кофейня «Ғажайып»", "ИП Сәрсенбаев"),
    StickerInfo("ZZZZ0000", "Такси 123 ABC 02", "ИП Өмірзақов Ұ."),
    StickerInfo("M9N8P7Q6", "Аптека № 5 — Абай даңғылы 10", "ТОО «Фармация Һ»"),
]
LONG = StickerInfo(
    "HJ4K5M6N",
    "Индивидуальный предприниматель «Сауда орталығы Әлем-Ғажайып Құрылыс Нұр-Сұлтан» — "
    "Республика даңғылы, 123/4, павильон № 56, Абай ауданы, Алматы облысы, Қазақстан Республикасы",
    "Жауапкершілігі шектеулі серіктестігі «Өңірлік Ұлттық Қызмет көрсету Орталығы» ЖШС — "
    "филиал № 17 в городе Шымкент, Түркістан облысы",
)
UNBREAKABLE = StickerInfo("P0Q1R2S3", "Ә" * 120, "Қ" * 120)
LAMBDA_URL = "https://abcdefghijklmnopqrstuvwxyz234567.lambda-url.eu-central-1.on.aws/"
KAZAKH_ALPHABET = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ"


def decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image.convert("L"))


def pdf_pages(pdf: bytes) -> list[dict]:
    parser = PdfParser.PdfParser(buf=pdf)
    return [parser.read_indirect(ref) for ref in parser.pages]


def glyph_pixels(font, text: str) -> tuple[bytes, tuple[int, int, int, int] | None]:
    im = Image.new("L", (4 * font.size, 2 * font.size), 0)
    ImageDraw.Draw(im).text((font.size, font.size // 2), text, font=font, fill=255)
    return im.tobytes(), im.getbbox()


def tiff_around_g4(data: bytes, width: int, height: int) -> Image.Image:
    """Wrap a bare CCITT G4 stream in the smallest TIFF that says what Pillow's own G4 TIFFs say
    (1 bit, photometric BlackIsZero), so Pillow can decode it independently of the code under test."""
    # (tag, type: 3 SHORT or 4 LONG, value); 273 StripOffsets is filled in below
    tags = [
        (256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 4), (262, 3, 1),
        (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, len(data)),
    ]
    ifd_size = 2 + 12 * len(tags) + 4
    offset = 8 + ifd_size
    ifd = struct.pack("<H", len(tags))
    for tag, kind, value in tags:
        value = offset if tag == 273 else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    ifd += struct.pack("<I", 0)
    tiff = Image.open(io.BytesIO(b"II*\x00" + struct.pack("<I", 8) + ifd + data))
    tiff.load()
    return tiff


def image_streams(pdf: bytes) -> list[tuple[dict, bytes]]:
    """The image XObjects of a PDF with their raw (still G4-compressed) data, in page order."""
    parser = PdfParser.PdfParser(buf=pdf)
    streams = []
    for page_ref in parser.pages:
        page = parser.read_indirect(page_ref)
        image = parser.read_indirect(page[b"Resources"][b"XObject"][b"Im0"])
        streams.append((image.dictionary, bytes(image.buf)))
    return streams


# --- the QR ---------------------------------------------------------------------------------------------


def test_qr_url_is_the_base_url_and_the_code_whatever_the_trailing_slash():
    # GIVEN a base URL with and without a trailing slash
    # WHEN the URL for an outlet code is built
    # THEN the code is one path segment after the base
    assert qr_url("7K3M9QX2", "https://qalqan.kz/q") == "https://qalqan.kz/q/7K3M9QX2"
    assert qr_url("7K3M9QX2", "https://qalqan.kz/q/") == "https://qalqan.kz/q/7K3M9QX2"


def test_qr_matrix_uses_error_correction_q_and_a_four_module_quiet_zone():
    # GIVEN an outlet URL
    # WHEN its QR matrix is made
    qr = stickers.qr_matrix(qr_url("7K3M9QX2", BASE))
    matrix = qr.get_matrix()

    # THEN it recovers 25% damage and carries the quiet zone the QR specification asks for
    assert qr.error_correction == ERROR_CORRECT_Q
    assert qr.border == 4
    n = len(matrix)
    for i in range(4):
        assert not any(matrix[i]) and not any(matrix[n - 1 - i])
        assert not any(row[i] or row[n - 1 - i] for row in matrix)
    assert matrix[4][4], "the finder pattern starts right after the quiet zone"


def test_sticker_png_qr_decodes_to_exactly_the_outlet_url_at_level_q():
    # GIVEN an outlet
    # WHEN its sticker is rendered as PNG
    png = stickers.render_sticker_png(MAGNUM, qr_base_url=BASE)

    # THEN the one QR on it decodes to the outlet's URL, and it was printed at error correction Q
    [barcode] = decode(Image.open(io.BytesIO(png)))
    assert barcode.text == qr_url(MAGNUM.code, BASE)
    assert barcode.ec_level == "Q"


def test_sticker_png_is_a6_at_300_dpi():
    # GIVEN an outlet
    # WHEN its sticker is rendered as PNG
    image = Image.open(io.BytesIO(stickers.render_sticker_png(MAGNUM, qr_base_url=BASE)))

    # THEN it is 105 x 148 mm at 300 dpi, and says so, so it prints at its size
    assert image.size == (1240, 1748)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert image.mode in ("L", "1")


def test_sticker_qr_is_about_60_to_65_mm_wide_with_its_quiet_zone():
    # GIVEN the outlet URL's QR
    modules = len(stickers.qr_matrix(qr_url(MAGNUM.code, BASE)).get_matrix())
    # WHEN the sticker is laid out
    layout = stickers.layout_sticker(MAGNUM, qr_base_url=BASE, qr_modules=modules)
    # THEN the QR, quiet zone included, is 58-66 mm wide and square, on whole pixels per module
    width_mm = (layout.qr_box[2] - layout.qr_box[0]) * 25.4 / 300
    assert 58 <= width_mm <= 66
    assert layout.qr_box[2] - layout.qr_box[0] == layout.qr_box[3] - layout.qr_box[1] == modules * layout.qr_module


def test_sticker_shows_the_code_grouped_for_typing_and_the_host_to_type_it_at():
    # GIVEN an outlet code
    # WHEN the sticker is laid out
    layout = stickers.layout_sticker(MAGNUM, qr_base_url=BASE, qr_modules=37)
    texts = ["".join(t for t, _ in line.runs) for line in layout.lines]

    # THEN the code is printed as two groups of four, and the site's host is named
    assert stickers.display_code("7K3M9QX2") == "7K3M-9QX2"
    assert "7K3M-9QX2" in texts
    assert any(text.endswith("qalqan.kz") for text in texts)


def test_sticker_without_english_has_no_english_but_still_scans():
    # GIVEN an outlet, and stickers wanted in Kazakh and Russian only
    # WHEN the sticker is laid out and rendered
    layout = stickers.layout_sticker(MAGNUM, qr_base_url=BASE, qr_modules=37, include_en=False)
    texts = " ".join(t for line in layout.lines for t, _ in line.runs)
    image = stickers.render_sticker_image(MAGNUM, qr_base_url=BASE, include_en=False)

    # THEN no English is printed, and the QR still decodes
    assert "complaint" not in texts and "Code" not in texts and "Enter" not in texts
    assert "Шағымыңыз бар ма?" in texts and "Есть жалоба?" in texts
    assert [b.text for b in decode(image)] == [qr_url(MAGNUM.code, BASE)]


# --- text that fits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("info", [MAGNUM, LONG, UNBREAKABLE], ids=["normal", "long-names", "unbreakable-word"])
@pytest.mark.parametrize("base", [BASE, LAMBDA_URL], ids=["short-host", "lambda-host"])
def test_every_line_of_text_stays_inside_the_frame(info, base):
    # GIVEN an outlet whose names may be far too long for an A6 sticker, and a short or a very long host
    modules = len(stickers.qr_matrix(qr_url(info.code, base)).get_matrix())
    # WHEN the sticker is laid out
    layout = stickers.layout_sticker(info, qr_base_url=base, qr_modules=modules)

    # THEN every line lies inside the content box, no two lines overlap, and the QR leaves room for the text
    left, top, right, bottom = layout.content
    boxes = sorted(line.box for line in layout.lines)
    for box in boxes:
        assert left <= box[0] and box[2] <= right and top <= box[1] and box[3] <= bottom, box
    by_top = sorted(boxes, key=lambda b: b[1])
    for upper, lower in zip(by_top, by_top[1:]):
        assert upper[3] <= lower[1], (upper, lower)
    for box in boxes:
        assert box[3] <= layout.qr_box[1] or box[1] >= layout.qr_box[3], "no text in the QR or its quiet zone"
    # AND the brand and its shield sit inside the header band
    for box in (layout.brand.box, layout.mark):
        assert layout.header[0] <= box[0] and box[2] <= layout.header[2], box
        assert layout.header[1] <= box[1] and box[3] <= layout.header[3], box


def test_a_very_long_outlet_name_leaves_no_ink_outside_its_text_area():
    # GIVEN an outlet with absurdly long names
    # WHEN its sticker is rendered
    image = stickers.render_sticker_image(LONG, qr_base_url=BASE)
    layout = stickers.layout_sticker(LONG, qr_base_url=BASE, qr_modules=37)
    left, top, right, bottom = layout.content
    frame_inner_left = layout.frame[0] + stickers.FRAME
    frame_inner_right = layout.frame[2] - stickers.FRAME

    # THEN the margins outside the frame and the padding inside it, beside and below the text, are blank
    width, height = image.size
    blank = {
        "outside left": (0, 0, layout.frame[0], height),
        "outside right": (layout.frame[2], 0, width, height),
        "outside top": (0, 0, width, layout.frame[1]),
        "outside bottom": (0, layout.frame[3], width, height),
        "padding left": (frame_inner_left + 2, top, left, bottom),
        "padding right": (right, top, frame_inner_right - 2, bottom),
        "padding bottom": (
            frame_inner_left + stickers.RADIUS, bottom,
            frame_inner_right - stickers.RADIUS, layout.frame[3] - stickers.FRAME - 2,
        ),
    }
    for name, box in blank.items():
        assert image.crop(box).getextrema() == (255, 255), name
    # AND the name was cut with an ellipsis rather than run on
    assert any(text.endswith("…") for line in layout.outlet_lines for text, _ in line.runs)


def test_a_name_that_can_fit_is_wrapped_or_shrunk_whole_and_no_line_starts_with_a_dash():
    # GIVEN an outlet name too long for one line at the largest size
    name = "Магнум Кэш энд Керри — Кабанбай батыра көшесі 62, Алматы"
    # WHEN it is fitted into two lines
    size, lines = stickers.fit_text(name, bold=True, max_width=1000, max_lines=2, max_size=50, min_size=33)

    # THEN every word is kept, each line fits, and the dash stays at the end of a line
    assert " ".join(lines) == name
    assert 1 <= len(lines) <= 2
    assert all(stickers.text_width(line, size, bold=True) <= 1000 for line in lines)
    assert not any(line.startswith("—") for line in lines)


def test_an_outlet_name_two_lines_would_cut_takes_a_third_line_before_it_is_cut():
    # GIVEN an outlet name too long for two lines, and a short business name
    info = StickerInfo(
        "HJ4K5M6N",
        "Индивидуальный предприниматель «Сауда орталығы Әлем-Ғажайып» — Республика даңғылы, 123/4, павильон № 56",
        "ТОО «Әлем»",
    )
    # WHEN the sticker is laid out
    layout = stickers.layout_sticker(info, qr_base_url=BASE, qr_modules=37)
    texts = ["".join(t for t, _ in line.runs) for line in layout.outlet_lines]

    # THEN the whole outlet name is printed, on three lines, followed by the business name
    assert texts[0] == "HJ4K-5M6N"
    assert len(texts) == 1 + 3 + 1
    assert " ".join(texts[1:4]) == info.outlet_name
    assert texts[4] == info.business_name


# --- fonts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_shipped_font_has_real_glyphs_for_every_kazakh_letter(bold):
    # GIVEN the shipped font, and a private-use character it has no glyph for (it renders as .notdef)
    font = stickers.font(60, bold=bold)
    notdef = glyph_pixels(font, "\ue000")[0]

    # WHEN each Kazakh letter, lower and upper case, is rendered
    # THEN it leaves ink, and not the .notdef glyph's
    for letter in "әғқңөұүһі" + KAZAKH_ALPHABET + KAZAKH_ALPHABET.lower():
        pixels, bbox = glyph_pixels(font, letter)
        assert font.getmask(letter).getbbox() is not None, letter
        assert bbox is not None and pixels != notdef, letter


def test_every_character_the_sticker_prints_has_a_glyph():
    # GIVEN every fixed text on the sticker, and punctuation outlet names use
    texts = [stickers.TEXT["brand"], *stickers.TEXT["code_label"].values(), *stickers.TEXT["type_code"].values()]
    texts += [q + a for _, q, a in stickers.TEXT["cta"]] + ["«»—–№₸…·"]
    # WHEN each character is rendered in both weights
    # THEN each one leaves ink: nothing falls outside the subset
    for bold in (False, True):
        font = stickers.font(60, bold=bold)
        for ch in set("".join(texts)) - {" "}:
            assert glyph_pixels(font, ch)[1] is not None, (ch, bold)


def test_fonts_are_the_shipped_subsets_with_their_licence():
    # GIVEN the package's font directory
    fonts = stickers.FONT_DIR
    # THEN the subsets and the licence are there, loaded from the package rather than the system,
    # and small (the full DejaVu Sans is 740 KB per face)
    assert stickers.REGULAR_FONT.parent == fonts and stickers.BOLD_FONT.parent == fonts
    for path in (stickers.REGULAR_FONT, stickers.BOLD_FONT):
        assert path.stat().st_size < 80_000, path
    assert "Bitstream Vera" in (fonts / "LICENSE-DejaVu.txt").read_text()
    assert stickers.font(40).path == str(stickers.REGULAR_FONT)


# --- sheets and PDF -------------------------------------------------------------------------------------


def test_pillow_has_libtiff_so_pdf_pages_are_g4_compressed():
    # GIVEN the Pillow build the project pins
    # THEN it has libtiff, which the bilevel PDF pages need for CCITT G4
    assert features.check("libtiff")


def test_every_qr_on_a_sheet_decodes_to_the_outlet_in_its_place():
    # GIVEN four outlets
    # WHEN they are laid out on one A4 sheet
    [page] = stickers.render_sheet_images(SHEET, qr_base_url=BASE)
    assert page.size == (2480, 3508) and page.mode == "1"

    # THEN four QRs decode, each in its own quarter of the sheet, in reading order
    found = {}
    for barcode in decode(page):
        x, y = barcode.position.top_left.x, barcode.position.top_left.y
        slot = 2 * (y >= stickers.SHEET_TOP + stickers.A6[1]) + (x >= stickers.A6[0])
        found[slot] = barcode.text
    assert found == {i: qr_url(info.code, BASE) for i, info in enumerate(SHEET)}


def test_sheets_pdf_has_one_a4_page_per_four_stickers():
    # GIVEN five outlets
    # WHEN their sheets are rendered as PDF
    pdf = stickers.render_sheets_pdf(SHEET + [MAGNUM], qr_base_url=BASE)

    # THEN it is a PDF of two A4 pages (595.2 x 841.9 pt at 300 dpi)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == 2
    pages = pdf_pages(pdf)
    assert len(pages) == 2
    for page in pages:
        assert page[b"MediaBox"] == pytest.approx([0, 0, 595.2, 841.92], abs=0.01)


def test_sheets_pdf_pages_hold_the_rendered_sheets_pixel_for_pixel():
    # GIVEN four outlets, and the sheet images they make
    [sheet] = stickers.render_sheet_images(SHEET, qr_base_url=BASE)
    # WHEN their PDF is written
    pdf = stickers.render_sheets_pdf(SHEET, qr_base_url=BASE)

    # THEN its page is a 1-bit CCITT G4 image that decodes back to exactly that sheet
    [(image, data)] = image_streams(pdf)
    assert image[b"Filter"] == PdfParser.PdfName("CCITTFaxDecode")
    assert image[b"BitsPerComponent"] == 1
    # BlackIs1 pairs with the BlackIsZero photometric Pillow encodes with (checked by eye in a PDF viewer)
    params = image[b"DecodeParms"]
    assert (params[b"K"], params[b"BlackIs1"], params[b"Columns"], params[b"Rows"]) == (-1, True, *sheet.size)
    assert (image[b"Width"], image[b"Height"]) == sheet.size
    decoded = tiff_around_g4(data, *sheet.size)
    assert ImageChops.difference(decoded.convert("L"), sheet.convert("L")).getbbox() is None
    # AND a G4 page is small: 60 KB would be plenty; the raw page is 1 MB
    assert len(data) < 150_000


def test_sticker_pdf_is_one_a6_page_whose_qr_decodes():
    # GIVEN an outlet
    # WHEN its sticker is rendered as a PDF
    pdf = stickers.render_sticker_pdf(MAGNUM, qr_base_url=BASE)

    # THEN it is one page of 105 x 148 mm (297.6 x 419.5 pt), and its image's QR decodes to the outlet
    [page] = pdf_pages(pdf)
    assert pdf.startswith(b"%PDF-")
    assert page[b"MediaBox"] == pytest.approx([0, 0, 297.6, 419.52], abs=0.01)
    [(image, data)] = image_streams(pdf)
    [barcode] = decode(tiff_around_g4(data, image[b"Width"], image[b"Height"]))
    assert barcode.text == qr_url(MAGNUM.code, BASE)


def test_sheets_pdf_of_no_outlets_is_refused():
    # GIVEN no outlets
    # WHEN sheets are asked for
    # THEN it is refused rather than an empty PDF
    with pytest.raises(ValueError):
        stickers.render_sheets_pdf([], qr_base_url=BASE)


def test_sheet_images_are_made_lazily_one_page_at_a_time():
    # GIVEN an endless stream of outlets
    def outlets():
        n = 0
        while True:
            yield StickerInfo(f"{n:08d}", f"Дүкен {n}", "ЖШС")
            n += 1

    # WHEN the first page is taken
    pages = stickers.render_sheet_images(outlets(), qr_base_url=BASE)
    first = next(pages)

    # THEN it comes without the stream ever ending: pages are not all made up front
    assert first.size == stickers.A4
