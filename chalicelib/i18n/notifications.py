"""The texts of notifications to people, in kk, ru and en: consumers (SMS and email) and businesses (email).

Words follow docs/glossary.md («жалоба / шағым», «Рассматривающий орган / Қарайтын орган», «предложение /
ұсыныс», the decision and offer labels of chalicelib/i18n/catalogue.py). Agencies get JSON, not prose.

Rules the texts keep (tests/unit/test_notifications.py checks them):
- never the complaint's text, the seller's answer or the agency's result: only what happened, with the
  private tracking link where the person reads the rest;
- an SMS is `sms` + a space + the link; without the link it fits two Cyrillic SMS segments (2 × 67
  characters of a concatenated UCS-2 message) even with the longest agency name in the catalogue;
- each language of an entry names the same {placeholders}.
This module is plain data, like catalogue.py.
"""

BRAND = "Qalqan"

# Consumer notifications by template. `title`: the email's subject after "Qalqan: "; `text`: the sentence
# that is the whole SMS (before the link) and the first paragraph of the email.
CONSUMER = {
    "submitted": {
        "title": {"kk": "{id} шағымы қабылданды", "ru": "жалоба {id} принята", "en": "complaint {id} received"},
        "text": {
            "kk": "{id} шағымы қабылданып, органға жіберілді: {agency}.",
            "ru": "Жалоба {id} принята и направлена в орган: {agency}.",
            "en": "Complaint {id} was received and sent to the agency: {agency}.",
        },
    },
    "rerouted": {
        "title": {
            "kk": "{id} шағымы басқа органға қайта жіберілді",
            "ru": "жалоба {id} перенаправлена в другой орган",
            "en": "complaint {id} passed to another agency",
        },
        "text": {
            "kk": "{id} шағымы басқа органға қайта жіберілді: {agency}.",
            "ru": "Жалоба {id} перенаправлена в другой орган: {agency}.",
            "en": "Complaint {id} was passed to another agency: {agency}.",
        },
    },
    "business_responded": {
        "title": {
            "kk": "сатушы {id} шағымына жауап берді",
            "ru": "продавец ответил на жалобу {id}",
            "en": "the seller replied to complaint {id}",
        },
        "text": {
            "kk": "Сатушы {id} шағымына жауап берді: {offer}. Ұсынысты сілтеме арқылы қабылдаңыз немесе қабылдамаңыз.",
            "ru": "Продавец ответил на жалобу {id}: {offer}. Примите или отклоните предложение по ссылке.",
            "en": "The seller replied to complaint {id}: {offer}. Accept or reject the offer at the link.",
        },
    },
    "settled": {
        "title": {
            "kk": "{id} шағымы бойынша дау реттелді",
            "ru": "спор по жалобе {id} урегулирован",
            "en": "complaint {id} settled",
        },
        "text": {
            "kk": "{id} шағымы бойынша дау сатушымен реттелді. Бағаңызға рахмет.",
            "ru": "Спор по жалобе {id} урегулирован с продавцом. Спасибо за оценку.",
            "en": "The dispute in complaint {id} is settled with the seller. Thank you for your rating.",
        },
    },
    "offer_rejected": {
        "title": {
            "kk": "{id} шағымы органда қалады",
            "ru": "жалоба {id} остаётся в органе",
            "en": "complaint {id} stays with the agency",
        },
        "text": {
            "kk": "Сатушының ұсынысы қабылданбады. {id} шағымын қарайтын орган: {agency}.",
            "ru": "Предложение продавца отклонено. Жалобу {id} рассмотрит: {agency}.",
            "en": "You rejected the seller's offer. The agency carries on with complaint {id}: {agency}.",
        },
    },
    "taken_in_review": {
        "title": {
            "kk": "{id} шағымы қарауға алынды",
            "ru": "жалоба {id} принята к рассмотрению",
            "en": "complaint {id} taken into review",
        },
        "text": {
            "kk": "Орган {id} шағымын қарауға алды: {agency}.",
            "ru": "Орган принял жалобу {id} к рассмотрению: {agency}.",
            "en": "The agency took complaint {id} into review: {agency}.",
        },
    },
    "resolved": {
        "title": {
            "kk": "{id} шағымы бойынша шешім қабылданды",
            "ru": "по жалобе {id} принято решение",
            "en": "decision on complaint {id}",
        },
        "text": {
            "kk": "Орган {id} шағымы бойынша шешім қабылдады: {decision}. Нәтижесі сілтемеде.",
            "ru": "Орган принял решение по жалобе {id}: {decision}. Результат по ссылке.",
            "en": "The agency decided on complaint {id}: {decision}. The result is at the link.",
        },
    },
    "rejected": {
        "title": {
            "kk": "{id} шағымы қараусыз қалдырылды",
            "ru": "жалоба {id} оставлена без рассмотрения",
            "en": "complaint {id} closed without consideration",
        },
        "text": {
            "kk": "{id} шағымы қараусыз қалдырылды. Себебі сілтемеде.",
            "ru": "Жалоба {id} оставлена без рассмотрения. Причина по ссылке.",
            "en": "Complaint {id} was closed without consideration. The reason is at the link.",
        },
    },
}

