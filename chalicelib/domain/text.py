"""Text normalisation and language detection for complaint texts (pure Python).

Complaints arrive in Russian, in Kazakh (ә ғ қ ң ө ұ ү һ і), in Kazakh typed with Russian letters only,
in mixes of the two, in Latin-script Kazakh (official 2021 alphabet, the 2018 apostrophe alphabet, or
informal "joq / bermedi / chek") and in English. `normalise` maps all of them onto one folded Cyrillic
alphabet so that one set of phrase rules can match them:

* lowercase, ё→е, the Kazakh-specific letters folded onto their Russian-keyboard look-alikes
  (ә→а ғ→г қ→к ң→н ө→о ұ→у ү→у һ→х і→и);
* Latin-script Kazakh/Russian transliterated into Cyrillic ("chek bermedi" → "чек бермеди");
  a few Latin tokens that people really write in Latin (QR, EAC, brand names, tokens with digits)
  stay Latin; when the Latin part of a text reads as English it stays Latin too, so that English
  rules can match English text;
* Latin look-alike letters inside a Cyrillic word ("бiр" typed with a Latin i) become Cyrillic;
* punctuation collapses to single spaces.

`detect_language` returns "kk", "ru" or "en" by counting signals (Kazakh letters, common Kazakh words
and suffixes, Russian function words and endings, English words); a mixed text gets the dominant one.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["normalise", "detect_language", "tokens"]

# --- alphabets -------------------------------------------------------------------------------------

_KK_LETTERS = frozenset("әғқңөұүһі")
_KK_FOLD = str.maketrans({
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и", "ё": "е",
    # Ukrainian/Belarusian look-alikes that show up from other keyboards.
    "ї": "и", "ў": "у", "є": "е",
})
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'", "´": "'", "ʻ": "'"})

# Latin letters of the Kazakh alphabets (2021 official, 2017/2018 variants) and Turkish-style
# letters people use for them, onto (folded) Cyrillic.
_LATIN_SPECIAL = {
    "á": "а", "ä": "а", "à": "а", "â": "а",
    "ǵ": "г", "ğ": "г",
    "ı": "и",  # 2021 alphabet: ı is і (folded to и); y is ы
    "ń": "н", "ñ": "н",
    "ó": "о", "ö": "о", "ô": "о",
    "ú": "у", "ü": "у", "ū": "у", "û": "у", "ý": "у",
    "ş": "ш", "ș": "ш", "ç": "ч", "č": "ч", "š": "ш", "ž": "ж",
    "é": "е", "è": "е", "ê": "е", "í": "и", "ì": "и", "î": "и",
}
_KK_LATIN_MARKERS = frozenset("áäǵğıńñóöúüūýşș")
# The 2018 apostrophe alphabet: s' = ш, c' = ч, other apostrophes only mark a variant letter.
_APOSTROPHE_DIGRAPHS = {"s'": "ш", "c'": "ч", "a'": "а", "o'": "о", "u'": "у", "g'": "г",
                        "n'": "н", "i'": "ы", "y'": "у"}
_LATIN_DIGRAPHS = [("shch", "щ"), ("sch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"),
                   ("gh", "г"), ("ya", "я"), ("yu", "ю"), ("yo", "е"), ("iy", "ий")]
_LATIN_SINGLE = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и",
    "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р",
    "s": "с", "t": "т", "u": "у", "v": "в", "w": "у", "x": "кс", "y": "ы", "z": "з",
}
_LATIN_SHORT_I = re.compile(r"(?<=[aeouyáäóöúüūýéаеоуыяю])[iıy](?![aeouyáäóöúüūýéаеоуыяю])")
# Latin letters that look like Cyrillic ones; used inside a word that is otherwise Cyrillic.
_HOMOGLYPHS = {"a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "i": "и", "k": "к", "m": "м",
               "o": "о", "p": "р", "t": "т", "x": "х", "y": "у"}
# Latin tokens people write in Latin even inside Russian or Kazakh text; kept as they are.
_KEEP_LATIN = frozenset({
    "qr", "eac", "sms", "sim", "wifi", "wi", "fi", "gps", "lte", "pos", "atm", "id", "usb",
    "kaspi", "halyk", "jusan", "beeline", "kcell", "activ", "altel", "kazakhtelecom", "instagram",
    "whatsapp", "telegram", "tiktok", "olx", "wildberries", "ozon", "yandex", "indrive", "uber", "glovo",
})

_CYR_RE = re.compile(r"[а-яёәғқңөұүһіїўє]")
_LAT_RE = re.compile(r"[a-z\u00c0-\u024f]")
_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*'?")

# --- lexicons for language detection (in the folded alphabet) -----------------------------------

_KK_WORDS = frozenset("""
мен менин бир маган мени менде сен сиз сизге сизди биз бизде бизге бизди олар ол оны оган онын бул осы сол
жане деп деди дейди дейт деген жок бар емес ушин бирак кейин гана ете оте тым бари барлык барлыгы
алдым алды алган алып берди бермеди берген болды болып болган тур турды тур жатыр калай неге кайда кашан
сатып сатушы сатады сатты дукен дукенде дукеннен дукенге акша акшам акшамды акшаны акшасын тауар
бала балам балага балама уй уйде уйге ертен бугин кеше кун жыл кассада чекти чеги чегин сурасам айтсам
айтты айтканда келди кетти шыкты турган жазылган сиякты кандай кезде киси адам жерде жаксы жаман
кайтару кайтарып кайтармады бас тартты сапасыз кызмет бага багасы багасын тенгеге мынга мын
""".split())
_RU_WORDS = frozenset("""
и в во на не что я с со по за у это так как но из к от же мне меня мной был была были было они он она
мы вы их его ее её все всё уже только еще ещё очень когда где почему потому если или даже при для без
после через нет да есть сказал сказала сказали говорят говорит магазин магазине магазина продавец
купил купила купили который которая которые этот эта этом свой там тут здесь чтобы сегодня вчера а
бы ли ни до над под про себя себе мой моя моё мою вам нам нас вас тоже теперь потом опять просто
""".split())
_EN_WORDS = frozenset("""
the a an and or i me my we our us you your they them their he she it its is was were are be been
have has had do did does not no to of in on at for with from by this that there but so if when what who
which after before said says told asked would will can could should shop store receipt price money refund
cashier seller bought paid card cash gave give didn don doesn won wouldn isn wasn weren t s got get
tag tags shelf expired sold sell selling charged charge twice scale scales fuel pump bank loan
insurance police fraud scam stolen bus driver internet phone mobile service order delivered delivery
again all any also because very just only still never please help complaint problem yesterday today
bad good terrible awful horrible worst rude staff experience place food water milk bread meat medicine pharmacy
bill bills electricity heating gas taxi hotel restaurant cafe waiter manager wrong broken fake dirty late
overcharged cheated told wanted tried went came called call asked answer answered nobody nothing anything
""".split())

_KK_SUFFIX_RE = re.compile(
    r"(?:мады|меди|пады|педи|бады|беди|майды|мейди|пайды|пейди|байды|бейди|мадым|медим|"
    r"дагы|деги|тагы|теги|ганмын|генмин|канмын|кенмин|ганда|генде|канда|кенде|"
    r"ларды|лерди|дарды|дерди|тарды|терди|лардын|лердин|ларга|лерге|лардан|лерден|ларын|лерин|"
    r"сыз|сиз|ыныз|иниз|ынызды|ыкты|икти|ып)$"
)
_KK_SUFFIX_EXCEPTIONS = frozenset({"тип", "сып", "сиз", "сыз", "вниз", "было"})
_RU_SUFFIX_RE = re.compile(r"(?:ся|сь|ть|ться|ого|его|ому|ему|ими|ыми|ый|ий|ая|яя|ое|ее|ую|юю|ешь|ете|ите|ют|ят)$")


def _script(token: str) -> tuple[bool, bool]:
    return bool(_CYR_RE.search(token)), bool(_LAT_RE.search(token))


def _prepare(text: str) -> str:
    """NFC, lowercase, one apostrophe, no stray combining marks (e.g. the dot from a lowercased İ)."""
    text = unicodedata.normalize("NFC", text or "").lower().translate(_APOSTROPHES)
    text = text.replace("_", " ")
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _transliterate(token: str) -> str:
    """A Latin-script Kazakh/Russian word in Cyrillic (folded alphabet)."""
    for src, dst in _APOSTROPHE_DIGRAPHS.items():
        token = token.replace(src, dst)
    token = token.replace("'", "")
    if token.endswith("ng"):
        token = token[:-2] + "н"  # Kazakh ң typed as ng: mening → менин
    for src, dst in _LATIN_DIGRAPHS:
        token = token.replace(src, dst)
    # й after a vowel: Latin Kazakh writes it i (qaitaru, keiin, úi), Latin Russian often y (moy, novyy).
    token = _LATIN_SHORT_I.sub("й", token)
    return "".join(_LATIN_SPECIAL.get(ch) or _LATIN_SINGLE.get(ch, ch) for ch in token)


def _fix_mixed(token: str) -> str:
    """A Cyrillic word with some Latin letters in it: look-alikes become Cyrillic, the rest is transliterated."""
    out = []
    for ch in token:
        if "a" <= ch <= "z":
            out.append(_HOMOGLYPHS.get(ch) or _LATIN_SINGLE[ch])
        else:
            out.append(_LATIN_SPECIAL.get(ch, ch))
    return "".join(out).replace("'", "")


def _fold(token: str) -> str:
    return token.translate(_KK_FOLD)


def _kk_signal(folded: str, had_kk_letter: bool) -> float:
    if had_kk_letter:
        return 1.0  # one vote per word: a few Kazakh words must not outvote a Russian sentence
    if folded in _KK_WORDS:
        return 1.0
    if len(folded) >= 4 and folded not in _KK_SUFFIX_EXCEPTIONS and _KK_SUFFIX_RE.search(folded):
        return 0.7
    return 0.0


def _ru_signal(folded: str, raw: str) -> float:
    if folded in _RU_WORDS:
        return 1.0
    score = 0.0
    if len(folded) >= 4 and _RU_SUFFIX_RE.search(folded):
        score += 0.5
    if any(ch in raw for ch in "ьъщё"):
        score += 0.5
    return min(score, 1.0)


@lru_cache(maxsize=2048)
def _analyse(text: str) -> tuple[tuple[str, ...], str]:
    """Normalised tokens and the detected language, computed together (both need the Latin decision)."""
    raw_tokens = _TOKEN_RE.findall(_prepare(text))
    latin = []
    for tok in raw_tokens:
        cyr, lat = _script(tok)
        if lat and not cyr:
            latin.append(tok)

    # Is the Latin part English, or Kazakh/Russian written in Latin letters?
    en_score = sum(1.0 for t in latin if t.strip("'") in _EN_WORDS or t.split("'")[0] in _EN_WORDS)
    translit_score = 0.0
    for t in latin:
        if t in _KEEP_LATIN or any(c.isdigit() for c in t):
            continue
        if any(c in _KK_LATIN_MARKERS for c in t) or "'" in t[1:-1]:
            translit_score += 1.0
            continue
        cyr_form = _transliterate(t)
        translit_score += max(_kk_signal(cyr_form, False), _ru_signal(cyr_form, cyr_form))
        if re.search(r"q(?!u)", t):
            translit_score += 1.0
    # English only on some English evidence: Latin words with no signal either way ("sut kyshkyl eken") are
    # more likely Kazakh or Russian typed in Latin here than English, and transliterating them costs English
    # nothing (no English rule or feature matches a word that is not English).
    latin_is_english = bool(latin) and en_score > 0 and translit_score <= en_score

    out: list[str] = []
    kk = ru = 0.0
    for tok in raw_tokens:
        cyr, lat = _script(tok)
        if cyr and lat:
            # Kazakh і typed with a Latin i is a Kazakh signal: Russian has no і.
            had_kk = any(ch in _KK_LETTERS for ch in tok) or "i" in tok
            norm = _fold(_fix_mixed(tok))
        elif lat:
            bare = tok.strip("'")
            if bare in _KEEP_LATIN or any(c.isdigit() for c in bare) or latin_is_english:
                out.append(bare.replace("'", " "))
                continue
            had_kk = any(c in _KK_LATIN_MARKERS for c in bare) or "'" in bare
            norm = _transliterate(bare)
        else:
            had_kk = any(ch in _KK_LETTERS for ch in tok)
            norm = _fold(tok.replace("'", ""))
        out.append(norm)
        if not cyr and not lat:
            continue  # digits
        kk += _kk_signal(norm, had_kk)
        ru += _ru_signal(norm, tok)

    if latin_is_english and en_score > 0 and en_score >= max(kk, ru):
        lang = "en"
    elif kk > ru:
        lang = "kk"
    elif ru > 0 or kk > 0:
        lang = "ru"
    elif any(_script(t)[0] for t in raw_tokens):
        lang = "ru"
    elif latin:
        lang = "en" if latin_is_english else "kk"
    else:
        lang = "ru"
    words = " ".join(out).split()
    return tuple(words), lang


def tokens(text: str) -> tuple[str, ...]:
    """The normalised words of a text."""
    return _analyse(text)[0]


def normalise(text: str) -> str:
    """Lowercased, folded, transliterated text with punctuation collapsed to single spaces."""
    return " ".join(_analyse(text)[0])


def detect_language(text: str) -> str:
    """"kk", "ru" or "en": the dominant language by counting signals."""
    return _analyse(text)[1]
