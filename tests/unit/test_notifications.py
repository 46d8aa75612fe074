"""The notification builders (chalicelib/services/notifications.py) on the fakes, fed the same envelopes the
stream processor builds: events rebuilt by `events_between` from complaints that went through the real
lifecycle (`file_complaint`, `transition`).

What is pinned: who hears about what (agency on routing, business on a new complaint, consumer on every
status change), the SNS attributes subscriptions filter on, the consumer's language and tracking link,
that an anonymous complainant gets nothing, that no message ever carries the complaint text or the
complainant's identity where it does not belong, SMS length, masking, and channel registration.
"""
from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.bootstrap import Container
from chalicelib.domain import codes
from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.complaint import (
    ComplaintRerouted, ComplaintRouted, ComplaintSubmitted, GiveFeedback, Reject, Reroute, Resolve, Respond,
    TakeInReview, events_between, file_complaint, transition,
)
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.model import Actor, Contact
from chalicelib.domain.routing import RoutingDecision, load_rules
from chalicelib.i18n import notifications as texts
from chalicelib.services import notifications as n
from chalicelib.services.ports import Channels
from chalicelib.settings import load_settings
from chalicelib.streams.processor import Envelope
from tests.fakes import (
    FakeBusinesses, FakeChannels, FakeComplaints, FakeContactVault, FakeKeys, FakeOutlets, FakeRoutingExamples,
    FixedClock,
)

UTC = timezone.utc
SECRET = "notify-secret-notify-secret-00001"
TOPIC = "arn:aws:sns:eu-central-1:123456789012:qalqan-test-notifications"
BIN = "940140000385"
NOW = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
RULES = load_deadline_rules()
CATALOG = load_catalog()
OUTLET = codes.outlet_code_from_digest(hashlib.sha256(b"magnum-esil").digest())
# The complaint text: its distinctive words must never appear in any message.
TEXT = "Кассир Жанболат обсчитал меня на 4370 тенге за кефир Простоквашино, чек не выдали"
SECRET_WORDS = ("Жанболат", "4370", "Простоквашино", "кефир")
NAME, PHONE, EMAIL = "Айгерим Сейтқали", "+77011234567", "aigerim.s@mail.kz"
ANSWER = "Приносим извинения, кассир Жанболат вернёт разницу 4370 тенге"
RESULT = "Проверка в Magnum: кефир Простоквашино пробит дважды, наложен штраф"


def settings(topic: str | None = TOPIC):
    env = {"QALQAN_SECRET": SECRET, "AWS_REGION": "eu-central-1", "WEB_BASE_URL": "https://qalqan.kz/"}
    if topic:
        env["NOTIFICATIONS_TOPIC_ARN"] = topic
    return load_settings(env)


def make_container(*, topic: str | None = TOPIC) -> Container:
    return Container(
        settings=settings(topic), catalog=CATALOG, rules=RULES, routing_rules=load_rules(), clock=FixedClock(NOW),
        businesses=FakeBusinesses(), outlets=FakeOutlets(), complaints=FakeComplaints(), keys=FakeKeys(),
        contacts=FakeContactVault(), routing_examples=FakeRoutingExamples(), channels=FakeChannels(),
    )


@pytest.fixture
def c():
    return make_container()


def new_complaint(*, language="ru", contact_ref: str | None = "ref-1", agency="kzpp", outlet=True,
                  registered=True, category: str | None = "overcharge"):
    routing = RoutingDecision(agency, "category", 1.0, "test", "category", ())
    complaint, _ = file_complaint(
        complaint_id=codes.complaint_id_for_key(SECRET, f"{language}{agency}{contact_ref}"), now=NOW, rules=RULES,
        routing=routing, identified=contact_ref is not None, channel="qr", language=language, text_language="ru",
        text=TEXT, category=category, sector="grocery", region="71", business_bin=BIN,
        business_name="ТОО «Таза Маркет»", business_registered=registered,
        outlet_code=OUTLET if outlet else None, outlet_name="Magnum Есиль" if outlet else None,
        outlet_address="пр. Мәңгілік Ел 1" if outlet else None, contact_ref=contact_ref,
        share_contact_with_business=False, incident_at=None,
    )
    return replace(complaint, version=1)


def envelopes(previous, current):
    """What the processor hands the reactions for one stored change: one envelope per event."""
    return [Envelope(event_id, event, current, previous) for event_id, event in events_between(previous, current)]


def envelope_of(kind, previous, current):
    return next(e for e in envelopes(previous, current) if isinstance(e.event, kind))


