"""What the Telegram bot says, in kk, ru and en (chalicelib/services/telegram.py picks the entry and the language).

Words follow docs/glossary.md and chalicelib/i18n/notifications.py («шағым / жалоба», «орган»). Each language of
an entry names the same {placeholders} (tests/unit/test_telegram_conversation.py checks it). Plain text only:
the bot sends no parse_mode, so nothing a consumer typed can turn into markup. Plain data, like catalogue.py.
"""

TEXTS = {
    "ask_seller": {
        "kk": ("Сәлеметсіз бе! Бұл — Qalqan, тұтынушылар шағымдарының бірыңғай терезесі.\n"
               "Жапсырмадағы QR астындағы кодты жазыңыз (мысалы, VVR7-1X6B) немесе сатушының БСН/ЖСН-ін (12 цифр)."),
        "ru": ("Здравствуйте! Это Qalqan — единое окно жалоб потребителей.\n"
               "Напишите код с наклейки (под QR-кодом, например VVR7-1X6B) или БИН/ИИН продавца (12 цифр)."),
        "en": ("Hello! This is Qalqan, the one window for consumer complaints.\n"
               "Type the code from the sticker (under the QR code, e.g. VVR7-1X6B) or the seller's BIN/IIN (12 digits)."),
    },
    "photo_unsupported": {
        "kk": "Суретті оқи алмаймын. QR астында басылған кодты мәтінмен жазыңыз (мысалы, VVR7-1X6B).",
        "ru": "Фото я не читаю. Напишите текстом код, напечатанный под QR-кодом (например, VVR7-1X6B).",
        "en": "I can't read photos. Please type the code printed under the QR code (e.g. VVR7-1X6B).",
    },
    "code_typo": {
        "kk": "Кодта қате бар сияқты: жапсырмадағы кодты тексеріп, қайта жазыңыз.",
        "ru": "Похоже, в коде опечатка: сверьте код с наклейкой и напишите его ещё раз.",
        "en": "The code seems to have a typo: check it against the sticker and type it again.",
    },
    "code_unknown": {
        "kk": "Бұл кодпен белсенді сауда нүктесі жоқ. Кодты тексеріңіз немесе сатушының БСН/ЖСН-ін жазыңыз.",
        "ru": "С таким кодом нет действующей торговой точки. Проверьте код или напишите БИН/ИИН продавца.",
        "en": "No active outlet has this code. Check the code, or type the seller's BIN/IIN.",
    },
    "not_understood": {
        "kk": "Түсінбедім. Жапсырмадағы кодты (8 таңба) немесе сатушының БСН/ЖСН-ін (12 цифр) жазыңыз.",
        "ru": "Не понял. Напишите код с наклейки (8 символов) или БИН/ИИН продавца (12 цифр).",
        "en": "I didn't get that. Type the sticker's code (8 characters) or the seller's BIN/IIN (12 digits).",
    },
    "bin_invalid": {
        "kk": "Бұл жарамды БСН/ЖСН емес (бақылау цифры сәйкес келмейді). Тексеріп, қайта жазыңыз.",
        "ru": "Это не действительный БИН/ИИН (не сходится контрольная цифра). Проверьте и напишите ещё раз.",
        "en": "That is not a valid BIN/IIN (its check digit does not match). Check it and type it again.",
    },
    "bin_unknown": {
        "kk": ("Бұл БСН/ЖСН бойынша сатушы Qalqan-да тіркелмеген. Шағымды веб-форма арқылы жіберіңіз: онда "
               "сатушының атауы мен өңірін көрсетуге болады.\n{form}"),
        "ru": ("Продавец с этим БИН/ИИН не зарегистрирован в Qalqan. Отправьте жалобу через веб-форму: там можно "
               "указать название и регион продавца.\n{form}"),
        "en": ("No seller with this BIN/IIN is registered with Qalqan. Please use the web form, where you can give "
               "the seller's name and region.\n{form}"),
    },
    "ask_text_outlet": {
        "kk": "Шағым: {seller}.\nНе болғанын жазыңыз (кемінде 10 таңба): не сатып алдыңыз, не дұрыс болмады, қашан.",
        "ru": "Жалоба на: {seller}.\nОпишите, что случилось (не меньше 10 символов): что купили, что не так, когда.",
        "en": "Complaint about: {seller}.\nDescribe what happened (at least 10 characters): what you bought, what went wrong, when.",
    },
    "text_too_short": {
        "kk": "Тым қысқа. Не болғанын сөзбен, кемінде 10 таңбамен жазыңыз.",
        "ru": "Слишком коротко. Опишите словами, что случилось, не меньше 10 символов.",
        "en": "That is too short. Describe in words what happened, at least 10 characters.",
    },
    "text_too_long": {
        "kk": "Тым ұзын: ең көбі 5000 таңба. Қысқартып, қайта жіберіңіз.",
        "ru": "Слишком длинно: не больше 5000 символов. Сократите и отправьте ещё раз.",
        "en": "That is too long: 5,000 characters at most. Please shorten it and send it again.",
    },
    "ask_category": {
        "kk": "Шағым қай органға жіберілетінін нақтылау үшін санатты таңдаңыз:",
        "ru": "Чтобы точно определить, какой орган рассмотрит жалобу, выберите категорию:",
        "en": "To be sure which agency considers the complaint, choose a category:",
    },
    "category_unknown_button": {
        "kk": "Білмеймін",
        "ru": "Не знаю",
        "en": "I don't know",
    },
    "preview": {
        "kk": "Шағым мына органға жіберіледі: {agency}.",
        "ru": "Жалоба будет направлена в орган: {agency}.",
        "en": "This will go to: {agency}.",
    },
    "preview_also": {
        "kk": "Сондай-ақ көшірмесі: {agencies}.",
        "ru": "Копия также: {agencies}.",
        "en": "Also copied to: {agencies}.",
    },
    "ask_contact": {
        "kk": ("Телефон нөміріңізді бөлісесіз бе? Сонда шағымды қарайтын орган сізбен байланыса алады және мәртебе "
               "өзгерсе SMS келеді. Нөмір бөлек сақталады, сатушыға көрсетілмейді. Төмендегі батырманы басу — "
               "осыған келісім. Қаламасаңыз, «{skip}» батырмасын басыңыз."),
        "ru": ("Поделитесь номером телефона? Тогда орган, рассматривающий жалобу, сможет с вами связаться, а об "
               "изменении статуса придёт SMS. Номер хранится отдельно и продавцу не показывается. Нажимая кнопку "
               "ниже, вы на это соглашаетесь. Если не хотите — нажмите «{skip}»."),
        "en": ("Share your phone number? The agency considering the complaint can then contact you, and you get an SMS "
               "when its status changes. The number is kept separately and never shown to the seller. Pressing the "
               "button below is your consent. If you'd rather not, press “{skip}”."),
    },
    "share_button": {
        "kk": "📱 Нөмірімді бөлісу",
        "ru": "📱 Поделиться номером",
        "en": "📱 Share my number",
    },
    "skip_button": {
        "kk": "Нөмірсіз жалғастыру",
        "ru": "Продолжить без номера",
        "en": "Continue without a number",
    },
    "contact_not_own": {
        "kk": "Тек өз нөміріңізді «Нөмірімді бөлісу» батырмасымен бөлісуге болады.",
        "ru": "Можно поделиться только своим номером — кнопкой «Поделиться номером».",
        "en": "Only your own number can be shared, with the “Share my number” button.",
    },
    "contact_not_kz": {
        "kk": "Тек Қазақстандық нөмір (+7 7xx) қабылданады. Нөмірсіз жалғастыра аласыз.",
        "ru": "Принимаются только номера Казахстана (+7 7xx). Можно продолжить без номера.",
        "en": "Only a Kazakhstan number (+7 7xx) can be used. You can continue without a number.",
    },
    "contact_received": {
        "kk": "Рақмет, нөмір алынды.",
        "ru": "Спасибо, номер получен.",
        "en": "Thank you, number received.",
    },
    "contact_skipped": {
        "kk": "Жарайды, нөмірсіз.",
        "ru": "Хорошо, без номера.",
        "en": "All right, without a number.",
    },
    "ask_publish": {
        "kk": ("Шағымыңыздың мәтінін ашық деректерде, жеке деректеріңізсіз жариялауға бола ма? Бұл басқа "
               "тұтынушыларға сатушыны бағалауға көмектеседі. Шағымды қарауға әсер етпейді."),
        "ru": ("Можно ли опубликовать текст вашей жалобы в открытых данных, без ваших личных данных? Это помогает "
               "другим покупателям оценить продавца. На рассмотрение жалобы это не влияет."),
        "en": ("May the text of your complaint be published in the open data, without your personal data? It helps "
               "other buyers judge the seller. It does not change how the complaint is handled."),
    },
    "publish_yes_button": {"kk": "Иә, болады", "ru": "Да, можно", "en": "Yes, publish it"},
    "publish_no_button": {"kk": "Жоқ", "ru": "Нет", "en": "No"},
    "yes": {"kk": "иә", "ru": "да", "en": "yes"},
    "no": {"kk": "жоқ", "ru": "нет", "en": "no"},
    "summary": {
        "kk": ("Тексеріңіз:\nСатушы: {seller}\nНе болды: {text}\nОрган: {agency}\nБайланыс: {contact}\n"
               "Мәтінді жариялау: {published}\n\nЖіберейін бе?"),
        "ru": ("Проверьте:\nПродавец: {seller}\nЧто случилось: {text}\nОрган: {agency}\nКонтакт: {contact}\n"
               "Публикация текста: {published}\n\nОтправить?"),
        "en": ("Please check:\nSeller: {seller}\nWhat happened: {text}\nAgency: {agency}\nContact: {contact}\n"
               "Publish the text: {published}\n\nSend it?"),
    },
    "anonymous": {
        "kk": "жоқ (анонимді)",
        "ru": "нет (анонимно)",
        "en": "none (anonymous)",
    },
    "send_button": {
        "kk": "✅ Жіберу",
        "ru": "✅ Отправить",
        "en": "✅ Send",
    },
    "cancel_button": {
        "kk": "✖ Бас тарту",
        "ru": "✖ Отменить",
        "en": "✖ Cancel",
    },
    "press_a_button": {
        "kk": "Жіберу үшін «Жіберу» батырмасын, бас тарту үшін «Бас тарту» батырмасын басыңыз.",
        "ru": "Нажмите «Отправить», чтобы отправить, или «Отменить».",
        "en": "Press “Send” to send it, or “Cancel”.",
    },
    "submitted": {
        "kk": ("{id} шағымы жіберілді.\nҚарайтын орган: {agency}.\nБарысын осы сілтемеден бақылаңыз (оны ешкімге "
               "бермеңіз):\n{link}\nМәртебе өзгерсе, осында жазамын."),
        "ru": ("Жалоба {id} отправлена.\nРассматривающий орган: {agency}.\nСледите за ней по ссылке (никому её не "
               "передавайте):\n{link}\nКогда статус изменится, я напишу сюда."),
        "en": ("Complaint {id} has been sent.\nConsidering agency: {agency}.\nFollow it at this link (keep it to "
               "yourself):\n{link}\nI'll write here when its status changes."),
    },
    "already_sent": {
        "kk": "{id} шағымы бұрын жіберілген. Сілтеме:\n{link}",
        "ru": "Жалоба {id} уже отправлена. Ссылка:\n{link}",
        "en": "Complaint {id} was already sent. Link:\n{link}",
    },
    "already_sent_toast": {
        "kk": "{id} шағымы бұрын жіберілген (сілтеме жоғарыда).",
        "ru": "Жалоба {id} уже отправлена (ссылка выше).",
        "en": "Complaint {id} was already sent (the link is above).",
    },
    "submit_refused": {
        "kk": "Шағымды жіберу мүмкін болмады: {reason}. /start арқылы қайта бастаңыз.",
        "ru": "Не удалось отправить жалобу: {reason}. Начните заново: /start.",
        "en": "The complaint could not be sent: {reason}. Start again with /start.",
    },
    "daily_limit": {
        "kk": ("Бір чаттан тәулігіне {limit} шағымнан артық жіберілмейді. Ертең қайталаңыз немесе веб-форманы "
               "пайдаланыңыз:\n{form}"),
        "ru": "С одного чата можно отправить не больше {limit} жалоб в сутки. Попробуйте завтра или через веб-форму:\n{form}",
        "en": "One chat can send at most {limit} complaints a day. Please try again tomorrow, or use the web form:\n{form}",
    },
    "outlet_gone": {
        "kk": "сауда нүктесі енді белсенді емес",
        "ru": "торговая точка больше не действует",
        "en": "the outlet is no longer active",
    },
    "seller_gone": {
        "kk": "бұл сатушы енді Qalqan-да тіркелмеген",
        "ru": "этот продавец больше не зарегистрирован в Qalqan",
        "en": "this seller is no longer registered with Qalqan",
    },
    "phone_refused": {
        "kk": "телефон нөмірі Қазақстандық нөмір ретінде қабылданбады",
        "ru": "номер телефона не принят как казахстанский",
        "en": "the phone number was not accepted as a Kazakhstan number",
    },
    "text_refused": {
        "kk": "шағым мәтіні 10–5000 таңбадан тұрып, сөзбен жазылуы керек",
        "ru": "текст жалобы должен быть словами, от 10 до 5000 символов",
        "en": "the complaint's text must be in words, 10 to 5,000 characters",
    },
    "refused_other": {
        "kk": "шағым деректері тексеруден өтпеді",
        "ru": "данные жалобы не прошли проверку",
        "en": "the complaint's details did not pass the checks",
    },
    "cancelled": {
        "kk": "Бас тартылды, ештеңе жіберілмеді. Жаңа шағым: /start",
        "ru": "Отменено, ничего не отправлено. Новая жалоба: /start",
        "en": "Cancelled; nothing was sent. A new complaint: /start",
    },
    "stale_button": {
        "kk": "Бұл батырма ескі сұхбаттан. Жаңа шағым: /start",
        "ru": "Эта кнопка из прошлого разговора. Новая жалоба: /start",
        "en": "That button belongs to an earlier conversation. A new complaint: /start",
    },
    "help": {
        "kk": ("Мен шағымды тіркеп, тиісті органға жіберемін.\n/start — жаңа шағым\n/cancel — бас тарту\n"
               "Веб-форма: {form}"),
        "ru": ("Я принимаю жалобу и направляю её в нужный орган.\n/start — новая жалоба\n/cancel — отменить\n"
               "Веб-форма: {form}"),
        "en": ("I take a complaint and send it to the right agency.\n/start — a new complaint\n/cancel — cancel\n"
               "Web form: {form}"),
    },
    "status_changed": {
        "kk": "{text}\n{link}",
        "ru": "{text}\n{link}",
        "en": "{text}\n{link}",
    },
}
