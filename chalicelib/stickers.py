"""Printable QR stickers for outlets: one A6 sticker (PNG or PDF), or A4 sheets of four for bulk printing.

This is the only module that imports Pillow and qrcode. Only the sticker endpoints and the admin CLI import
it, lazily, so the QR resolver's cold start never pays for them (DESIGN.md, "Cold start budget").

Everything is drawn at 300 dpi, black on white, so that any office printer reproduces it. PDF pages are
1-bit images compressed with CCITT G4 and are written one page at a time (see `_write_pdf`), so a PDF of
thousands of stickers holds one page in memory at a time, not all of them.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_Q

from chalicelib import i18n
from chalicelib.domain.codes import display_code

DPI = 300
FONT_DIR = Path(__file__).resolve().parent / "data" / "fonts"
REGULAR_FONT = FONT_DIR / "DejaVuSans-subset.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold-subset.ttf"

QR_BORDER = 4  # modules of quiet zone: the minimum the QR specification asks for


def mm(length: float) -> int:
    """Millimetres to pixels at 300 dpi."""
    return round(length * DPI / 25.4)


def pt(size: float) -> int:
    """Typographic points to pixels at 300 dpi."""
    return round(size * DPI / 72)


A6 = (mm(105), mm(148))  # 1240 x 1748 px
A4 = (mm(210), mm(297))  # 2480 x 3508 px

# The frame sits 5 mm inside the sticker's edge: that keeps it out of an office printer's unprintable border
# (about 4 mm) when four stickers fill an A4 sheet edge to edge, and leaves room for a crooked cut.
MARGIN = mm(5)
FRAME = mm(1.4)
RADIUS = mm(4)
PADDING = mm(3)
HEADER_HEIGHT = mm(12)
QR_TARGET = mm(62)  # the QR symbol with its quiet zone
QR_MIN_MODULE = 4  # px (0.34 mm): a floor, reached only if a base URL were absurdly long


def _sticker_text() -> dict:
    """The sticker's words from chalicelib.i18n, arranged as the layout draws them.

    `code_label` and `type_code` are keyed by whether English is printed. A word spelled the same in two
    languages (Kazakh and Russian «Код») is printed once.
    """
    def joined(key: str, langs: Sequence[str], sep: str) -> str:
        return sep.join(dict.fromkeys(i18n.text(key, lang) for lang in langs))

    with_en, without_en = i18n.LANGUAGES, tuple(lang for lang in i18n.LANGUAGES if lang != "en")
    return {
        "brand": i18n.BRAND,
        "cta": tuple((lang, i18n.text("sticker.question", lang), i18n.text("sticker.scan", lang))
                     for lang in i18n.LANGUAGES),
        "code_label": {True: joined("sticker.code", with_en, " / "), False: joined("sticker.code", without_en, " / ")},
        "type_code": {True: joined("sticker.type_code", with_en, " · ") + ":",
                      False: joined("sticker.type_code", without_en, " · ") + ":"},
    }


TEXT = _sticker_text()


@dataclass(frozen=True)
class StickerInfo:
    code: str  # outlet code, 8 Crockford base32 characters, e.g. "7K3M9QX2"
    outlet_name: str
    business_name: str


def qr_url(code: str, qr_base_url: str) -> str:
    """The URL a sticker's QR encodes: the resolver's base URL and the outlet code."""
    return f"{qr_base_url.rstrip('/')}/{code}"


def qr_matrix(url: str) -> qrcode.QRCode:
    """A QR code for `url`, made (version fitted), with error correction Q and a 4-module quiet zone.

    Q recovers 25% of the symbol, because printed stickers get scratched and dirty. `get_matrix()` on the
    result gives the modules, quiet zone included, as rows of booleans (True is dark).
    """
    qr = qrcode.QRCode(version=None, error_correction=ERROR_CORRECT_Q, border=QR_BORDER)
    qr.add_data(url)
    qr.make(fit=True)
    return qr


# ---------------------------------------------------------------------------------------------------------
# Text fitting


@lru_cache(maxsize=128)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans subset at `size` px.

    The basic layout engine is forced: Pillow's Raqm engine needs libfribidi, which this machine has and
    Lambda does not, and Kazakh and Russian need no complex shaping anyway. One engine everywhere means
    one rendering everywhere.
    """
    return ImageFont.truetype(str(BOLD_FONT if bold else REGULAR_FONT), size, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=8192)  # measuring is a large share of the render time, and most strings recur
