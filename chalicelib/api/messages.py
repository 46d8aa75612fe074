"""Error messages in Kazakh and Russian, chosen by the request's Accept-Language.

English messages are the server's own (they can be more specific); kk and ru come from here, keyed by
the stable error and field codes, so a consumer reads every error in their language.
"""
from __future__ import annotations

ERRORS = {
    "validation_failed": {"kk": "Кейбір өрістер дұрыс толтырылмаған.", "ru": "Некоторые поля заполнены неверно."},
    "malformed_json": {"kk": "Сұрау денесі дұрыс JSON емес.", "ru": "Тело запроса — некорректный JSON."},
    "payload_too_large": {"kk": "Сұрау тым үлкен (64 КБ-тан асады).", "ru": "Запрос слишком большой (больше 64 КБ)."},
    "invalid_outlet_code": {"kk": "Сауда нүктесінің кодында қате бар. Жапсырмадағы кодты тексеріңіз.",
                            "ru": "В коде торговой точки ошибка. Проверьте код на наклейке."},
    "outlet_not_found": {"kk": "Бұл кодпен белсенді сауда нүктесі жоқ.", "ru": "Нет действующей торговой точки с таким кодом."},
    "complaint_not_found": {"kk": "Шағым табылмады немесе сілтеме қате.", "ru": "Жалоба не найдена или ссылка неверна."},
    "business_not_found": {"kk": "Мұндай БСН-мен кәсіпорын тіркелмеген.", "ru": "Предприятие с таким БИН не зарегистрировано."},
    "idempotency_key_reused": {"kk": "Бұл сұрау кілті басқа шағымға қолданылған.",
                               "ru": "Этот ключ запроса уже использован для другой жалобы."},
    "conflict": {"kk": "Деректер бұрын тіркелген мәліметтерге қайшы келеді.", "ru": "Данные противоречат уже записанным."},
    "unauthorized": {"kk": "Кіру кілті жоқ немесе жарамсыз.", "ru": "Ключ доступа не указан или недействителен."},
    "forbidden": {"kk": "Бұл кілтпен бұл әрекетке рұқсат жоқ.", "ru": "Этому ключу это действие запрещено."},
    "not_found": {"kk": "Табылмады.", "ru": "Не найдено."},
    "bad_request": {"kk": "Сұрау дұрыс емес.", "ru": "Некорректный запрос."},
    "invalid_cursor": {"kk": "Бет курсоры жарамсыз.", "ru": "Неверный курсор страницы."},
    "invalid_limit": {"kk": "limit мәні рұқсат етілген аралықта емес.", "ru": "Значение limit вне допустимого диапазона."},
    "invalid_bin": {"kk": "БСН/ЖСН дұрыс емес.", "ru": "Неверный БИН/ИИН."},
    "method_not_allowed": {"kk": "Бұл әдіске рұқсат жоқ.", "ru": "Этот метод не поддерживается."},
    "unsupported_media_type": {"kk": "Деректерді JSON түрінде жіберіңіз.", "ru": "Отправьте данные в формате JSON."},
    "internal_error": {"kk": "Біз жақта ақау шықты. Сәлден кейін қайталап көріңіз.",
                       "ru": "На нашей стороне произошла ошибка. Попробуйте чуть позже."},
}

