"""Scrubbing personal data out of a complaint's text before it is published in the open data (pure Python).

Only texts whose author consented to publication are scrubbed and published (docs/open-data.md). What is
replaced, with a bracketed placeholder that says what stood there:

* e-mail addresses                                      -> [email]
* Kazakhstani IBANs (KZ + 18 characters)                -> [account]
* payment card numbers (13-19 digits, grouped or not)   -> [card]
* phone numbers: +7 / 8 / 7 followed by 10 digits with any spacing, dashes or brackets, and other
  international numbers (+ and 8-15 digits)             -> [phone]
* IIN/BIN: 12 digits, also split 6+6                    -> [iin]
* any other run of 9 or more digits (accounts, contract, loyalty card, document numbers) -> [number]
* vehicle plates in the current Kazakh format (123 ABC 02, 123ABC02) -> [plate]
* Telegram/Instagram handles (@name)                    -> [handle]
* people's names, found by what surrounds them rather than by a dictionary of every name:
  - a patronymic (-ович, -евич, -овна, -евна, -ична, -инична, Kazakh -ұлы/-улы, -қызы/-кызы) with the
    capitalised words next to it;
  - initials next to a capitalised word ("Иванов И.И.", "А. Серікбаев");
  - a capitalised word after a cue that introduces a person: a role (кассир, продавец, сатушы, менеджер,
    директор, администратор, водитель, жүргізуші, курьер, врач, фармацевт, охранник, ...), a form of address
    (господин, госпожа, гражданин, мырза, ханым, апай, ағай), "меня зовут", "менің атым", "ИП" / "ЖК"
    (a sole proprietor trades under their own name), and such a word's following capitalised words;
  - a capitalised word from the list of common Kazakh and Russian first names below, with the capitalised
    word after it (the surname);
  - a capitalised word with a surname ending (-ов(а), -ев(а), -ин(а), -ский/-ская, -енко, -баев(а),
    -бекова, ...) that is not at the start of a sentence (where every word is capitalised).

What it does not catch is listed in docs/open-data.md and pinned by tests/unit/test_scrubber.py
(`KNOWN_MISSES`): names in lower case or written in Latin letters without a cue, first names outside the
list standing alone, a surname opening a sentence without a cue ("Иванов нагрубил мне."), nicknames, street addresses of a private person, phone numbers spelt out in words
or split by other characters, obfuscated e-mails ("name at mail dot ru"), and anything identifying only in
context ("the cashier with the tattoo on the morning shift"). That is why publication needs consent and why
the scrubber is a second line, not the only one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Scrubbed", "scrub", "PLACEHOLDERS"]

PLACEHOLDERS = {"email": "[email]", "account": "[account]", "card": "[card]", "phone": "[phone]",
                "iin": "[iin]", "number": "[number]", "plate": "[plate]", "handle": "[handle]", "name": "[name]"}

_UP = "A-ZА-ЯЁӘҒҚҢӨҰҮҺІ"
_LOW = "a-zа-яёәғқңөұүһі"
_WORD = f"[{_UP}][{_LOW}]+(?:-[{_UP}]?[{_LOW}]+)?"   # one capitalised word, a hyphenated one too
_SEP = r"[ \t\-\u00a0()]*"                          # what people put between phone digits

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-zА-Яа-я]{2,}")
_IBAN = re.compile(r"\bKZ\d{2}[ ]?(?:[0-9A-Z][ ]?){16}\b", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d+])\d{4}(?:[ \-]?\d{4}){2}[ \-]?\d{1,7}(?!\d)")
_PHONE_KZ = re.compile(rf"(?<![\d\w])(?:\+\s?7|8|7){_SEP}\(?\d{{3}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}(?!\d)")
_PHONE_INTL = re.compile(rf"(?<![\d\w])\+\d(?:{_SEP}\d){{7,14}}(?!\d)")
_IIN = re.compile(r"(?<!\d)\d{6}[ \-]?\d{6}(?!\d)")
_LONG = re.compile(r"(?<!\d)\d(?:[ \-]?\d){8,}(?!\d)")
_PLATE = re.compile(rf"(?<![\w])\d{{3}}[ \-]?[A-ZА-Я]{{2,3}}[ \-]?\d{{2}}(?![\w])")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_.]{3,31}")

_PATRONYMIC = re.compile(
    rf"(?:{_WORD}\s+)?{_WORD}\s+[{_UP}][{_LOW}]*(?:ович|евич|овна|евна|ична|инична)\b"
    rf"|[{_UP}][{_LOW}]*(?:ович|евич|овна|евна|ична|инична)(?:\s+{_WORD})?"
    rf"|(?:{_WORD}\s+)?{_WORD}\s+[{_UP}][{_LOW}]*\s?(?:ұлы|улы|қызы|кызы)\b")
_INITIALS = re.compile(
    rf"{_WORD}\s+[{_UP}]\.\s?(?:[{_UP}]\.)?|(?<![{_UP}{_LOW}])[{_UP}]\.\s?(?:[{_UP}]\.\s?)?{_WORD}")

# Words after which a capitalised word is a person's name. Lower case; matched case-insensitively.
_CUES = (
    # ru roles and forms of address
    "кассир", "кассирша", "кассира", "кассиру", "кассиром", "продавец", "продавца", "продавцу", "продавщица",
    "продавщицы", "менеджер", "менеджера", "менеджеру", "директор", "директора", "директору", "администратор",
    "администратора", "управляющий", "управляющего", "водитель", "водителя", "таксист", "курьер", "курьера",
    "врач", "врача", "фармацевт", "фармацевта", "провизор", "охранник", "охранника", "официант", "официанта",
    "мастер", "мастера", "сотрудник", "сотрудника", "сотрудница", "оператор", "оператора", "консультант",
    "консультанта", "господин", "госпожа", "гражданин", "гражданка", "г-н", "г-жа", "ип", "фио", "ф.и.о.",
    "зовут", "звали", "представился", "представилась",
    # kk roles and forms of address
    "сатушы", "сатушысы", "кассирі", "менеджері", "директоры", "әкімші", "жүргізуші", "жүргізушісі",
    "дәрігер", "дәрігері", "күзетші", "даяшы", "қызметкер", "қызметкері", "мырза", "ханым", "апай", "ағай",
    "атым", "есімім", "есімі", "жк", "фамилия", "фамилиясы",
    # en
    "cashier", "seller", "salesman", "saleswoman", "manager", "driver", "courier", "pharmacist", "waiter",
    "mr", "mrs", "ms", "named", "name is",
)
_CUE_WORDS = frozenset(_CUES)
_CUE = re.compile(rf"(?i:\b(?:{'|'.join(re.escape(c) for c in sorted(_CUES, key=len, reverse=True))}))"
                  rf"[\s:,—\-]+(?:[«\"]?)({_WORD}(?:\s+{_WORD}){{0,2}})")
# Kazakh puts the form of address after the name: "Айгүл апай", "Серік ағай", "Ержан мырза".
_CUE_AFTER = re.compile(rf"({_WORD}(?:\s+{_WORD})?)\s+(?:апай|ағай|мырза|ханым|ханымға|мырзаға|апайға|ағайға)\b")

# Common first names (Kazakh and Russian), in the nominative; a name in another case is caught by a cue,
# a patronymic or initials, not by this list.
_FIRST_NAMES = frozenset("""
Айгүл Айгуль Айжан Айнұр Айнур Айым Әсел Асель Ақерке Акерке Ақбота Акбота Алия Әлия Аружан Арайлым Балжан
Гүлнар Гульнар Гүлмира Гульмира Динара Дана Жанар Жанна Жұлдыз Жулдыз Зарина Индира Камила Қарлығаш Ляззат
Мадина Мақпал Меруерт Назерке Нұргүл Нургуль Салтанат Сәуле Сауле Толғанай Томирис Ұлжан Улжан Фариза
Шынар Эльмира Әйгерім Айгерим Аяулым Дариға Дарига Гаухар Гүлжан Гульжан Жансая Жібек Сабина
Асқар Аскар Айбек Айдос Алмас Арман Әлібек Алибек Асан Ахмет Бауыржан Бауржан Бақыт Бахыт Болат Дәурен Даурен
Дархан Думан Ербол Ерлан Ерлан Ержан Ерасыл Жандос Жасұлан Жасулан Қайрат Кайрат Қанат Канат Мұрат Мурат
Нұрлан Нурлан Нұрсұлтан Нурсултан Нұржан Нуржан Олжас Рустам Рүстем Сәкен Сакен Серік Серик Талғат Талгат
Тимур Темірлан Темирлан Ұлан Улан Шыңғыс Чингиз Ерғали Ергали Жанболат Азамат Алихан Бекзат Данияр
Диас Ернар Мирас Санжар
Александр Алексей Андрей Антон Артём Артем Борис Вадим Валентин Валерий Василий Виктор Виталий Владимир
Владислав Вячеслав Геннадий Георгий Григорий Денис Дмитрий Евгений Егор Иван Игорь Илья Кирилл Константин
Леонид Максим Михаил Никита Николай Олег Павел Пётр Петр Роман Сергей Станислав Степан Юрий Ярослав
Александра Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Евгения Екатерина Елена
Елизавета Жанна Зоя Инна Ирина Карина Кристина Ксения Лариса Людмила Любовь Маргарита Марина Мария Надежда
Наталья Наталия Нина Оксана Ольга Полина Светлана Софья Татьяна Юлия Яна
""".split())
_FIRST = re.compile(rf"\b({'|'.join(sorted(_FIRST_NAMES, key=len, reverse=True))})\b(?:\s+({_WORD}))?")
_SURNAME = re.compile(
    rf"\b[{_UP}][{_LOW}]+(?:ов|ова|ев|ева|ёв|ёва|ин|ина|ын|ына|ский|ская|цкий|цкая"
    rf"|енко|баев|баева|бекова|беков|ұлов|улова)\b")
# Capitalised words ending like a surname that are not people (places, chains, common sentence-inner words).
_NOT_SURNAMES = frozenset("""
Магазин Витамин Бензин Керосин Аспирин Пингвин Кофеин Атырау Ақтөбе Актобе Ақтау Актау Кокшетау Көкшетау
Семей Астана Алматы Шымкент Караганда Қарағанды Павлодар Петропавловск Костанай Қостанай Тараз Кызылорда
Қызылорда Уральск Орал Жезказган Жезқазған Талдыкорган Талдықорған Конаев Қонаев Туркестан Түркістан Экибастуз
Темиртау Рудный Балхаш Сатпаев Байконур Степногорск Аксу Риддер Щучинск Лисаковск Жанаозен Кулсары
Магнум Мечта Технодом Сулпак Каспий Халык Халық Фридом Форте Евразийский Береке Отбасы Сбербанк
Глинка Пушкин Абылайхан Назарбаев Толеби Төле Райымбек Сейфуллин Достык Жибек Жолы Розыбакиев Гагарин
Байтурсынов Жандосов Тимирязев Фурманов Богенбай Кенесары Кабанбай Ауэзов Мухтар Суюнбай Курмангазы
Шевченко Ломоносов Менделеев Рахимов Ленин Бейбітшілік Маркова
Google Yandex Kaspi Halyk Wolt Glovo Яндекс
""".split())


@dataclass(frozen=True)
class Scrubbed:
    text: str
    found: dict[str, int] = field(default_factory=dict)   # placeholder kind -> how many were replaced


def _sub(pattern: re.Pattern, kind: str, text: str, found: dict[str, int], *, group: int | None = None,
         keep=None) -> str:
    placeholder = PLACEHOLDERS[kind]

    def replace(match: re.Match) -> str:
        if keep is not None and keep(match):
            return match.group(0)
        found[kind] = found.get(kind, 0) + 1
        if group is None and kind == "name":
            # a role or form of address caught as a name's first word ("Кассир Айгүл ...") stays readable
            words = match.group(0).split(" ")
            lead = []
            while len(words) > 1 and words[0].lower() in _CUE_WORDS:
                lead.append(words.pop(0))
            return " ".join([*lead, placeholder])
        if group is None:
            return placeholder
        whole, start, end = match.group(0), match.start(group) - match.start(0), match.end(group) - match.start(0)
        return whole[:start] + placeholder + whole[end:]

    return pattern.sub(replace, text)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_STREET_BEFORE = re.compile(r"(?i:(?:ул|улица|улице|улицы|улицу|проспект|проспекте|пр|пр-т|пр-кт|бульвар|мкр|"
                            r"көшесі|даңғылы)\.?\s*)$")
_HOUSE_AFTER = re.compile(r"\s*,?\s*(?:д\.\s*)?\d")


def _street(match: re.Match) -> bool:
    """Streets carry people's names ("на Розыбакиева 247", "ул. Сейфуллина"): a street word before the
    word or a house number after it makes it an address of a shop, not a person."""
    return bool(_STREET_BEFORE.search(match.string[:match.start()]) or _HOUSE_AFTER.match(match.string, match.end()))


def _sentence_start(match: re.Match) -> bool:
    """Every word is capitalised at the start of a sentence, so a surname ending there proves nothing."""
    before = match.string[:match.start()].rstrip(" \t«\"(")
    return not before or before[-1] in ".!?…\n:;"


def scrub(text: str) -> Scrubbed:
    """The text with the personal data above replaced by placeholders, and what was found."""
    found: dict[str, int] = {}
    out = _sub(_EMAIL, "email", text, found)
    out = _sub(_HANDLE, "handle", out, found)
    out = _sub(_IBAN, "account", out, found)
    # a 16-digit run that fails the Luhn check is still some number of a person's: it goes as [number] below
    out = _sub(_CARD, "card", out, found, keep=lambda m: not _luhn(re.sub(r"\D", "", m.group(0))))
    out = _sub(_PHONE_KZ, "phone", out, found)
    out = _sub(_PHONE_INTL, "phone", out, found)
    out = _sub(_IIN, "iin", out, found)
    out = _sub(_LONG, "number", out, found)
    out = _sub(_PLATE, "plate", out, found)
    # names: the strongest signals first, so a later, weaker pattern does not split a name in two
    out = _sub(_PATRONYMIC, "name", out, found)
    out = _sub(_INITIALS, "name", out, found)
    out = _sub(_CUE, "name", out, found, group=1, keep=lambda m: m.group(1).split()[0] in _NOT_SURNAMES)
    out = _sub(_CUE_AFTER, "name", out, found, group=1, keep=lambda m: m.group(1).split()[0] in _NOT_SURNAMES)
    out = _sub(_FIRST, "name", out, found)
    out = _sub(_SURNAME, "name", out, found,
               keep=lambda m: m.group(0) in _NOT_SURNAMES or _sentence_start(m) or _street(m))
    # "[name] [name]" from two passes over one person reads as two people: one placeholder is enough
    out = re.sub(r"\[name\](?:\s+\[name\])+", "[name]", out)
    return Scrubbed(text=out, found=found)
