"""The Telegram channel: one update in, the conversation moved one step, the bot's replies out.

Three layers, each testable alone:
- `parse_update` turns the Bot API's JSON into an `Incoming` (or None for updates the bot ignores: edits,
  channel posts, group chats, service messages);
- `step` is the conversation state machine: `(Conversation | None, Incoming, Desk) -> Outcome`. It is pure:
  it reads through the `Desk` (outlets, businesses, the router, the catalogue) and writes nothing. When the
  consumer confirms, it does not submit: it asks for a submission (`Outcome.submit`), and `submitted` turns
  the result into the final state and reply;
- `handle_update` does the I/O around it: the update_id claim (Telegram re-sends on timeouts and errors),
  the conversation's optimistic save, the submission through the same `submit_complaint` as the web form, the
  chat link for later status pushes, and the Bot API calls.

What happens where, and why:
- Nothing is created until the consumer presses "Send". The complaint's Idempotency-Key is
  "telegram:<conversation nonce>", so "Send" pressed twice, or the update re-sent, finds the first complaint.
- The conversation (chat id, the text being written, a shared phone) and the chat a complaint's status goes to
  are kept on the contact vault's side (`TelegramStore`), never on the AWS tables; the chat id is never logged.
- Language: the user's Telegram `language_code` (kk, ru, en); other languages of the former USSR get Russian,
  the rest English.
- A photo of the sticker is not decoded: a QR decoder needs a native library (zbar) or OpenCV, far beyond the
  API function's budget. The bot asks for the code printed under the QR instead.
- A seller named by BIN must be registered here (its name and region come from the registry); for another
  seller the bot sends the web form's link, where the name and region can be given.
"""
from __future__ import annotations

import secrets
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

from chalicelib.domain import codes
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.errors import ConcurrentUpdate, InvalidOutletCode, ValidationFailed
from chalicelib.domain.identifiers import checksum_ok
from chalicelib.domain.model import Business, Contact, Outlet
from chalicelib.domain.routing import RoutingDecision
from chalicelib.i18n.telegram import TEXTS

LANGUAGES = ("kk", "ru", "en")
# Telegram clients set language_code from the phone's language. Who reads Russian more likely than English.
_RUSSIAN_READERS = {"ru", "uk", "be", "uz", "ky", "tg", "tk", "az", "hy", "ka", "mn", "tt", "ba", "os"}
TEXT_MIN, TEXT_MAX = 10, 5000
CONVERSATION_TTL = timedelta(days=1)   # a conversation left alone this long is forgotten
UPDATE_TTL = timedelta(days=2)         # Telegram keeps re-sending an unanswered update for at most 24 h
CHAT_LINK_TTL = timedelta(days=400)    # a complaint's life: the legal terms, a dispute, then some
# Complaints one chat may send per day (Kazakhstan time). A person with more has a case for the web form or
# the agency; a script with more is what this stops (a Telegram account is harder to renew than an address).
DAILY_LIMIT = 10
KZ_TIME = timezone(timedelta(hours=5))
SUMMARY_TEXT_MAX = 300


def language_for(language_code: str | None) -> str:
    code = (language_code or "").split("-")[0].lower()
    if code in LANGUAGES:
        return code
    return "ru" if code in _RUSSIAN_READERS else "en"


def t(key: str, lang: str, **values) -> str:
    return TEXTS[key][lang].format(**values)


# --- what comes in ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Incoming:
    """One update the bot acts on. `kind`: "text", "contact", "callback" or "photo"."""
    update_id: int
    chat_id: str
    user_id: str
    lang: str
    kind: str
    text: str = ""
    data: str = ""                      # a callback's data
    callback_id: str | None = None
    phone: str | None = None            # a shared contact's
    contact_user_id: str | None = None  # whose contact it is (Telegram sets it when the user shares their own)
    contact_name: str | None = None


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def update_id_of(update) -> int | None:
    return _int(update.get("update_id")) if isinstance(update, dict) else None