def step(complaint, command, actor, minutes=60):
    changed, _ = transition(complaint, command, actor=actor, now=complaint.updated_at + timedelta(minutes=minutes),
                            rules=RULES, agencies=frozenset(CATALOG.agencies))
    return replace(changed, version=complaint.version + 1)


AGENCY = Actor("agency", "kzpp", "k0000000000a1")
SELLER = Actor("business", BIN, "k0000000000b1")
CONSUMER = Actor("consumer")


def lifecycle(language="ru", contact_ref="ref-1"):
    """(template, envelope) for every status change a consumer is told about, in lifecycle order."""
    filed = new_complaint(language=language, contact_ref=contact_ref)
    answered = step(filed, Respond(ANSWER, "refund"), SELLER)
    refused = step(answered, GiveFeedback(False, 2, "всё равно обсчитали"), CONSUMER)
    moved = step(refused, Reroute("ktrm", "весы на кассе"), AGENCY)
    taken = step(moved, TakeInReview(), Actor("agency", "ktrm"))
    resolved = step(taken, Resolve("violation_confirmed", RESULT), Actor("agency", "ktrm"))
    settled = step(answered, GiveFeedback(True, 5, None), CONSUMER)
    rejected = step(filed, Reject("не относится к защите прав потребителей"), AGENCY)
    return [
        ("submitted", envelope_of(ComplaintSubmitted, None, filed)),
        ("business_responded", envelopes(filed, answered)[0]),
        ("offer_rejected", envelopes(answered, refused)[0]),
        ("rerouted", envelopes(refused, moved)[0]),
        ("taken_in_review", envelopes(moved, taken)[0]),
        ("resolved", envelopes(taken, resolved)[0]),
        ("settled", next(e for e in envelopes(answered, settled) if type(e.event).__name__ == "ComplaintSettled")),
        ("rejected", envelopes(filed, rejected)[0]),
    ]


def all_text(message) -> str:
    return " ".join([message.body, message.subject, json.dumps(dict(message.attributes), ensure_ascii=False)])


# --------------------------------------------------------------------------------------------- agencies
def test_a_routed_complaint_goes_to_the_topic_with_the_attributes_agencies_filter_on(c):
    # GIVEN a new complaint routed to KZPP WHEN the agency topic builder runs on its ComplaintRouted
    complaint = new_complaint()
    envelope = envelope_of(ComplaintRouted, None, complaint)
    message = n.agency_topic(envelope, c)
    # THEN one SNS message to the topic, filterable by audience, agency, region, category and event
    assert message.channel == "sns" and message.to == TOPIC and message.audience == "agency"
    assert dict(message.attributes) == {"audience": "agency", "agency": "kzpp", "region": "71",
                                        "category": "overcharge", "event": "complaint.routed"}
    assert message.idempotency_key == envelope.event_id == f"{complaint.id}#1#ComplaintRouted"
    body = json.loads(message.body)
    assert body == {
        "event": "complaint.routed", "at": NOW.isoformat(), "complaint_id": complaint.id, "agency": "kzpp",
        "region": "71", "category": "overcharge", "sector": "grocery", "kind": "appeal", "status": "routed",
        "agency_due_at": complaint.agency_due_at.isoformat(),
        "link": f"https://qalqan.kz/agency.html#id={complaint.id}",
    }


def test_an_agency_message_carries_no_text_no_contact_and_no_names(c):
    complaint = new_complaint()
    c.channels.put(Channels(owner="agency#kzpp", webhook_url="https://hooks.kzpp.gov.kz/q", webhook_secret="s" * 43))
    for builder in (n.agency_topic, n.agency_webhook):
        words = all_text(builder(envelope_of(ComplaintRouted, None, complaint), c))
        for private in (*SECRET_WORDS, NAME, PHONE, EMAIL, "ref-1", "Magnum", "Таза"):
            assert private not in words, (builder.__name__, private)


def test_a_complaint_without_category_is_filterable_as_none(c):
    message = n.agency_topic(envelope_of(ComplaintRouted, None, new_complaint(category=None)), c)
    assert message.attributes["category"] == "none"
    assert json.loads(message.body)["category"] is None


