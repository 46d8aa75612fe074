"""Every text the server shows a person, in kk, ru and en, keyed by a stable code.

The words follow docs/glossary.md (one word per thing, the same in the web pages and the consoles).
Field texts may name the error's context with `{placeholders}` (pydantic's `min_length`, `ge`, `le`...);
each language of an entry uses the same placeholders, which tests/unit/test_i18n.py checks.
This is plain data: the QR resolver imports it on a cold start, so nothing here may import anything.
"""

# Top-level API error messages, by `error.code`. English is the server's own text when it has one
# (more specific, e.g. naming the limit); the "en" here is what a client sees when it has none.
ERRORS = {
    "validation_failed": {
        "kk": "Кейбір өрістер дұрыс толтырылмаған.",
        "ru": "Некоторые поля заполнены неверно.",
        "en": "Some fields are invalid.",
    },
    "malformed_json": {
        "kk": "Сұрау денесі дұрыс JSON емес.",
        "ru": "Тело запроса — некорректный JSON.",
        "en": "The request body is not valid JSON.",
    },
    "payload_too_large": {
        "kk": "Сұрау тым үлкен (64 КБ-тан асады).",
        "ru": "Запрос слишком большой (больше 64 КБ).",
        "en": "The request is too large (over 64 KB).",
    },
    "invalid_outlet_code": {
        "kk": "Сауда нүктесінің кодында қате бар. Жапсырмадағы кодты тексеріңіз.",
        "ru": "В коде торговой точки опечатка. Проверьте код на наклейке.",
        "en": "The outlet code has a typo. Check the code on the sticker.",
    },
    "outlet_not_found": {
        "kk": "Бұл кодпен белсенді сауда нүктесі жоқ.",
        "ru": "Нет действующей торговой точки с таким кодом.",
        "en": "No active outlet has this code.",
    },
    "complaint_not_found": {
        "kk": "Шағым табылмады немесе сілтеме қате.",
        "ru": "Жалоба не найдена, или ссылка неверна.",
        "en": "Complaint not found, or the link is wrong.",
    },
    # «Предприятие / кәсіпорын» left out sole proprietors, who have an IIN, not a BIN.
    "business_not_found": {
        "kk": "Мұндай БСН/ЖСН-мен сатушы тіркелмеген.",
        "ru": "Продавец с таким БИН/ИИН не зарегистрирован.",
        "en": "No seller with this BIN/IIN is registered.",
    },
    "open_data_file_not_found": {
        "kk": "Мұндай атаулы ашық деректер файлы жоқ.",
        "ru": "Файла открытых данных с таким именем нет.",
        "en": "No open-data file has this name.",
    },
    "open_data_unavailable": {
        "kk": "Бұл орнатуда ашық деректер қолжетімсіз.",
        "ru": "Открытые данные на этой установке недоступны.",
        "en": "The open data is not available on this installation.",
    },
    "idempotency_key_reused": {
        "kk": "Бұл сұрау кілті басқа сұрауға қолданылған.",
        "ru": "Этот ключ запроса уже использован для другого запроса.",
        "en": "This request key was already used for another request.",
    },
    "conflict": {
        "kk": "Деректер бұрын тіркелген мәліметтерге қайшы келеді.",
        "ru": "Данные противоречат уже записанным.",
        "en": "The data contradicts what is already stored.",
    },
    "invalid_transition": {
        "kk": "Шағымның қазіргі мәртебесінде бұл әрекетті орындауға болмайды.",
        "ru": "В текущем статусе жалобы это действие невозможно.",
        "en": "This action is not possible in the complaint's current status.",
    },
    "concurrent_update": {
        "kk": "Шағымды осы уақытта басқа біреу өзгертті. Бетті жаңартып, қайталап көріңіз.",
        "ru": "Жалобу только что изменил кто-то другой. Обновите страницу и попробуйте ещё раз.",
        "en": "Someone else changed this complaint just now. Reload it and try again.",
    },
    "feedback_already_given": {
        "kk": "Сатушының ұсынысына жауабыңыз бұрын қабылданған.",
        "ru": "Ваш ответ на предложение продавца уже принят.",
        "en": "Your answer to the seller's offer has already been recorded.",
    },
    "unauthorized": {
        "kk": "Кіру кілті жоқ немесе жарамсыз.",
        "ru": "Ключ доступа не указан или недействителен.",
        "en": "The access key is missing or invalid.",
    },
    "key_expired": {
        "kk": "Кіру кілтінің мерзімі өтті. Әкімшіден жаңа кілт сұраңыз.",
        "ru": "Срок действия ключа доступа истёк. Запросите новый ключ у администратора.",
        "en": "The access key has expired. Ask the administrator for a new one.",
    },
    "key_not_found": {
        "kk": "Мұндай кіру кілті жоқ.",
        "ru": "Такого ключа доступа нет.",
        "en": "No such access key.",
    },
    "forbidden": {
        "kk": "Бұл кілтпен бұл әрекетке рұқсат жоқ.",
        "ru": "Этому ключу это действие запрещено.",
        "en": "This key may not do this.",
    },
    "limit_reached": {
        "kk": "Бір құрылғыдан немесе мекенжайдан тым көп бағалау. Ертең қайталап көріңіз.",
        "ru": "Слишком много оценок с одного устройства или адреса. Попробуйте завтра.",
        "en": "Too many ratings from one device or address. Try again tomorrow.",
    },
    "not_found": {"kk": "Табылмады.", "ru": "Не найдено.", "en": "Not found."},
    "bad_request": {"kk": "Сұрау дұрыс емес.", "ru": "Некорректный запрос.", "en": "Bad request."},
    "invalid_cursor": {
        "kk": "Бет курсоры жарамсыз немесе ескірген. Тізімді басынан ашыңыз.",
        "ru": "Курсор страницы неверный или устарел. Откройте список с начала.",
        "en": "The page cursor is invalid or stale. Open the list from the start.",
    },
    "invalid_limit": {
        "kk": "limit мәні рұқсат етілген аралықта емес.",
        "ru": "Значение limit вне допустимого диапазона.",
        "en": "The limit is out of range.",
    },
    "invalid_bin": {"kk": "БСН/ЖСН дұрыс емес.", "ru": "Неверный БИН/ИИН.", "en": "Invalid BIN/IIN."},
    "invalid_request_id": {
        "kk": "X-Request-Id тақырыбы жарамсыз: 1–64 таңба, тек латын әріптері, цифрлар, «-» және «_».",
        "ru": "Неверный заголовок X-Request-Id: 1–64 символа, только латинские буквы, цифры, «-» и «_».",
        "en": "Invalid X-Request-Id header: 1-64 characters, Latin letters, digits, '-' and '_' only.",
    },
    "method_not_allowed": {
        "kk": "Бұл әдіске рұқсат жоқ.",
        "ru": "Этот метод не поддерживается.",
        "en": "This method is not allowed.",
    },
    "unsupported_media_type": {
        "kk": "Деректерді JSON түрінде жіберіңіз.",
        "ru": "Отправьте данные в формате JSON.",
        "en": "Send the data as JSON.",
    },
    "too_many_requests": {
        "kk": "Тым көп сұрау жіберілді. Бір минуттан кейін қайталап көріңіз.",
        "ru": "Слишком много запросов. Попробуйте через минуту.",
        "en": "Too many requests. Try again in a minute.",
    },
    "internal_error": {
        "kk": "Біз жақта ақау шықты. Сәлден кейін қайталап көріңіз.",
        "ru": "На нашей стороне произошла ошибка. Попробуйте чуть позже.",
        "en": "Something went wrong on our side. Please try again shortly.",
    },
}