# The parts of a consumer email around the text.
CONSUMER_EMAIL = {
    "greeting": {"kk": "Сәлеметсіз бе!", "ru": "Здравствуйте!", "en": "Hello,"},
    "link": {
        "kk": "Шағымның сілтемесі (жеке сілтеме, оны ешкімге жібермеңіз):",
        "ru": "Ссылка на жалобу (личная, никому её не пересылайте):",
        "en": "Tracking link (it is private: do not share it):",
    },
    "footer": {
        "kk": "Бұл хат сізге шағымда байланыс деректерін қалдырғаныңыз үшін келді. Хатқа жауап бермеңіз: "
              "шағымды сілтеме арқылы қадағалаңыз.",
        "ru": "Вы получили это письмо, потому что оставили контакты в жалобе. Не отвечайте на него: "
              "следите за жалобой по ссылке.",
        "en": "You receive this email because you left your contact details in the complaint. Do not reply: "
              "follow the complaint at the link.",
    },
}

# The business's email about a new complaint: one email in all three languages (we do not know which one
# the business reads), Kazakh first as the state language. No consumer contact, no complaint text: the case
# is read in the business inbox.
BUSINESS_EMAIL = {
    "subject": {"kk": "жаңа шағым", "ru": "новая жалоба", "en": "new complaint"},
    "outlet": {
        "kk": "Сіздің сауда нүктеңізге жаңа шағым түсті: {outlet}. Санаты: {category}. Жауап мерзімі: {due}.",
        "ru": "На вашу торговую точку поступила новая жалоба: {outlet}. Категория: {category}. Срок ответа: до {due}.",
        "en": "A new complaint about your outlet: {outlet}. Category: {category}. Reply by: {due}.",
    },
    "seller": {
        "kk": "Сізге сатушы ретінде жаңа шағым түсті. Санаты: {category}. Жауап мерзімі: {due}.",
        "ru": "На вас как продавца поступила новая жалоба. Категория: {category}. Срок ответа: до {due}.",
        "en": "A new complaint about you as the seller. Category: {category}. Reply by: {due}.",
    },
    "open": {
        "kk": "Шағымды Сатушы кабинетінде ашыңыз:",
        "ru": "Откройте жалобу в кабинете продавца:",
        "en": "Open the complaint in the business inbox:",
    },
    "footer": {
        "kk": "Бұл хатты Qalqan жүйесі жіберді, себебі сіз хабарламалар үшін осы мекенжайды көрсеттіңіз.",
        "ru": "Это письмо отправила система Qalqan, потому что вы указали этот адрес для уведомлений.",
        "en": "Qalqan sent this email because you gave this address for notifications.",
    },
    "no_category": {"kk": "көрсетілмеген", "ru": "не указана", "en": "not given"},
}

# Field messages for a refused webhook URL (`fields.webhook_url.code`), for the consoles in kk and ru: to be
# merged into the catalogue's FIELDS, where `localise` looks field codes up. {allowed} comes from the error.
WEBHOOK_FIELDS = {
    "https_required": {
        "kk": "Мекенжай https:// деп басталуы керек.",
        "ru": "Адрес должен начинаться с https://.",
        "en": "The URL must start with https://.",
    },
    "userinfo_not_allowed": {
        "kk": "Мекенжайда пайдаланушы аты мен құпиясөз болмауы керек.",
        "ru": "В адресе не должно быть имени пользователя и пароля.",
        "en": "The URL must not carry a user name or password.",
    },
    "port_not_allowed": {
        "kk": "Порт мыналардың бірі болуы керек: {allowed}.",
        "ru": "Порт должен быть одним из: {allowed}.",
        "en": "The port must be one of: {allowed}.",
    },
    "ip_literal": {
        "kk": "IP мекенжайды емес, хост атын көрсетіңіз.",
        "ru": "Укажите имя хоста, а не IP-адрес.",
        "en": "Give the host name, not an IP address.",
    },
    "metadata_address": {
        "kk": "Вебхук бұлттың метадеректер қызметіне бағытталмауы керек.",
        "ru": "Вебхук не может указывать на сервис метаданных облака.",
        "en": "A webhook cannot point at a cloud metadata service.",
    },
    "not_public": {
        "kk": "Хост интернеттегі жария мекенжайға апаруы керек, жеке немесе ішкі мекенжайға емес.",
        "ru": "Хост должен вести на публичный адрес в интернете, а не на частный или внутренний.",
        "en": "The host must lead to a public internet address, not a private or internal one.",
    },
    "unresolvable": {
        "kk": "Хост аты DNS-те табылмады.",
        "ru": "Имя хоста не найдено в DNS.",
        "en": "The host name does not resolve in DNS.",
    },
    "invalid_url": {
        "kk": "Мекенжай дұрыс емес.",
        "ru": "Некорректный адрес.",
        "en": "The URL is not valid.",
    },
}