def test_a_reroute_notifies_the_new_agency_not_the_old_one(c):
    filed = new_complaint()
    moved = step(filed, Reroute("ktrm", "весы"), AGENCY)
    envelope = envelopes(filed, moved)[0]
    assert isinstance(envelope.event, ComplaintRerouted)
    c.channels.put(Channels(owner="agency#kzpp", webhook_url="https://old.example.kz/h", webhook_secret="old"))
    c.channels.put(Channels(owner="agency#ktrm", webhook_url="https://new.example.kz/h", webhook_secret="new"))
    topic, hook = n.agency_topic(envelope, c), n.agency_webhook(envelope, c)
    assert topic.attributes["agency"] == "ktrm" and topic.attributes["event"] == "complaint.rerouted"
    assert json.loads(topic.body)["agency"] == "ktrm"
    assert hook.to == "https://new.example.kz/h" and hook.signing_secret == "new"


def test_no_topic_configured_means_no_topic_message():
    c = make_container(topic=None)
    envelope = envelope_of(ComplaintRouted, None, new_complaint())
    assert n.agency_topic(envelope, c) is None
    assert n.business_topic(envelope_of(ComplaintSubmitted, None, new_complaint()), c) is None


def test_the_agency_webhook_needs_the_agencys_channel_and_carries_the_topics_body(c):
    envelope = envelope_of(ComplaintRouted, None, new_complaint())
    assert n.agency_webhook(envelope, c) is None  # no channel registered
    c.channels.put(Channels(owner="agency#kzpp", email="ops@kzpp.gov.kz"))
    assert n.agency_webhook(envelope, c) is None  # a channel without a webhook
    c.channels.put(Channels(owner="agency#kzpp", webhook_url="https://hooks.kzpp.gov.kz/q", webhook_secret="k" * 43))
    hook = n.agency_webhook(envelope, c)
    assert (hook.channel, hook.audience, hook.to) == ("webhook", "agency", "https://hooks.kzpp.gov.kz/q")
    assert hook.signing_secret == "k" * 43 and "k" * 43 not in repr(hook)
    assert hook.attributes["event"] == "complaint.routed" and hook.idempotency_key == envelope.event_id
    assert json.loads(hook.body) == json.loads(n.agency_topic(envelope, c).body)


def test_agency_builders_ignore_events_that_do_not_route(c):
    submitted = envelope_of(ComplaintSubmitted, None, new_complaint())
    assert n.agency_topic(submitted, c) is None and n.agency_webhook(submitted, c) is None


def test_a_redelivered_record_builds_the_same_message(c):
    complaint = new_complaint()
    first = n.agency_topic(envelope_of(ComplaintRouted, None, complaint), c)
    again = n.agency_topic(envelope_of(ComplaintRouted, None, complaint), c)
    assert first == again  # same body, same key: a receiver can drop the duplicate


# --------------------------------------------------------------------------------------------- businesses
def test_a_new_complaint_reaches_the_business_by_topic_webhook_and_email(c):
    complaint = new_complaint()
    envelope = envelope_of(ComplaintSubmitted, None, complaint)
    c.channels.put(Channels(owner=f"business#{BIN}", webhook_url="https://shop.example.kz/hook",
                            webhook_secret="b" * 43, email="claims@taza.kz"))
    topic, hook, mail = n.business_topic(envelope, c), n.business_webhook(envelope, c), n.business_email(envelope, c)
    assert dict(topic.attributes) == {"audience": "business", "business": BIN, "outlet": OUTLET, "region": "71",
                                      "category": "overcharge", "event": "complaint.submitted"}
    body = json.loads(topic.body)
    assert body["outlet_code"] == OUTLET and body["outlet_name"] == "Magnum Есиль"
    assert body["business_due_at"] == complaint.business_due_at.isoformat()
    assert body["link"] == f"https://qalqan.kz/business.html#id={complaint.id}"
    assert json.loads(hook.body) == body and hook.signing_secret == "b" * 43 and hook.audience == "business"
    assert (mail.channel, mail.to, mail.audience) == ("email", "claims@taza.kz", "business")
    due = complaint.business_due_at.astimezone(RULES.tz).strftime("%d.%m.%Y")
    for words in ("Magnum Есиль", codes.display_code(OUTLET), due, body["link"],
                  CATALOG.categories["overcharge"].name["kk"], CATALOG.categories["overcharge"].name["ru"],
                  CATALOG.categories["overcharge"].name["en"]):
        assert words in mail.body, words
    assert mail.body.index("Сіздің") < mail.body.index("На вашу") < mail.body.index("A new complaint")
    assert mail.subject == f"Qalqan: жаңа шағым / новая жалоба / new complaint {complaint.id}"