# Per-field messages, by `fields[path].code`: pydantic v2's error types and our own codes.
FIELDS = {
    "missing": {"kk": "Міндетті өріс.", "ru": "Обязательное поле.", "en": "Required field."},
    "string_too_short": {
        "kk": "Кемінде {min_length} таңба керек.",
        "ru": "Нужно не меньше {min_length} символов.",
        "en": "At least {min_length} characters.",
    },
    "string_too_long": {
        "kk": "{max_length} таңбадан аспауы керек.",
        "ru": "Не больше {max_length} символов.",
        "en": "At most {max_length} characters.",
    },
    "too_short": {
        "kk": "Кемінде {min_length} элемент керек.",
        "ru": "Нужно не меньше {min_length} элементов.",
        "en": "At least {min_length} items.",
    },
    "too_long": {
        "kk": "{max_length} элементтен аспауы керек.",
        "ru": "Не больше {max_length} элементов.",
        "en": "At most {max_length} items.",
    },
    "extra_forbidden": {
        "kk": "Бұл өрісті жіберуге болмайды.",
        "ru": "Это поле передавать нельзя.",
        "en": "This field is not allowed.",
    },
    "literal_error": {"kk": "Рұқсат етілмеген мән.", "ru": "Недопустимое значение.", "en": "Value not allowed."},
    "enum": {"kk": "Рұқсат етілмеген мән.", "ru": "Недопустимое значение.", "en": "Value not allowed."},
    "invalid": {"kk": "Мәні дұрыс емес.", "ru": "Неверное значение.", "en": "Invalid value."},
    "out_of_range": {
        "kk": "Мәні рұқсат етілген аралықта емес.",
        "ru": "Значение вне допустимого диапазона.",
        "en": "Value out of range.",
    },
    "string_type": {"kk": "Мәтін болуы керек.", "ru": "Должно быть строкой.", "en": "Must be a string."},
    "bool_type": {"kk": "true немесе false болуы керек.", "ru": "Должно быть true или false.", "en": "Must be true or false."},
    "bool_parsing": {"kk": "true немесе false болуы керек.", "ru": "Должно быть true или false.", "en": "Must be true or false."},
    "int_type": {"kk": "Бүтін сан болуы керек.", "ru": "Должно быть целым числом.", "en": "Must be a whole number."},
    "int_parsing": {"kk": "Бүтін сан болуы керек.", "ru": "Должно быть целым числом.", "en": "Must be a whole number."},
    "int_from_float": {"kk": "Бүтін сан болуы керек.", "ru": "Должно быть целым числом.", "en": "Must be a whole number."},
    "greater_than_equal": {
        "kk": "Кемінде {ge} болуы керек.",
        "ru": "Должно быть не меньше {ge}.",
        "en": "Must be at least {ge}.",
    },
    "less_than_equal": {
        "kk": "{le} мәнінен аспауы керек.",
        "ru": "Должно быть не больше {le}.",
        "en": "Must be at most {le}.",
    },
    "greater_than": {"kk": "{gt} мәнінен үлкен болуы керек.", "ru": "Должно быть больше {gt}.", "en": "Must be greater than {gt}."},
    "less_than": {"kk": "{lt} мәнінен кіші болуы керек.", "ru": "Должно быть меньше {lt}.", "en": "Must be less than {lt}."},
    "union_tag_invalid": {"kk": "Рұқсат етілмеген мән.", "ru": "Недопустимое значение.", "en": "Value not allowed."},
    "union_tag_not_found": {"kk": "Міндетті өріс.", "ru": "Обязательное поле.", "en": "Required field."},
    "value_error": {"kk": "Мәні дұрыс емес.", "ru": "Неверное значение.", "en": "Invalid value."},
    "date_future": {"kk": "Болашақтағы күн болуы керек.", "ru": "Дата должна быть в будущем.", "en": "Must be a future date."},
    "datetime_future": {
        "kk": "Болашақтағы күн мен уақыт болуы керек.",
        "ru": "Дата и время должны быть в будущем.",
        "en": "Must be a future date and time.",
    },
    "invalid_stars": {
        "kk": "1-ден 5-ке дейін жұлдызша қойыңыз.",
        "ru": "Поставьте от 1 до 5 звёзд.",
        "en": "Give 1 to 5 stars.",
    },
    "list_type": {"kk": "Тізім болуы керек.", "ru": "Должно быть списком.", "en": "Must be a list."},
    "model_type": {
        "kk": "Нысан (JSON object) болуы керек.",
        "ru": "Должно быть объектом (JSON object).",
        "en": "Must be an object (JSON object).",
    },
    "dict_type": {
        "kk": "Нысан (JSON object) болуы керек.",
        "ru": "Должно быть объектом (JSON object).",
        "en": "Must be an object (JSON object).",
    },
    "model_attributes_type": {
        "kk": "Нысан (JSON object) болуы керек.",
        "ru": "Должно быть объектом (JSON object).",
        "en": "Must be an object (JSON object).",
    },
    "date_from_datetime_inexact": {
        "kk": "Уақытсыз тек күні керек (ЖЖЖЖ-АА-КК).",
        "ru": "Нужна только дата, без времени (ГГГГ-ММ-ДД).",
        "en": "A date without a time is needed (YYYY-MM-DD).",
    },
    "date_type": {"kk": "Күні болуы керек.", "ru": "Должна быть дата.", "en": "Must be a date."},
    "date_parsing": {
        "kk": "Күннің пішімі дұрыс емес (ЖЖЖЖ-АА-КК).",
        "ru": "Неверный формат даты (ГГГГ-ММ-ДД).",
        "en": "Invalid date format (YYYY-MM-DD).",
    },
    "date_from_datetime_parsing": {
        "kk": "Күннің пішімі дұрыс емес (ЖЖЖЖ-АА-КК).",
        "ru": "Неверный формат даты (ГГГГ-ММ-ДД).",
        "en": "Invalid date format (YYYY-MM-DD).",
    },
    "datetime_type": {"kk": "Күні мен уақыты болуы керек.", "ru": "Должны быть дата и время.", "en": "Must be a date and time."},
    "datetime_from_date_parsing": {
        "kk": "Күні мен уақытының пішімі дұрыс емес.",
        "ru": "Неверный формат даты и времени.",
        "en": "Invalid date and time format.",
    },
    "datetime_parsing": {
        "kk": "Күні мен уақытының пішімі дұрыс емес.",
        "ru": "Неверный формат даты и времени.",
        "en": "Invalid date and time format.",
    },
    "string_pattern_mismatch": {"kk": "Пішімі дұрыс емес.", "ru": "Неверный формат.", "en": "Invalid format."},
    "no_words": {
        "kk": "Не болғанын сөзбен жазыңыз.",
        "ru": "Опишите словами, что произошло.",
        "en": "Describe what happened in words.",
    },
    "invalid_phone": {
        "kk": "Бұл қазақстандық телефон нөмірі емес (+7 7xx xxx xx xx).",
        "ru": "Это не казахстанский номер телефона (+7 7xx xxx xx xx).",
        "en": "Not a Kazakhstan phone number (+7 7xx xxx xx xx).",
    },
    "invalid_email": {
        "kk": "Электрондық пошта мекенжайы дұрыс емес.",
        "ru": "Неверный адрес электронной почты.",
        "en": "Invalid email address.",
    },
    "invalid_bin": {
        "kk": "БСН/ЖСН дұрыс емес: 12 цифр, соңғысы бақылау цифры.",
        "ru": "Неверный БИН/ИИН: 12 цифр, последняя — контрольная.",
        "en": "Invalid BIN/IIN: 12 digits, the last one a check digit.",
    },
    "unknown_region": {"kk": "Мұндай өңір жоқ.", "ru": "Такого региона нет.", "en": "No such region."},
    "unknown_category": {"kk": "Мұндай санат жоқ.", "ru": "Такой категории нет.", "en": "No such category."},
    "unknown_sector": {"kk": "Мұндай сала жоқ.", "ru": "Такой сферы нет.", "en": "No such sector."},
    "unknown_agency": {
        "kk": "Мұндай мемлекеттік орган жоқ.",
        "ru": "Такого государственного органа нет.",
        "en": "No such agency.",
    },
    "same_agency": {
        "kk": "Шағым осы органда тұр: басқа органды таңдаңыз.",
        "ru": "Жалоба уже в этом органе: выберите другой.",
        "en": "The complaint is already with this agency: choose another one.",
    },
    "in_future": {
        "kk": "Күні болашақта болмауы керек.",
        "ru": "Дата не может быть в будущем.",
        "en": "The date cannot be in the future.",
    },
    # The old «Не может быть старше трёх лет» read like an age.
    "too_old": {
        "kk": "Күні үш жылдан бұрын болмауы керек.",
        "ru": "Дата не может быть раньше чем три года назад.",
        "en": "The date cannot be more than three years ago.",
    },
    "invalid_format": {
        "kk": "Бұл сауда нүктесінің коды емес (мысалы, 7K3M-9QX2).",
        "ru": "Это не код торговой точки (например, 7K3M-9QX2).",
        "en": "Not an outlet code (for example 7K3M-9QX2).",
    },
    "invalid_checksum": {
        "kk": "Кодта қате бар: жапсырмадағы кодты тексеріңіз.",
        "ru": "В коде опечатка: проверьте код на наклейке.",
        "en": "The code has a typo: check the code on the sticker.",
    },
    "unknown_outlet": {
        "kk": "Бұл кодпен белсенді сауда нүктесі жоқ.",
        "ru": "Нет действующей торговой точки с таким кодом.",
        "en": "No active outlet has this code.",
    },
    "unknown_business": {
        "kk": "Мұндай БСН/ЖСН-мен сатушы тіркелмеген.",
        "ru": "Продавец с таким БИН/ИИН не зарегистрирован.",
        "en": "No seller with this BIN/IIN is registered.",
    },
    "seller_required": {
        "kk": "Жапсырмадағы кодты немесе сатушының БСН-ін не ЖСН-ін көрсетіңіз.",
        "ru": "Укажите код с наклейки или БИН/ИИН продавца.",
        "en": "Give the code from the sticker or the seller's BIN/IIN.",
    },
    "reused": {
        "kk": "Бұл кілт басқа сұрауға қолданылған.",
        "ru": "Этот ключ уже использован для другого запроса.",
        "en": "This key was already used for another request.",
    },
    "already_registered": {
        "kk": "Бұл БСН/ЖСН басқа мәліметтермен тіркелген.",
        "ru": "Этот БИН/ИИН уже зарегистрирован с другими данными.",
        "en": "This BIN/IIN is already registered with other details.",
    },
}