def text_width(text: str, size: int, *, bold: bool = False) -> float:
    return font(size, bold=bold).getlength(text)


def _glue(text: str) -> str:
    """Keep a dash or a № sign with its neighbour, so that a wrapped line never starts with a dash."""
    text = " ".join(text.split())
    return text.replace(" — ", "\u00a0— ").replace(" – ", "\u00a0– ").replace("№ ", "№\u00a0")


def _split_long_word(word: str, size: int, bold: bool, max_width: int) -> list[str]:
    pieces, current = [], ""
    for ch in word:
        if current and text_width(current + ch, size, bold=bold) > max_width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return pieces + [current]


def _greedy_wrap(words: Sequence[str], size: int, bold: bool, max_width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if not current or text_width(candidate, size, bold=bold) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _words(text: str, size: int, bold: bool, max_width: int) -> list[str]:
    """The units a line may break between: words, and the pieces of a word too long for any line."""
    words: list[str] = []
    for word in _glue(text).split(" "):
        if text_width(word, size, bold=bold) > max_width:
            words.extend(_split_long_word(word, size, bold, max_width))
        else:
            words.append(word)
    return words


def wrap(text: str, size: int, *, bold: bool, max_width: int) -> list[str]:
    """`text` broken into as few lines as fit `max_width`, then balanced so the lines have similar lengths."""
    words = _words(text, size, bold, max_width)
    lines = _greedy_wrap(words, size, bold, max_width)
    if len(lines) < 2:
        return lines
    # Narrow the measure as far as it keeps the same number of lines: this evens out a long first line
    # followed by a lone last word.
    low, high = max(text_width(w, size, bold=bold) for w in words), float(max_width)
    while high - low > 2:
        mid = (low + high) / 2
        if len(_greedy_wrap(words, size, bold, mid)) == len(lines):
            high = mid
        else:
            low = mid
    return _greedy_wrap(words, size, bold, high)


def _ellipsize(text: str, size: int, bold: bool, max_width: int) -> str:
    """The longest start of `text` that fits `max_width` with an ellipsis after it, cut between words unless
    that would waste much of the line."""
    low, high = 0, len(text)  # text[:low] + "…" fits; text[:high + 1] + "…" does not, or is all of it
    while low < high:
        mid = (low + high + 1) // 2
        if text_width(text[:mid] + "…", size, bold=bold) <= max_width:
            low = mid
        else:
            high = mid - 1
    cut = text[:low]
    if low < len(text) and text[low] != " " and " " in cut:
        whole_words = cut.rsplit(" ", 1)[0]
        if len(whole_words) >= 0.75 * len(cut):
            cut = whole_words
    return cut.rstrip(" ,;:—–-") + "…"


def fit_text(
    text: str, *, bold: bool, max_width: int, max_lines: int, max_size: int, min_size: int
) -> tuple[int, list[str]]:
    """The largest size from `max_size` down to `min_size` at which `text` wraps into `max_lines` lines of at
    most `max_width` px, and those lines. Text that does not fit even at `min_size` is cut with an ellipsis:
    the lines never overflow."""
    step = max(1, (max_size - min_size) // 12)
    for size in range(max_size, min_size - 1, -step):
        lines = wrap(text, size, bold=bold, max_width=max_width)
        if len(lines) <= max_lines:
            return size, [line.replace("\u00a0", " ") for line in lines]
    # Cut: fill the lines greedily rather than balanced, so the last line carries as much as it can.
    lines = _greedy_wrap(_words(text, min_size, bold, max_width), min_size, bold, max_width)
    kept = lines[: max_lines - 1] + [_ellipsize(" ".join(lines[max_lines - 1 :]), min_size, bold, max_width)]
    return min_size, [line.replace("\u00a0", " ") for line in kept]


def _is_whole(text: str, lines: Sequence[str]) -> bool:
    """Whether `lines` hold all of `text`, rather than a cut ending in an ellipsis."""
    return "".join("".join(lines).split()) == "".join(text.split())


def fit_runs(runs: Sequence[tuple[str, bool]], *, max_width: int, max_size: int, min_size: int) -> int | None:
    """The largest size at which a one-line sequence of (text, bold) runs fits `max_width`, or None."""
    for size in range(max_size, min_size - 1, -1):
        if sum(text_width(t, size, bold=b) for t, b in runs) <= max_width:
            return size
    return None


# ---------------------------------------------------------------------------------------------------------
# Layout

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive), px


@dataclass(frozen=True)
class TextLine:
    """One centred line of text made of (text, bold) runs, drawn on `baseline`."""

    runs: tuple[tuple[str, bool], ...]
    size: int
    baseline: int
    center_x: int
    inverse: bool = False  # white on black

    @property
    def width(self) -> float:
        return sum(text_width(t, self.size, bold=b) for t, b in self.runs)

    @property
    def box(self) -> Box:
        """The line's box: advance width by the font's ascent and descent, which contains its ink."""
        ascent, descent = font(self.size).getmetrics()
        half = math.ceil(self.width / 2)
        return (self.center_x - half, self.baseline - ascent, self.center_x + half, self.baseline + descent)


@dataclass(frozen=True)
class StickerLayout:
    frame: Box  # outer edge of the frame
    header: Box  # the black band with the brand
    content: Box  # every line of text below the header stays in here
    qr_box: Box  # the QR symbol with its quiet zone
    qr_module: int  # px per module
    brand: TextLine  # white on the header band
    mark: Box  # the shield left of the brand
    fixed_lines: tuple[TextLine, ...]  # the same on every sticker of a batch: call to action, labels
    outlet_lines: tuple[TextLine, ...]  # this outlet's: code, outlet name, business name
    divider: Box

    @property
    def lines(self) -> tuple[TextLine, ...]:
        """Every line of text below the header."""
        return self.fixed_lines + self.outlet_lines


def _line_height(size: int) -> int:
    ascent, descent = font(size).getmetrics()
    return ascent + descent


NAME_SIZES = (pt(12), pt(8))  # outlet name, bold: largest, smallest
BUSINESS_SIZES = (pt(9), pt(6.5))


def _fit_names(info: StickerInfo, measure: int, room: int) -> tuple[int, list[str], int, list[str]]:
    """Outlet name (bold) and business name, each up to two lines, fitted into `room` px of height.

    The outlet name matters more: when two lines would cut it, it may take a third, and then, if need be,
    the business name gives up its second line."""

    def fit(text: str, bold: bool, lines: int, sizes: tuple[int, int]) -> tuple[int, list[str]]:
        return fit_text(text, bold=bold, max_width=measure, max_lines=lines, max_size=sizes[0], min_size=sizes[1])

    def height(size: int, lines: list[str]) -> int:
        return len(lines) * _line_height(size)

    name = fit(info.outlet_name, True, 2, NAME_SIZES)
    business = fit(info.business_name, False, 2, BUSINESS_SIZES)
    if not _is_whole(info.outlet_name, name[1]):
        longer = fit(info.outlet_name, True, 3, NAME_SIZES)
        for shorter in (business, fit(info.business_name, False, 1, BUSINESS_SIZES)):
            if height(*longer) + height(*shorter) <= room:
                name, business = longer, shorter
                break
    return (*name, *business)


def layout_sticker(info: StickerInfo, *, qr_base_url: str, qr_modules: int, include_en: bool = True) -> StickerLayout:
    """Where everything goes on one A6 sticker, in px at 300 dpi; `qr_modules` is the QR's width in modules,
    quiet zone included. Space for two lines of outlet name and two of business name is always reserved,
    so every sticker in a batch has the same layout, whatever the names."""
    width, height = A6
    frame = (MARGIN, MARGIN, width - MARGIN, height - MARGIN)
    inner = (frame[0] + FRAME, frame[1] + FRAME, frame[2] - FRAME, frame[3] - FRAME)
    header = (inner[0], inner[1], inner[2], inner[1] + HEADER_HEIGHT)
    content = (inner[0] + PADDING, header[3] + PADDING, inner[2] - PADDING, inner[3] - PADDING)
    left, top, right, bottom = content
    measure = right - left
    cx = (left + right) // 2

    # Header: the shield and the brand, centred together on the band.
    mark_side, mark_gap = round(HEADER_HEIGHT * 0.62), mm(2)
    brand_runs = ((TEXT["brand"], True),)
    brand_size = fit_runs(brand_runs, max_width=measure - mark_side - mark_gap, max_size=pt(19), min_size=pt(10))
    brand_size = brand_size or pt(10)
    brand_half = math.ceil(text_width(TEXT["brand"], brand_size, bold=True) / 2)
    brand_cx = cx + (mark_side + mark_gap) // 2
    # The brand sits on the band's optical middle: half its cap height below the centre line.
    cap_height = -font(brand_size, bold=True).getbbox("Қ", anchor="ls")[1]
    brand = TextLine(brand_runs, brand_size, (header[1] + header[3] + cap_height) // 2, brand_cx, inverse=True)
    mark_left = brand_cx - brand_half - mark_gap - mark_side
    mark_top = header[1] + (HEADER_HEIGHT - mark_side) // 2
    mark = (mark_left, mark_top, mark_left + mark_side, mark_top + mark_side)

    # Call to action: one line per language, question in bold, instruction in regular, all at one size.
    cta_runs = [((q, True), (" " + a, False)) for lang, q, a in TEXT["cta"] if include_en or lang != "en"]
    cta_size = min(fit_runs(r, max_width=measure, max_size=pt(12), min_size=pt(6)) or pt(6) for r in cta_runs)
    cta_lh = round(_line_height(cta_size) * 1.05)

    label_size = pt(8)
    code_runs = ((display_code(info.code), True),)
    code_size = fit_runs(code_runs, max_width=measure, max_size=pt(28), min_size=pt(12)) or pt(12)
    host = urlsplit(qr_base_url).netloc or qr_base_url
    type_text = TEXT["type_code"][include_en]
    type_runs = ((type_text + " ", False), (host, True))
    type_size = fit_runs(type_runs, max_width=measure, max_size=pt(8.5), min_size=pt(7))
    if type_size is not None:
        type_lines = [(type_runs, type_size)]
    else:  # a long host (a raw Lambda function URL) gets a line of its own
        host_size = fit_runs([(host, True)], max_width=measure, max_size=pt(9), min_size=pt(5)) or pt(5)
        type_lines = [(((type_text, False),), pt(8)), (((host, True),), host_size)]

    names_height = 2 * _line_height(NAME_SIZES[0]) + 2 * _line_height(BUSINESS_SIZES[0]) + mm(1)
    divider_gap = mm(2.5)
    reserved = (
        len(cta_runs) * cta_lh
        + _line_height(label_size)
        + _line_height(code_size)
        + sum(_line_height(s) for _, s in type_lines)
        + 2 * divider_gap
        + names_height
    )
    room = bottom - top - reserved
    module = max(QR_MIN_MODULE, min(round(QR_TARGET / qr_modules), room // qr_modules))
    qr_side = module * qr_modules
    slack = max(0, room - qr_side)

    fixed: list[TextLine] = []
    own: list[TextLine] = []
    y = top + slack // 6
    for runs in cta_runs:
        fixed.append(TextLine(runs, cta_size, y + font(cta_size).getmetrics()[0], cx))
        y += cta_lh
    y += slack // 3
    qr_box = (cx - qr_side // 2, y, cx - qr_side // 2 + qr_side, y + qr_side)
    y = qr_box[3]  # nothing is printed in the quiet zone: it is part of the symbol
    label_runs = ((TEXT["code_label"][include_en], False),)
    for runs, size in [(label_runs, label_size), (code_runs, code_size), *type_lines]:
        (own if runs is code_runs else fixed).append(TextLine(runs, size, y + font(size).getmetrics()[0], cx))
        y += _line_height(size)
    y += slack - slack // 6 - slack // 3

    y += divider_gap
    divider = (cx - measure // 4, y, cx + measure // 4, y + mm(0.35))
    y += divider_gap

    # Names: shrink, then wrap, then cut; centred as a block in the space reserved for them.
    name_size, name_lines, biz_size, biz_lines = _fit_names(info, measure, bottom - y - mm(1))
    block = [(line, name_size, True) for line in name_lines] + [(line, biz_size, False) for line in biz_lines]
    used = sum(_line_height(s) for _, s, _ in block) + mm(1)
    y += max(0, (bottom - y - used) // 2)
    for i, (text, size, bold) in enumerate(block):
        if i == len(name_lines):
            y += mm(1)
        own.append(TextLine(((text, bold),), size, y + font(size).getmetrics()[0], cx))
        y += _line_height(size)

    return StickerLayout(frame, header, content, qr_box, module, brand, mark, tuple(fixed), tuple(own), divider)


# ---------------------------------------------------------------------------------------------------------
# Drawing


def _qr_image(matrix: Sequence[Sequence[bool]], module: int) -> Image.Image:
    n = len(matrix)
    small = Image.frombytes("L", (n, n), bytes(0 if dark else 255 for row in matrix for dark in row))
    return small.resize((n * module, n * module), Image.Resampling.NEAREST)


def _shield(draw: ImageDraw.ImageDraw, box: Box, fill: int) -> None:
    """A small heraldic shield in `box`, the brand's mark (қалқан means shield)."""
    center_x, top, height = (box[0] + box[2]) / 2, box[1], box[3] - box[1]
    half = height * 0.42
    shoulder = top + height * 0.42
    points = [(center_x - half, top), (center_x + half, top)]
    steps = 14
    for i in range(steps + 1):  # quadratic curve from the right shoulder down to the point
        t = i / steps
        x = (1 - t) ** 2 * (center_x + half) + 2 * (1 - t) * t * (center_x + half) + t * t * center_x
        y = (1 - t) ** 2 * shoulder + 2 * (1 - t) * t * (top + height * 0.85) + t * t * (top + height)
        points.append((x, y))
    points += [(2 * center_x - x, y) for x, y in reversed(points[2:-1])]
    draw.polygon(points, fill=fill)


def _draw_line(draw: ImageDraw.ImageDraw, line: TextLine) -> None:
    x = line.center_x - line.width / 2
    for text, bold in line.runs:
        fill = 255 if line.inverse else 0
        draw.text((x, line.baseline), text, font=font(line.size, bold=bold), fill=fill, anchor="ls")
        x += text_width(text, line.size, bold=bold)


@lru_cache(maxsize=8)
def _template(
    frame: Box, header: Box, brand: TextLine, mark: Box, fixed_lines: tuple[TextLine, ...], divider: Box
) -> Image.Image:
    """Everything a sticker shares with the rest of its batch, drawn once: frame, header, call to action,
    labels. A batch uses one or two of these (the QR's size moves them), so each is drawn once per batch."""
    im = Image.new("L", A6, 255)
    draw = ImageDraw.Draw(im)
    # The frame and the header band are one black shape; the white panel below the band is cut out of it.
    draw.rounded_rectangle((frame[0], frame[1], frame[2] - 1, frame[3] - 1), radius=RADIUS, fill=0)
    panel = (header[0], header[3], header[2] - 1, frame[3] - FRAME - 1)
    draw.rounded_rectangle(panel, radius=RADIUS - FRAME, fill=255, corners=(False, False, True, True))

    _shield(draw, mark, fill=255)
    _draw_line(draw, brand)

    for line in fixed_lines:
        _draw_line(draw, line)
    draw.rectangle((divider[0], divider[1], divider[2] - 1, divider[3] - 1), fill=0)
    return im


def render_sticker_image(info: StickerInfo, *, qr_base_url: str, include_en: bool = True) -> Image.Image:
    """One A6 sticker as a 300-dpi greyscale ("L") image: black on white, antialiased text."""
    matrix = qr_matrix(qr_url(info.code, qr_base_url)).get_matrix()
    layout = layout_sticker(info, qr_base_url=qr_base_url, qr_modules=len(matrix), include_en=include_en)
    template = _template(layout.frame, layout.header, layout.brand, layout.mark, layout.fixed_lines, layout.divider)
    im = template.copy()
    draw = ImageDraw.Draw(im)
    for line in layout.outlet_lines:
        _draw_line(draw, line)
    im.paste(_qr_image(matrix, layout.qr_module), layout.qr_box[:2])
    return im


def _bilevel(im: Image.Image) -> Image.Image:
    """Threshold at mid-grey, no dithering: crisp edges, and Pillow can then compress with CCITT G4."""
    return im.convert("1", dither=Image.Dither.NONE)


def render_sticker_png(info: StickerInfo, *, qr_base_url: str, include_en: bool = True) -> bytes:
    """One A6 sticker as a PNG, 1240 x 1748 px, tagged 300 dpi so it prints at 105 x 148 mm."""
    out = io.BytesIO()
    render_sticker_image(info, qr_base_url=qr_base_url, include_en=include_en).save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


def render_sticker_pdf(info: StickerInfo, *, qr_base_url: str, include_en: bool = True) -> bytes:
    """One sticker on an A6 page of its own (105 x 148 mm)."""
    return _write_pdf([_bilevel(render_sticker_image(info, qr_base_url=qr_base_url, include_en=include_en))])


STICKERS_PER_SHEET = 4
# Two A6 side by side are exactly as wide as A4; two stacked are 1 mm shorter, so that millimetre is split
# between the top and the bottom of the sheet.
SHEET_TOP = (A4[1] - 2 * A6[1]) // 2


def sheet_slots() -> list[tuple[int, int]]:
    """Top-left corners of the four stickers on an A4 sheet, in reading order."""
    return [(col * A6[0], SHEET_TOP + row * A6[1]) for row in range(2) for col in range(2)]


def _draw_cut_marks(draw: ImageDraw.ImageDraw) -> None:
    """Thin dashed lines on the two cuts, drawn only in the gutters between the frames."""
    dash, gap, weight = mm(2), mm(2), 2
    cut_x, cut_y = A6[0], SHEET_TOP + A6[1]
    edge = mm(4)  # office printers don't print the outer 4 mm anyway
    for y in range(edge, A4[1] - edge, dash + gap):
        end = min(y + dash, A4[1] - edge)
        draw.rectangle((cut_x - weight // 2, y, cut_x + weight // 2 - 1, end - 1), fill=0)
    for x in range(edge, A4[0] - edge, dash + gap):
        end = min(x + dash, A4[0] - edge)
        draw.rectangle((x, cut_y - weight // 2, end - 1, cut_y + weight // 2 - 1), fill=0)


def render_sheet_images(
    infos: Iterable[StickerInfo], *, qr_base_url: str, include_en: bool = True
) -> Iterator[Image.Image]:
    """A4 portrait pages, 300 dpi, bilevel ("1"), each with up to four A6 stickers (2 x 2) and cut marks.

    A generator: pages are made one at a time as the consumer asks for them."""
    it = iter(infos)
    while chunk := list(islice(it, STICKERS_PER_SHEET)):
        page = Image.new("1", A4, 255)
        for info, slot in zip(chunk, sheet_slots()):
            page.paste(_bilevel(render_sticker_image(info, qr_base_url=qr_base_url, include_en=include_en)), slot)
        _draw_cut_marks(ImageDraw.Draw(page))
        yield page


def render_sheets_pdf(infos: Iterable[StickerInfo], *, qr_base_url: str, include_en: bool = True) -> bytes:
    """A4 sheets of four A6 stickers each, with light cut marks, as one PDF. Raises ValueError when
    `infos` is empty: a PDF without pages is no use to anyone."""
    return _write_pdf(render_sheet_images(infos, qr_base_url=qr_base_url, include_en=include_en))


# ---------------------------------------------------------------------------------------------------------
# PDF


def _g4(page: Image.Image) -> bytes:
    """A bilevel image's pixels compressed with CCITT Group 4, as a PDF CCITTFaxDecode stream wants them.

    Pillow's TIFF writer (libtiff) does the compression; the one strip it is asked for is then cut out."""
    tiff = io.BytesIO()
    page.save(tiff, "TIFF", compression="group4", strip_size=math.ceil(page.width / 8) * page.height)
    tiff.seek(0)
    with Image.open(tiff) as parsed:
        offsets, counts = parsed.tag_v2[273], parsed.tag_v2[279]
    offsets = offsets if isinstance(offsets, tuple) else (offsets,)
    counts = counts if isinstance(counts, tuple) else (counts,)
    if len(offsets) != 1:
        raise RuntimeError(f"expected one TIFF strip, got {len(offsets)}")
    return tiff.getvalue()[offsets[0] : offsets[0] + counts[0]]


def _write_pdf(pages: Iterable[Image.Image]) -> bytes:
    """A PDF with one page per bilevel 300-dpi image, at the image's physical size.

    Written page by page, unlike Pillow's own PDF writer, which holds every page's image until it has
    counted them. The page tree (object 2) is written last, when the pages are known."""
    out = io.BytesIO()
    offsets: dict[int, int] = {}

    def obj(number: int, body: bytes, stream: bytes | None = None) -> None:
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number)
        if stream is None:
            out.write(body + b"\nendobj\n")
        else:
            out.write(body[:-2] + b" /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream\nendobj\n")

    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(3, b"<< /Producer (Qalqan stickers) >>")
    kids: list[int] = []
    number = 4
    for page in pages:
        if page.mode != "1":
            raise ValueError(f"PDF pages must be bilevel (mode 1), got {page.mode}")
        w, h = page.size
        pw, ph = w * 72 / DPI, h * 72 / DPI
        image, contents, page_obj = number, number + 1, number + 2
        number += 3
        obj(
            image,
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1"
            b" /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 true >> >>" % (w, h, w, h),
            _g4(page),
        )
        obj(contents, b"<< >>", b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (pw, ph))
        obj(
            page_obj,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /ProcSet [/PDF /ImageB]"
            b" /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (pw, ph, image, contents),
        )
        kids.append(page_obj)
    if not kids:
        raise ValueError("no pages to write")
    obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))

    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % number)
    for n in range(1, number):
        out.write(b"%010d 00000 n \n" % offsets[n])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (number, xref))
    return out.getvalue()