def test_business_messages_carry_no_text_and_no_consumer(c):
    c.channels.put(Channels(owner=f"business#{BIN}", webhook_url="https://shop.example.kz/hook",
                            webhook_secret="b" * 43, email="claims@taza.kz"))
    envelope = envelope_of(ComplaintSubmitted, None, new_complaint())
    for builder in (n.business_topic, n.business_webhook, n.business_email):
        words = all_text(builder(envelope, c))
        for private in (*SECRET_WORDS, NAME, PHONE, EMAIL, "ref-1"):
            assert private not in words, (builder.__name__, private)


def test_an_unregistered_seller_gets_nothing(c):
    c.channels.put(Channels(owner=f"business#{BIN}", webhook_url="https://shop.example.kz/hook",
                            webhook_secret="b" * 43, email="claims@taza.kz"))
    envelope = envelope_of(ComplaintSubmitted, None, new_complaint(registered=False))
    assert [b(envelope, c) for b in (n.business_topic, n.business_webhook, n.business_email)] == [None] * 3


def test_a_complaint_without_an_outlet_is_about_the_seller(c):
    c.channels.put(Channels(owner=f"business#{BIN}", email="claims@taza.kz"))
    envelope = envelope_of(ComplaintSubmitted, None, new_complaint(outlet=False))
    assert "outlet" not in n.business_topic(envelope, c).attributes
    mail = n.business_email(envelope, c)
    assert "На вас как продавца" in mail.body and "торговую точку" not in mail.body
    assert n.business_webhook(envelope, c) is None  # no webhook registered, only an email


def test_business_builders_react_only_to_a_new_complaint(c):
    c.channels.put(Channels(owner=f"business#{BIN}", webhook_url="https://shop.example.kz/hook",
                            webhook_secret="b" * 43, email="claims@taza.kz"))
    routed = envelope_of(ComplaintRouted, None, new_complaint())
    assert [b(routed, c) for b in (n.business_topic, n.business_webhook, n.business_email)] == [None] * 3


# --------------------------------------------------------------------------------------------- consumers
LONGEST_AGENCY = {lang: max((a for a in CATALOG.agencies.values()), key=lambda a: len(a.name[lang])).id
                  for lang in ("kk", "ru", "en")}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_status_change_reaches_a_consumer_by_email_in_their_language(c, language):
    c.contacts.put("ref-1", Contact(name=NAME, phone=PHONE, email=EMAIL), at=NOW)
    for template, envelope in lifecycle(language):
        message = n.consumer(envelope, c)
        assert message is not None, template
        assert (message.channel, message.to, message.audience) == ("email", EMAIL, "consumer")
        assert message.template == f"consumer.{template}" and message.language == language
        assert message.idempotency_key == envelope.event_id
        values = n.consumer_values(envelope, c, language)
        assert texts.CONSUMER[template]["text"][language].format(**values) in message.body
        assert message.subject == "Qalqan: " + texts.CONSUMER[template]["title"][language].format(**values)
        token = codes.tracking_token(SECRET, envelope.complaint.id)
        assert f"https://qalqan.kz/track.html#id={envelope.complaint.id}&token={token}" in message.body
        for private in (*SECRET_WORDS, "извинения", "штраф", "весы"):
            assert private not in all_text(message), (template, private)


def test_the_consumer_hears_which_agency_in_their_own_language(c):
    c.contacts.put("ref-1", Contact(phone=PHONE), at=NOW)
    for language in ("kk", "ru", "en"):
        steps = dict(lifecycle(language))
        assert CATALOG.agencies["kzpp"].name[language] in n.consumer(steps["submitted"], c).body
        # the reroute names the agency the case went to, and so does everything after it
        assert CATALOG.agencies["ktrm"].name[language] in n.consumer(steps["rerouted"], c).body
        assert CATALOG.agencies["ktrm"].name[language] in n.consumer(steps["taken_in_review"], c).body
    ru = dict(lifecycle("ru"))
    assert "Возврат денег" in n.consumer(ru["business_responded"], c).body
    assert "Нарушение подтвердилось" in n.consumer(ru["resolved"], c).body


def test_a_phone_without_an_email_gets_a_short_sms(c):
    c.contacts.put("ref-1", Contact(name=NAME, phone=PHONE), at=NOW)
    for language in ("kk", "ru", "en"):
        for template, envelope in lifecycle(language):
            message = n.consumer(envelope, c)
            assert (message.channel, message.to) == ("sms", PHONE)
            assert message.body.startswith("Qalqan: ") and message.body.endswith(
                f"track.html#id={envelope.complaint.id}&token={codes.tracking_token(SECRET, envelope.complaint.id)}")
            assert not any(word in message.body for word in SECRET_WORDS)