def parse_update(update: dict) -> Incoming | None:
    """The update as the conversation needs it, or None for one the bot ignores (an edited message, a channel
    post, a group chat, a sticker, a service message): those are answered 200 and dropped."""
    update_id = update_id_of(update)
    if update_id is None:
        return None
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        message, sender = callback.get("message"), callback.get("from")
        if not isinstance(message, dict) or not isinstance(sender, dict):
            return None
        chat = message.get("chat")
        if not _private(chat) or _int(sender.get("id")) is None:
            return None
        data = callback.get("data")
        return Incoming(update_id=update_id, chat_id=str(chat["id"]), user_id=str(sender["id"]),
                        lang=language_for(sender.get("language_code")), kind="callback",
                        data=data if isinstance(data, str) else "",
                        callback_id=str(callback.get("id", "")) or None)
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender = message.get("chat"), message.get("from")
    if not _private(chat) or not isinstance(sender, dict) or _int(sender.get("id")) is None:
        return None
    common = {"update_id": update_id, "chat_id": str(chat["id"]), "user_id": str(sender["id"]),
              "lang": language_for(sender.get("language_code"))}
    contact = message.get("contact")
    if isinstance(contact, dict) and isinstance(contact.get("phone_number"), str):
        owner = _int(contact.get("user_id"))
        name = " ".join(part for part in (contact.get("first_name"), contact.get("last_name"))
                        if isinstance(part, str) and part.strip())
        return Incoming(kind="contact", phone=contact["phone_number"], contact_user_id=str(owner) if owner else None,
                        contact_name=name or None, **common)
    if isinstance(message.get("text"), str):
        return Incoming(kind="text", text=message["text"], **common)
    if isinstance(message.get("photo"), list) or isinstance(message.get("document"), dict):
        return Incoming(kind="photo", **common)
    return None


def _private(chat) -> bool:
    return isinstance(chat, dict) and chat.get("type") == "private" and _int(chat.get("id")) is not None


# --- the conversation ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Conversation:
    """Where one chat's complaint stands. `step`: "seller" (asking for a code or BIN), "text", "category",
    "contact", "publish", "confirm", "done". `nonce` names this conversation: buttons carry it (a button from an older
    one is refused) and the complaint's Idempotency-Key is made of it."""
    nonce: str
    lang: str
    step: str
    outlet_code: str | None = None
    business_bin: str | None = None
    seller: str | None = None           # as shown to the consumer
    text: str | None = None
    category: str | None = None
    candidates: tuple[str, ...] = ()
    agency_id: str | None = None
    secondary: tuple[str, ...] = ()
    contact_name: str | None = None
    contact_phone: str | None = None    # E.164
    publish_consent: bool = False       # the text may go to the open data, without personal data
    complaint_id: str | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["candidates"], out["secondary"] = list(self.candidates), list(self.secondary)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Conversation":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["candidates"] = tuple(known.get("candidates") or ())
        known["secondary"] = tuple(known.get("secondary") or ())
        return cls(**known)

    @property
    def idempotency_key(self) -> str:
        return f"telegram:{self.nonce}"


@dataclass(frozen=True)
class Reply:
    """One message to the chat: plain text, with a Bot API `reply_markup` (inline buttons, the contact
    keyboard, or its removal) or none."""
    text: str
    markup: dict | None = None


@dataclass(frozen=True)
class Outcome:
    conversation: Conversation | None      # None: forget the conversation
    replies: tuple[Reply, ...] = ()
    submit: bool = False                   # the consumer confirmed: submit `conversation`, then `submitted`
    toast: str | None = None               # a callback's short answer (answerCallbackQuery)