# Labels for values a complaint carries. Statuses and event types are in Russian feminine where they describe
# the complaint (жалоба); timeline labels are in the third person because every party reads the same timeline.
# A 409 names the field it concerns with the same code as the error: one wording serves both.
FIELDS.update({code: ERRORS[code] for code in ("invalid_transition", "feedback_already_given")})


def _webhook_fields() -> dict:
    # The webhook URL refusals are kept with the notification texts; merged here so an API error about a
    # webhook reads in kk and ru like every other field error.
    from chalicelib.i18n.notifications import WEBHOOK_FIELDS

    return WEBHOOK_FIELDS


FIELDS.update(_webhook_fields())

LABELS = {
    "status": {
        "routed": {
            "kk": "Мемлекеттік органға жіберілді",
            "ru": "Направлена в государственный орган",
            "en": "Sent to the state agency",
        },
        "business_responded": {"kk": "Сатушы жауап берді", "ru": "Продавец ответил", "en": "The seller has replied"},
        "in_review": {"kk": "Органда қаралуда", "ru": "На рассмотрении в органе", "en": "Under review by the agency"},
        "settled": {
            "kk": "Дау сатушымен реттелді",
            "ru": "Спор урегулирован с продавцом",
            "en": "Settled with the seller",
        },
        "resolved": {"kk": "Орган шешім қабылдады", "ru": "Орган принял решение", "en": "The agency has decided"},
        "rejected": {
            "kk": "Қараусыз қалдырылды",
            "ru": "Оставлена без рассмотрения",
            "en": "Closed without consideration",
        },
    },
    "event": {
        "submitted": {"kk": "Шағым жіберілді", "ru": "Жалоба отправлена", "en": "Complaint sent"},
        "routed": {
            "kk": "Мемлекеттік органға жіберілді",
            "ru": "Направлена в государственный орган",
            "en": "Sent to the state agency",
        },
        "taken_in_review": {
            "kk": "Орган қарауға алды",
            "ru": "Орган принял жалобу к рассмотрению",
            "en": "The agency took it into review",
        },
        "business_responded": {"kk": "Сатушы жауап берді", "ru": "Продавец ответил", "en": "The seller replied"},
        "offer_accepted": {
            "kk": "Тұтынушы сатушының ұсынысын қабылдады",
            "ru": "Потребитель принял предложение продавца",
            "en": "The consumer accepted the seller's offer",
        },
        "offer_rejected": {
            "kk": "Тұтынушы сатушының ұсынысын қабылдамады",
            "ru": "Потребитель отклонил предложение продавца",
            "en": "The consumer rejected the seller's offer",
        },
        "resolved": {"kk": "Орган шешім қабылдады", "ru": "Орган принял решение", "en": "The agency decided"},
        "rejected": {
            "kk": "Қараусыз қалдырылды",
            "ru": "Оставлена без рассмотрения",
            "en": "Closed without consideration",
        },
        "rerouted": {
            "kk": "Басқа органға қайта жіберілді",
            "ru": "Перенаправлена в другой орган",
            "en": "Passed to another agency",
        },
        "business_overdue": {
            "kk": "Сатушы мерзімінде жауап бермеді",
            "ru": "Продавец не ответил в срок",
            "en": "The seller did not reply in time",
        },
        "agency_overdue": {
            "kk": "Орган мерзімінде шешім қабылдамады",
            "ru": "Орган не принял решение в срок",
            "en": "The agency did not decide in time",
        },
    },
    "decision": {
        "violation_confirmed": {"kk": "Бұзушылық расталды", "ru": "Нарушение подтвердилось", "en": "Violation confirmed"},
        "not_confirmed": {"kk": "Бұзушылық расталмады", "ru": "Нарушение не подтвердилось", "en": "Violation not confirmed"},
        "settled": {
            "kk": "Дау сатушымен реттелді",
            "ru": "Спор урегулирован с продавцом",
            "en": "Settled with the seller",
        },
    },
    "offer": {
        "refund": {"kk": "Ақшаны қайтару", "ru": "Возврат денег", "en": "Refund"},
        "replacement": {"kk": "Тауарды ауыстыру", "ru": "Замена товара", "en": "Replacement"},
        "repair": {"kk": "Жөндеу", "ru": "Ремонт", "en": "Repair"},
        "apology": {"kk": "Кешірім сұрау", "ru": "Извинения", "en": "Apology"},
        "other": {"kk": "Басқа шешім", "ru": "Другое решение", "en": "Another solution"},
    },
    "flag": {
        "business_overdue": {
            "kk": "Сатушы мерзімінде жауап бермеді",
            "ru": "Продавец не ответил в срок",
            "en": "The seller did not reply in time",
        },
        "agency_overdue": {
            "kk": "Орган мерзімінде шешім қабылдамады",
            "ru": "Орган не принял решение в срок",
            "en": "The agency did not decide in time",
        },
    },
}