# GSM 03.38's basic alphabet: a message entirely in it is sent 7-bit (153 characters per segment of a
# concatenated message); one character outside it (any Cyrillic) makes the whole message UCS-2 (67 each).
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def sms_segments(text: str) -> int:
    per_segment, single = (153, 160) if set(text) <= GSM7 else (67, 70)
    return 1 if len(text) <= single else -(-len(text) // per_segment)


def test_sms_segments_counts_like_a_carrier():
    assert sms_segments("a" * 160) == 1 and sms_segments("a" * 161) == 2
    assert sms_segments("ж" * 70) == 1 and sms_segments("ж" * 71) == 2 and sms_segments("ж" * 135) == 3
    assert sms_segments("a" * 150 + "ә") == 3


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("template", sorted(texts.CONSUMER))
def test_an_sms_fits_two_segments_before_its_link_even_with_the_longest_agency_name(template, language):
    values = {"id": "X" * codes.COMPLAINT_ID_LEN, "agency": CATALOG.agencies[LONGEST_AGENCY[language]].name[language],
              "offer": max((label[language] for label in n.LABELS["offer"].values()), key=len),
              "decision": max((label[language] for label in n.LABELS["decision"].values()), key=len)}
    sms, _, _ = n.consumer_texts(template, language, values, link="LINK")
    without_link = sms[: -len(" LINK")]
    assert sms_segments(without_link) <= 2, (len(without_link), without_link)
    if language == "en":  # an English SMS stays 7-bit: one stray character would cut its segments to 67
        assert set(without_link) <= GSM7, set(without_link) - GSM7


@pytest.mark.parametrize("contact_ref, contact", [
    (None, None),                                  # anonymous: no contact at all
    ("ref-1", None),                               # a reference whose contact is gone from the vault
    ("ref-1", Contact(name=NAME)),                 # a name but no way to reach them
])
def test_an_anonymous_complainant_gets_nothing(c, contact_ref, contact):
    if contact is not None:
        c.contacts.put("ref-1", contact, at=NOW)
    for template, envelope in lifecycle(contact_ref=contact_ref):
        assert n.consumer(envelope, c) is None, template


def test_the_consumer_hears_nothing_of_events_without_a_status_change(c):
    c.contacts.put("ref-1", Contact(phone=PHONE), at=NOW)
    routed = envelope_of(ComplaintRouted, None, new_complaint())
    changed = envelopes(None, new_complaint())[-1]
    assert n.consumer(routed, c) is None and n.consumer(changed, c) is None


def test_an_unexpected_language_falls_back_to_russian(c):
    c.contacts.put("ref-1", Contact(phone=PHONE), at=NOW)
    envelope = envelope_of(ComplaintSubmitted, None, new_complaint(language="de"))
    message = n.consumer(envelope, c)
    assert message.language == "ru" and "Жалоба" in message.body


# --------------------------------------------------------------------------------------------- templates
KAZAKH_ONLY = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
RUSSIAN_ONLY = set("ёъщЁЪЩ")
RUSSIAN_WORDS = {"и", "в", "на", "с", "или", "по", "для", "что", "это", "нет", "уже"}


def _template_entries():
    for template, parts in texts.CONSUMER.items():
        for part, entry in parts.items():
            yield f"CONSUMER.{template}.{part}", entry
    for table in ("CONSUMER_EMAIL", "BUSINESS_EMAIL", "WEBHOOK_FIELDS"):
        for key, entry in getattr(texts, table).items():
            yield f"{table}.{key}", entry


TEMPLATE_ENTRIES = list(_template_entries())


@pytest.mark.parametrize("where, entry", TEMPLATE_ENTRIES, ids=[w for w, _ in TEMPLATE_ENTRIES])
def test_every_template_is_in_three_languages_with_the_same_placeholders(where, entry):
    assert set(entry) == {"kk", "ru", "en"}, where
    names = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in ("kk", "ru", "en")]
    assert names[0] == names[1] == names[2], where
    kk, ru, en = entry["kk"], entry["ru"], entry["en"]
    assert not set(kk) & RUSSIAN_ONLY and not set(re.findall(r"\w+", kk.lower())) & RUSSIAN_WORDS, kk
    assert not set(ru) & KAZAKH_ONLY, ru
    assert not re.search("[\u0400-\u04ff]", en), en
    assert kk != ru