FIELDS = {
    "missing": {"kk": "Міндетті өріс.", "ru": "Обязательное поле."},
    "string_too_short": {"kk": "Кемінде {min_length} таңба керек.", "ru": "Нужно не меньше {min_length} символов."},
    "string_too_long": {"kk": "{max_length} таңбадан аспауы керек.", "ru": "Не больше {max_length} символов."},
    "extra_forbidden": {"kk": "Бұл өрісті жіберуге болмайды.", "ru": "Это поле передавать нельзя."},
    "literal_error": {"kk": "Рұқсат етілмеген мән.", "ru": "Недопустимое значение."},
    "string_type": {"kk": "Мәтін болуы керек.", "ru": "Должно быть строкой."},
    "bool_type": {"kk": "true немесе false болуы керек.", "ru": "Должно быть true или false."},
    "model_type": {"kk": "Нысан (JSON object) болуы керек.", "ru": "Должно быть объектом (JSON object)."},
    "datetime_type": {"kk": "Күн мен уақыт болуы керек.", "ru": "Должны быть дата и время."},
    "datetime_from_date_parsing": {"kk": "Күн мен уақыт пішімі дұрыс емес.", "ru": "Неверный формат даты и времени."},
    "datetime_parsing": {"kk": "Күн мен уақыт пішімі дұрыс емес.", "ru": "Неверный формат даты и времени."},
    "string_pattern_mismatch": {"kk": "Пішімі дұрыс емес.", "ru": "Неверный формат."},
    "no_words": {"kk": "Не болғанын сөзбен жазыңыз.", "ru": "Опишите словами, что произошло."},
    "invalid_phone": {"kk": "Қазақстан телефон нөмірі емес (+7 7xx xxx xx xx).",
                      "ru": "Это не казахстанский номер телефона (+7 7xx xxx xx xx)."},
    "invalid_email": {"kk": "Электрондық пошта мекенжайы дұрыс емес.", "ru": "Неверный адрес электронной почты."},
    "invalid_bin": {"kk": "БСН/ЖСН дұрыс емес: 12 цифр, соңғысы бақылау цифры.",
                    "ru": "Неверный БИН/ИИН: 12 цифр, последняя — контрольная."},
    "unknown_region": {"kk": "Мұндай өңір жоқ.", "ru": "Такого региона нет."},
    "unknown_category": {"kk": "Мұндай санат жоқ.", "ru": "Такой категории нет."},
    "unknown_sector": {"kk": "Мұндай сала жоқ.", "ru": "Такой сферы нет."},
    "in_future": {"kk": "Болашақтағы уақыт болмауы керек.", "ru": "Не может быть в будущем."},
    "too_old": {"kk": "Үш жылдан ескі болмауы керек.", "ru": "Не может быть старше трёх лет."},
    "invalid_format": {"kk": "Бұл сауда нүктесінің коды емес (мысалы, 7K3M-9QX2).",
                       "ru": "Это не код торговой точки (например, 7K3M-9QX2)."},
    "invalid_checksum": {"kk": "Кодта қате бар: жапсырмадағы кодты тексеріңіз.",
                         "ru": "В коде опечатка: проверьте код на наклейке."},
    "unknown_outlet": {"kk": "Бұл кодпен белсенді сауда нүктесі жоқ.", "ru": "Нет действующей торговой точки с таким кодом."},
    "unknown_business": {"kk": "Мұндай БСН-мен кәсіпорын тіркелмеген.", "ru": "Предприятие с таким БИН не зарегистрировано."},
    "seller_required": {"kk": "Жапсырмадағы кодты немесе сатушының БСН-ін көрсетіңіз.",
                        "ru": "Укажите код с наклейки или БИН продавца."},
    "reused": {"kk": "Бұл кілт басқа сұрауға қолданылған.", "ru": "Этот ключ уже использован для другого запроса."},
    "already_registered": {"kk": "Бұл БСН басқа мәліметтермен тіркелген.", "ru": "Этот БИН уже зарегистрирован с другими данными."},
}


def language(accept_language: str | None) -> str:
    """The first of kk, ru, en that the client accepts, by q-value; English when none is named."""
    best, best_q = "en", -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in ("kk", "ru", "en"):
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        score = q - position * 1e-6  # equal q: the earlier one wins
        if score > best_q:
            best, best_q = lang, score
    return best


def localise(code: str, message: str, fields: dict, lang: str) -> tuple[str, dict]:
    """The top-level message and field messages in `lang` (English stays the server's own text)."""
    if lang == "en":
        return message, fields
    message = ERRORS.get(code, {}).get(lang, message)
    translated = {}
    for path, detail in fields.items():
        text = FIELDS.get(detail.get("code"), {}).get(lang)
        translated[path] = {**detail, "message": text.format(**detail) if text else detail.get("message")}
    return message, translated