# The brand is a name, not a translation: the same in every language.
BRAND = "Қалқан · Qalqan"

# Texts of pages and print the server makes itself: the QR resolver's help page and the sticker.
TEXTS = {
    # The resolver's help page. The outlet is «сауда нүктесі / торговая точка» (not «сатушы / продавец»),
    # and a mistyped code gets its own title instead of «not found».
    "resolver.typo.title": {"kk": "Кодта қате бар", "ru": "В коде опечатка", "en": "The code has a typo"},
    "resolver.typo.body": {
        "kk": "Жапсырмадағы кодты тексеріп, қайта теріңіз.",
        "ru": "Проверьте код на наклейке и введите его ещё раз.",
        "en": "Check the code on the sticker and type it again.",
    },
    "resolver.unknown.title": {
        "kk": "Сауда нүктесі табылмады",
        "ru": "Торговая точка не найдена",
        "en": "Outlet not found",
    },
    "resolver.unknown.body": {
        "kk": "Бұл кодпен белсенді сауда нүктесі жоқ. Жапсырмадағы кодты тексеріңіз.",
        "ru": "Нет действующей торговой точки с таким кодом. Проверьте код на наклейке.",
        "en": "No active outlet has this code. Check the code on the sticker.",
    },
    "resolver.enter.title": {"kk": "Жапсырмадағы код", "ru": "Код с наклейки", "en": "Code from the sticker"},
    "resolver.enter.body": {
        "kk": "Жапсырмадағы кодты енгізіңіз.",
        "ru": "Введите код с наклейки.",
        "en": "Type the code from the sticker.",
    },
    "resolver.label": {"kk": "Жапсырмадағы код", "ru": "Код с наклейки", "en": "Code from the sticker"},
    # The same lookup is «Іздеу / Найти» in the web form: one verb for one action.
    "resolver.submit": {"kk": "Іздеу", "ru": "Найти", "en": "Find"},
    "resolver.nocode": {
        "kk": "Кодсыз шағым беру",
        "ru": "Подать жалобу без кода",
        "en": "Complain without a code",
    },
    # The sticker. Only glyphs in the shipped DejaVu subset can be printed (tests/unit/test_stickers.py).
    "sticker.question": {"kk": "Шағымыңыз бар ма?", "ru": "Есть жалоба?", "en": "Have a complaint?"},
    "sticker.scan": {"kk": "QR-кодты сканерлеңіз", "ru": "Отсканируйте QR-код", "en": "Scan the QR code"},
    "sticker.code": {"kk": "Код", "ru": "Код", "en": "Code"},
    "sticker.type_code": {"kk": "Кодты енгізіңіз", "ru": "Введите код", "en": "Enter the code"},
}