def test_every_webhook_refusal_has_a_field_message():
    import inspect

    from chalicelib.services import webhooks

    codes_used = set(re.findall(r'_refuse\("([a-z_]+)"', inspect.getsource(webhooks)))
    assert codes_used == set(texts.WEBHOOK_FIELDS)


def test_the_port_refusal_carries_what_its_translation_names():
    from chalicelib.services.webhooks import parse_webhook_url

    with pytest.raises(ValidationFailed) as refused:
        parse_webhook_url("https://hooks.kzpp.gov.kz:22/")
    detail = refused.value.fields["webhook_url"]
    assert texts.WEBHOOK_FIELDS["port_not_allowed"]["ru"].format(**detail) == "Порт должен быть одним из: 443, 8443."


def test_every_consumer_event_has_a_template():
    assert set(n.CONSUMER_TEMPLATES.values()) == set(texts.CONSUMER)


# --------------------------------------------------------------------------------------------- masking
@pytest.mark.parametrize("to, channel, shown", [
    ("+77011234567", "sms", "+7 7** *** ** 67"),
    ("+491701234567", "sms", "+**********67"),
    ("aigerim.s@mail.kz", "email", "a***@mail.kz"),
    ("not-an-email", "email", "***"),
    ("https://user:pw@hooks.kzpp.gov.kz:8443/q?token=abc", "webhook", "hooks.kzpp.gov.kz"),
    (TOPIC, "sns", "qalqan-test-notifications"),
    ("", "sms", ""),
])
def test_masked_shows_too_little_to_reach_anyone(to, channel, shown):
    assert n.masked(to, channel) == shown
    if channel in ("sms", "email"):
        assert to not in n.masked(to, channel) or not to


# --------------------------------------------------------------------------------------------- registration
class FakeResolver:
    def __init__(self, *addresses):
        self.addresses = addresses
        self.calls = []

    def __call__(self, host, port, *args, **kwargs):
        self.calls.append(host)
        return [(2, 1, 6, "", (a, port)) for a in self.addresses]


def test_setting_a_webhook_issues_a_secret_once_and_a_new_one_each_time():
    channels, clock = FakeChannels(), FixedClock(NOW)
    issued = iter(["first-secret", "second-secret"])
    resolve = FakeResolver("93.184.216.34")
    kwargs = dict(channels=channels, clock=clock, resolve=resolve, new_secret=lambda: next(issued))
    change = n.set_channels("agency#kzpp", webhook_url="https://hooks.kzpp.gov.kz/q", by="k1", **kwargs)
    assert change.new_secret == "first-secret" and change.channels.webhook_secret == "first-secret"
    assert resolve.calls == ["hooks.kzpp.gov.kz"]
    stored = channels.get("agency#kzpp")
    assert (stored.webhook_url, stored.updated_by, stored.updated_at) == ("https://hooks.kzpp.gov.kz/q", "k1", NOW)
    # the same URL again rotates the secret
    again = n.set_channels("agency#kzpp", webhook_url="https://hooks.kzpp.gov.kz/q", by="k2", **kwargs)
    assert again.new_secret == "second-secret" == channels.get("agency#kzpp").webhook_secret


def test_leaving_a_field_out_keeps_it_and_null_removes_it():
    channels, clock = FakeChannels(), FixedClock(NOW)
    resolve = FakeResolver("93.184.216.34")
    n.set_channels("business#1", webhook_url="https://shop.example.kz/h", email="a@b.kz", by="k", channels=channels,
                   clock=clock, resolve=resolve, new_secret=lambda: "s1")
    kept = n.set_channels("business#1", email="c@d.kz", by="k", channels=channels, clock=clock, resolve=resolve)
    assert kept.new_secret is None
    assert (kept.channels.webhook_url, kept.channels.webhook_secret, kept.channels.email) == (
        "https://shop.example.kz/h", "s1", "c@d.kz")
    removed = n.set_channels("business#1", webhook_url=None, by="k", channels=channels, clock=clock, resolve=resolve)
    assert (removed.channels.webhook_url, removed.channels.webhook_secret, removed.channels.email) == (
        None, None, "c@d.kz")


def test_a_refused_webhook_url_stores_nothing():
    channels = FakeChannels()
    with pytest.raises(ValidationFailed) as refused:
        n.set_channels("agency#kzpp", webhook_url="https://evil.example.com/", by="k", channels=channels,
                       clock=FixedClock(NOW), resolve=FakeResolver("10.0.0.7"))
    assert refused.value.fields["webhook_url"]["code"] == "not_public"
    assert channels.get("agency#kzpp") is None