class Desk(Protocol):
    """What the conversation reads. Nothing here writes."""
    catalog: Catalog

    def outlet(self, code: str) -> Outlet | None: ...
    def business(self, bin: str) -> Business | None: ...
    def preview(self, *, text: str, category: str | None, outlet_code: str | None) -> RoutingDecision: ...
    def form_url(self, outlet_code: str | None = None) -> str: ...


def step(conv: Conversation | None, msg: Incoming, desk: Desk, *, new_nonce: Callable[[], str]) -> Outcome:
    """The next state and the replies for one incoming message. Pure: reads through `desk` only."""
    lang = conv.lang if conv is not None else msg.lang
    if msg.kind == "text":
        command, _, argument = msg.text.strip().partition(" ")
        command = command.split("@", 1)[0].lower()  # "/start@qalqan_bot" in a client that adds the name
        if command == "/start":
            return _start(Conversation(nonce=new_nonce(), lang=msg.lang, step="seller"), argument.strip(), desk)
        if command == "/cancel":
            return Outcome(None, (Reply(t("cancelled", lang), {"remove_keyboard": True}),))
        if command == "/help":
            return Outcome(conv, (Reply(t("help", lang, form=desk.form_url())),))
    if msg.kind == "callback":
        if conv is None:  # a button of a conversation that ended or expired
            return Outcome(None, (Reply(t("stale_button", lang)),), toast=t("stale_button", lang))
        return _callback(conv, msg, desk)
    if conv is None or conv.step == "done":
        conv = Conversation(nonce=new_nonce(), lang=msg.lang, step="seller")
        if msg.kind != "text":
            return Outcome(conv, (Reply(t("photo_unsupported" if msg.kind == "photo" else "ask_seller", conv.lang)),))
        return _seller_from(conv, msg.text, desk, unreadable=())
    handler = {"seller": _seller, "text": _text, "category": _category_typed, "contact": _contact,
               "publish": _publish_typed, "confirm": _confirm_typed}[conv.step]
    return handler(conv, msg, desk)


def _start(conv: Conversation, argument: str, desk: Desk) -> Outcome:
    """/start, or /start <outlet code> from a sticker's deep link."""
    if not argument:
        return Outcome(conv, (Reply(t("ask_seller", conv.lang)),))
    return _seller_from(conv, argument, desk, unreadable=("code_unknown",))