# --- Open311 (chalicelib/api/open311.py) and Web Push (chalicelib/api/push.py) -------------------------------
ERRORS.update({
    "malformed_body": {
        "kk": "Сұрау денесін оқу мүмкін емес: UTF-8 форма (name=value&...) немесе JSON жіберіңіз.",
        "ru": "Тело запроса не читается: отправьте форму UTF-8 (name=value&...) или JSON.",
        "en": "The request body cannot be read: send a UTF-8 form (name=value&...) or JSON.",
    },
    "push_unavailable": {
        "kk": "Бұл орнатуда push-хабарламалар бапталмаған.",
        "ru": "Push-уведомления на этой установке не настроены.",
        "en": "Push notifications are not configured on this installation.",
    },
    "complaint_closed": {
        "kk": "Бұл шағым жабылған: оның мәртебесі енді өзгермейді.",
        "ru": "Эта жалоба закрыта: её статус больше не изменится.",
        "en": "This complaint is closed; its status will not change again.",
    },
    "too_many_subscriptions": {
        "kk": "Бұл шағымға тым көп құрылғы жазылған. Біреуінен жазылымды алып тастаңыз.",
        "ru": "На эту жалобу подписано слишком много устройств. Отпишите одно из них.",
        "en": "Too many devices follow this complaint. Unsubscribe one of them first.",
    },
})
FIELDS.update({
    "repeated": {"kk": "Бір рет беріңіз.", "ru": "Укажите один раз.", "en": "Give it once."},
    "unknown_service": {
        "kk": "Белгісіз қызмет коды.", "ru": "Неизвестный код услуги.", "en": "Unknown service code.",
    },
    "unknown_status": {
        "kk": "open немесе closed болуы керек.", "ru": "Должно быть open или closed.", "en": "Must be open or closed.",
    },
    "invalid_datetime": {
        "kk": "W3C форматындағы күн мен уақыт керек, мысалы 2026-11-01T00:00:00Z.",
        "ru": "Нужны дата и время в формате W3C, например 2026-11-01T00:00:00Z.",
        "en": "A W3C date-time such as 2026-11-01T00:00:00Z.",
    },
    "before_start": {
        "kk": "end_date start_date-тен бұрын.", "ru": "end_date раньше start_date.",
        "en": "end_date is before start_date.",
    },
    "range_too_long": {
        "kk": "Аралық 90 күннен аспауы керек.", "ru": "Диапазон не может превышать 90 дней.",
        "en": "A range may span at most 90 days.",
    },
    "conflict": {
        "kk": "attribute[outlet_code] мәнінен өзгеше: стикер кодын бір рет беріңіз.",
        "ru": "Отличается от attribute[outlet_code]: укажите код с наклейки один раз.",
        "en": "Differs from attribute[outlet_code]: give the sticker's code once.",
    },
    "push_endpoint_refused": {
        "kk": "Бұл push-сервистің мекенжайы қабылданбайды (тек белгілі push-сервистердің https мекенжайлары).",
        "ru": "Этот адрес push-сервиса не принимается (только https-адреса известных push-сервисов).",
        "en": "This push service address is not accepted (only https addresses of known push services).",
    },
    "invalid_push_key": {
        "kk": "Жазылым кілті жарамсыз (браузер берген p256dh және auth мәндері керек).",
        "ru": "Неверный ключ подписки (нужны p256dh и auth, выданные браузером).",
        "en": "Invalid subscription key (the p256dh and auth the browser gave are needed).",
    },
})