def _seller(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    if msg.kind == "photo":
        return Outcome(conv, (Reply(t("photo_unsupported", conv.lang)),))
    if msg.kind != "text":
        return Outcome(conv, (Reply(t("ask_seller", conv.lang)),))
    return _seller_from(conv, msg.text, desk, unreadable=("not_understood",))


def _seller_from(conv: Conversation, typed: str, desk: Desk, *, unreadable: tuple[str, ...]) -> Outcome:
    """The seller from a typed code or BIN. `unreadable`: what to say when it is neither (a first message
    that is a greeting just gets the question)."""
    lang = conv.lang
    digits = "".join(ch for ch in typed if not ch.isspace())
    if digits.isascii() and digits.isdigit() and len(digits) == 12:
        if not checksum_ok(digits):
            return Outcome(conv, (Reply(t("bin_invalid", lang)),))
        business = desk.business(digits)
        if business is None or business.status != "active":
            return Outcome(conv, (Reply(t("bin_unknown", lang, form=desk.form_url())),))
        conv = replace(conv, step="text", business_bin=business.bin, seller=business.name)
        return Outcome(conv, (Reply(t("ask_text_outlet", lang, seller=business.name)),))
    try:
        code = codes.parse_outlet_code(typed)
    except InvalidOutletCode as exc:
        if exc.reason == "checksum":
            return Outcome(conv, (Reply(t("code_typo", lang)),))
        if not unreadable:
            return Outcome(conv, (Reply(t("ask_seller", lang)),))
        return Outcome(conv, tuple(Reply(t(key, lang)) for key in unreadable))
    outlet = desk.outlet(code)
    if outlet is None or not outlet.active:
        return Outcome(conv, (Reply(t("code_unknown", lang)),))
    seller = f"{outlet.name}, {outlet.address} ({codes.display_code(outlet.code)})"
    conv = replace(conv, step="text", outlet_code=outlet.code, seller=seller)
    return Outcome(conv, (Reply(t("ask_text_outlet", lang, seller=seller)),))


def clean_text(value: str) -> str:
    """As the form's schema cleans free text: no control or invisible format characters, line breaks kept."""
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")).strip()


def _text(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    if msg.kind != "text":
        return Outcome(conv, (Reply(t("ask_text_outlet", conv.lang, seller=conv.seller)),))
    text = clean_text(msg.text)
    if len(text) > TEXT_MAX:
        return Outcome(conv, (Reply(t("text_too_long", conv.lang)),))
    if len(text) < TEXT_MIN or not any(unicodedata.category(ch).startswith("L") for ch in text):
        return Outcome(conv, (Reply(t("text_too_short", conv.lang)),))
    decision = desk.preview(text=text, category=None, outlet_code=conv.outlet_code)
    conv = replace(conv, text=text)
    if decision.needs_category:
        candidates = tuple(c for c in decision.candidates if c in desk.catalog.categories)
        if candidates:
            conv = replace(conv, step="category", candidates=candidates)
            return Outcome(conv, (_category_question(conv, desk),))
    return _routed(conv, decision, desk)


def _category_question(conv: Conversation, desk: Desk) -> Reply:
    rows = [[{"text": desk.catalog.categories[cat].name[conv.lang], "callback_data": f"cat:{conv.nonce}:{cat}"}]
            for cat in conv.candidates]
    rows.append([{"text": t("category_unknown_button", conv.lang), "callback_data": f"cat:{conv.nonce}:-"}])
    return Reply(t("ask_category", conv.lang), {"inline_keyboard": rows})


def _category_typed(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    return Outcome(conv, (_category_question(conv, desk),))


def _agency(desk: Desk, agency_id: str | None, lang: str) -> str:
    agency = desk.catalog.agencies.get(agency_id) if agency_id else None
    return agency.name[lang] if agency is not None else (agency_id or "")


def _routed(conv: Conversation, decision: RoutingDecision, desk: Desk) -> Outcome:
    """The routing preview, then the contact question."""
    conv = replace(conv, step="contact", agency_id=decision.agency_id,
                   secondary=tuple(a for a in decision.secondary if a in desk.catalog.agencies))
    lang = conv.lang
    preview = t("preview", lang, agency=_agency(desk, conv.agency_id, lang))
    if conv.secondary:
        preview += "\n" + t("preview_also", lang, agencies=", ".join(_agency(desk, a, lang) for a in conv.secondary))
    return Outcome(conv, (Reply(preview), _contact_question(conv)))


def _contact_question(conv: Conversation) -> Reply:
    lang = conv.lang
    keyboard = {"keyboard": [[{"text": t("share_button", lang), "request_contact": True}],
                             [{"text": t("skip_button", lang)}]],
                "resize_keyboard": True, "one_time_keyboard": True}
    return Reply(t("ask_contact", lang, skip=t("skip_button", lang)), keyboard)


def normalise_phone(raw: str) -> str | None:
    """A shared phone in E.164 if it is a valid Kazakhstan number (the form accepts only those), else None.
    Telegram sends it with or without the leading "+"."""
    import phonenumbers  # ~35 ms: only when someone shares a number

    digits = "".join(ch for ch in raw if ch.isdigit())
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "KZ":
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _contact(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    lang = conv.lang
    if msg.kind == "contact":
        if msg.contact_user_id != msg.user_id:
            return Outcome(conv, (Reply(t("contact_not_own", lang)), _contact_question(conv)))
        phone = normalise_phone(msg.phone or "")
        if phone is None:
            return Outcome(conv, (Reply(t("contact_not_kz", lang)), _contact_question(conv)))
        conv = replace(conv, step="publish", contact_phone=phone, contact_name=(msg.contact_name or "")[:200] or None)
        return Outcome(conv, (Reply(t("contact_received", lang), {"remove_keyboard": True}), _publish_question(conv)))
    if msg.kind == "text" and msg.text.strip() in {t("skip_button", code) for code in LANGUAGES} | {"/skip"}:
        conv = replace(conv, step="publish", contact_phone=None, contact_name=None)
        return Outcome(conv, (Reply(t("contact_skipped", lang), {"remove_keyboard": True}), _publish_question(conv)))
    return Outcome(conv, (_contact_question(conv),))


def _publish_question(conv: Conversation) -> Reply:
    """The open-data consent, as the form asks it (contract: "publish_consent", default no)."""
    lang = conv.lang
    buttons = [[{"text": t("publish_yes_button", lang), "callback_data": f"pub:{conv.nonce}:1"},
                {"text": t("publish_no_button", lang), "callback_data": f"pub:{conv.nonce}:0"}]]
    return Reply(t("ask_publish", lang), {"inline_keyboard": buttons})


def _publish_typed(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    return Outcome(conv, (_publish_question(conv),))


def masked_phone(phone: str) -> str:
    return f"{phone[:2]} {phone[2]}** *** ** {phone[-2:]}" if phone.startswith("+7") and len(phone) == 12 else "***"


def _summary(conv: Conversation, desk: Desk) -> Reply:
    lang = conv.lang
    text = conv.text or ""
    if len(text) > SUMMARY_TEXT_MAX:
        text = text[:SUMMARY_TEXT_MAX].rstrip() + "…"
    contact = masked_phone(conv.contact_phone) if conv.contact_phone else t("anonymous", lang)
    body = t("summary", lang, seller=conv.seller, text=text, agency=_agency(desk, conv.agency_id, lang),
             contact=contact, published=t("yes" if conv.publish_consent else "no", lang))
    buttons = [[{"text": t("send_button", lang), "callback_data": f"send:{conv.nonce}"},
                {"text": t("cancel_button", lang), "callback_data": f"cancel:{conv.nonce}"}]]
    return Reply(body, {"inline_keyboard": buttons})


def _confirm_typed(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    return Outcome(conv, (Reply(t("press_a_button", conv.lang)), _summary(conv, desk)))


def _callback(conv: Conversation, msg: Incoming, desk: Desk) -> Outcome:
    action, _, rest = msg.data.partition(":")
    nonce, _, value = rest.partition(":")
    lang = conv.lang
    if nonce != conv.nonce:
        return Outcome(conv, (Reply(t("stale_button", lang)),), toast=t("stale_button", lang))
    if action == "send" and conv.step == "done":
        return Outcome(conv, (), toast=t("already_sent_toast", lang, id=conv.complaint_id))
    if action == "send" and conv.step == "confirm":
        return Outcome(conv, (), submit=True)
    if action == "cancel" and conv.step in ("category", "contact", "publish", "confirm"):
        return Outcome(None, (Reply(t("cancelled", lang), {"remove_keyboard": True}),), toast=t("cancelled", lang))
    if action == "pub" and conv.step == "publish" and value in ("0", "1"):
        conv = replace(conv, step="confirm", publish_consent=value == "1")
        return Outcome(conv, (_summary(conv, desk),))
    if action == "cat" and conv.step == "category":
        category = value if value in conv.candidates else None
        if value != "-" and category is None:
            return Outcome(conv, (_category_question(conv, desk),))
        conv = replace(conv, category=category, candidates=())
        decision = desk.preview(text=conv.text or "", category=category, outlet_code=conv.outlet_code)
        return _routed(conv, decision, desk)
    # a button of this conversation pressed out of turn (twice, or after the conversation moved on): its
    # question was answered already; the callback is acknowledged and nothing changes
    return Outcome(conv, (), toast=None)


def submitted(conv: Conversation, *, complaint_id: str, agency_id: str, link: str, desk: Desk,
              replayed: bool = False) -> Outcome:
    """After the submission: the conversation is done and keeps the id (a second "Send" gets the link again)."""
    conv = replace(conv, step="done", complaint_id=complaint_id, agency_id=agency_id)
    key = "already_sent" if replayed else "submitted"
    return Outcome(conv, (Reply(t(key, conv.lang, id=complaint_id, agency=_agency(desk, agency_id, conv.lang),
                                  link=link)),))


# --- the I/O around it --------------------------------------------------------------------------------------
class TelegramStore(Protocol):
    """The bot's memory, kept on the contact vault's side (chat ids and conversations are personal data)."""
    def claim_update(self, update_id: int, *, now: datetime, lease_seconds: float) -> str:
        """'claimed' (go ahead), 'done' (handled before: skip) or 'busy' (another worker has it now)."""
    def complete_update(self, update_id: int, *, now: datetime) -> None: ...
    def release_update(self, update_id: int) -> None:
        """Give a claim up after a failure, so Telegram's retry is handled."""
    def conversation(self, chat_id: str) -> tuple[dict | None, int]:
        """A chat's stored conversation (None if none or expired) and its version (0: none stored)."""
    def save_conversation(self, chat_id: str, state: dict | None, *, version: int, now: datetime) -> None:
        """Store (or with None, end) a conversation if its stored version is still `version`, else raise
        ConcurrentUpdate."""
    def reserve_complaint(self, chat_id: str, day: str, nonce: str, *, limit: int, now: datetime) -> bool:
        """Count conversation `nonce` against the chat's complaints of `day`; False if `limit` were passed. A
        nonce already counted is always True (a retried Send)."""
    def link_complaint(self, complaint_id: str, chat_id: str, lang: str, *, now: datetime) -> None: ...
    def chat_for(self, complaint_id: str) -> tuple[str, str] | None:
        """(chat id, language) a complaint's status changes go to."""


class BotApi(Protocol):
    def send_message(self, chat_id: str, text: str, *, reply_markup: dict | None = None) -> None: ...
    def answer_callback_query(self, callback_id: str, *, text: str | None = None) -> None: ...


class BotApiError(Exception):
    """A Bot API call failed. The message never holds the token (it is part of the URL)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class Handled:
    """What handling an update did (for the log and the tests; nothing personal)."""
    status: str                 # "handled" | "duplicate" | "busy" | "ignored"
    step: str | None = None
    complaint_id: str | None = None
    created: bool = False
    sent: int = 0
    send_failures: int = 0
    notes: list[str] = field(default_factory=list)


LEASE_SECONDS = 60.0


def handle_update(update: dict, *, store: TelegramStore, bot: BotApi, desk: Desk, submit, clock,
                  link_for: Callable[[str], str], new_nonce: Callable[[], str] = lambda: secrets.token_hex(6)
                  ) -> Handled:
    """Handle one webhook update at most once.

    The update_id is claimed first (a conditional write); a re-sent update that was handled is acknowledged and
    dropped. Any failure before the conversation is saved releases the claim and raises, so Telegram's retry
    runs it again. `submit(conversation)` returns a complaints Submission (the same use case as the web form).
    The replies are sent after the save: a Bot API failure then is logged and the update still counts as
    handled (the consumer sees the next prompt when they write again; replaying the step would move it twice).
    """
    update_id = update_id_of(update)
    msg = parse_update(update)
    if update_id is None or msg is None:
        return Handled("ignored")
    now = clock.now()
    claim = store.claim_update(update_id, now=now, lease_seconds=LEASE_SECONDS)
    if claim != "claimed":
        return Handled("duplicate" if claim == "done" else "busy")
    try:
        outcome, result = _advance(msg, store=store, desk=desk, submit=submit, clock=clock, link_for=link_for,
                                   new_nonce=new_nonce)
    except BaseException:
        store.release_update(update_id)
        raise
    store.complete_update(update_id, now=clock.now())
    result.sent, result.send_failures = _send(bot, msg, outcome)
    return result


def _advance(msg: Incoming, *, store, desk, submit, clock, link_for, new_nonce) -> tuple[Outcome, Handled]:
    for _ in range(3):  # two updates of one chat at once: the later save loses and re-reads
        state, version = store.conversation(msg.chat_id)
        conv = Conversation.from_dict(state) if state else None
        outcome = step(conv, msg, desk, new_nonce=new_nonce)
        result = Handled("handled")
        if outcome.submit:
            outcome, result = _submit(outcome.conversation, msg, store=store, desk=desk, submit=submit, clock=clock,
                                      link_for=link_for)
        final = outcome.conversation
        try:
            store.save_conversation(msg.chat_id, final.to_dict() if final else None, version=version, now=clock.now())
        except ConcurrentUpdate:
            continue
        result.step = final.step if final else None
        return outcome, result
    raise ConcurrentUpdate("the conversation kept changing under this update")


def _submit(conv: Conversation, msg: Incoming, *, store, desk, submit, clock, link_for) -> tuple[Outcome, Handled]:
    # The chat link is written after the complaint: if that write fails, the claim is released, Telegram
    # re-sends, and the replayed submission (same Idempotency-Key) finds the complaint and writes the link.
    day = clock.now().astimezone(KZ_TIME).date().isoformat()
    if not store.reserve_complaint(msg.chat_id, day, conv.nonce, limit=DAILY_LIMIT, now=clock.now()):
        # the conversation stays at "Send": tomorrow the same button works
        reply = Reply(t("daily_limit", conv.lang, limit=DAILY_LIMIT, form=desk.form_url(conv.outlet_code)))
        return Outcome(conv, (reply,)), Handled("handled", notes=["daily_limit"])
    try:
        submission = submit(conv)
    except ValidationFailed as exc:
        reason = t(refusal_reason(exc.fields or {}), conv.lang)
        return Outcome(None, (Reply(t("submit_refused", conv.lang, reason=reason)),)), Handled("handled")
    complaint = submission.complaint
    store.link_complaint(complaint.id, msg.chat_id, conv.lang, now=clock.now())
    outcome = submitted(conv, complaint_id=complaint.id, agency_id=complaint.agency_id,
                        link=link_for(complaint.id), desk=desk, replayed=not submission.created)
    return outcome, Handled("handled", complaint_id=complaint.id, created=submission.created)


# A refused submission's field errors, as the conversation says them. The error's own message is English and
# written for a developer; the consumer gets a reason in the conversation's language, chosen by the field and code.
_REFUSALS = (("outlet_code", "outlet_gone"), ("business", "seller_gone"), ("contact.phone", "phone_refused"),
             ("text", "text_refused"))


def refusal_reason(fields: dict) -> str:
    """The TEXTS key that says why the submission was refused: by the first refused field the table knows (each
    of those fields has one reason a consumer can act on, whatever its code), else a general one."""
    for path in fields:
        for prefix, key in _REFUSALS:
            if path == prefix or path.startswith(prefix + "."):
                return key
    return "refused_other"


def _send(bot: BotApi, msg: Incoming, outcome: Outcome) -> tuple[int, int]:
    sent = failed = 0
    if msg.kind == "callback" and msg.callback_id:
        try:
            bot.answer_callback_query(msg.callback_id, text=(outcome.toast or None) and outcome.toast[:200])
        except BotApiError:
            failed += 1
    for reply in outcome.replies:
        try:
            bot.send_message(msg.chat_id, reply.text, reply_markup=reply.markup)
            sent += 1
        except BotApiError:
            failed += 1
    return sent, failed

