"""The router's text classifier: plain-Python inference, the exported model and its round trip to scikit-learn."""
from __future__ import annotations

import base64
import json
import math
import struct
from collections import Counter
from pathlib import Path

import pytest

from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.classifier import MODEL_PATH, Analyzer, RouterModel, load_model
from chalicelib.domain.text import normalise

# Written by tools/train_router.py with the model: the held-out texts and scikit-learn's probabilities.
FIXTURE = Path(__file__).resolve().parent / "data" / "router_roundtrip.json"
MAX_MODEL_BYTES = 1_100_000


def _doc(**over) -> dict:
    """A two-class model small enough to compute by hand: char bigrams only, idf already in the weights."""
    doc = {
        "format": 1, "version": "test-1", "classes": ["a", "b"], "analyzer": {"char": [2, 2], "words": 0},
        "temperature": 2.0, "intercept": [0.1, -0.1], "scale": [0.5, 0.25], "dtype": "b", "ask_below": 0.6,
        "features": [" a", "ab", "b "],
        "weights": base64.b64encode(struct.pack("<6b", 1, -1, 0, 2, 3, 0)).decode(),
        "idf": base64.b64encode(struct.pack("<3e", 1.0, 2.0, 1.0)).decode(),
    }
    doc.update(over)
    return doc


def _softmax(logits, t):
    exps = [math.exp(v / t) for v in logits]
    return [e / sum(exps) for e in exps]


# --- inference arithmetic on a hand-made model -----------------------------------------------------

def test_given_a_word_when_predicted_then_logits_are_intercept_plus_scaled_weights_over_the_tfidf_length():
    model = RouterModel(_doc())
    # "ab" -> " a", "ab", "b ": x = (1*1, 1*2, 1*1), |x| = sqrt(6); integer sums a: 1+0+3, b: -1+2+0.
    expected = _softmax([0.1 + 0.5 * 4 / math.sqrt(6), -0.1 + 0.25 * 1 / math.sqrt(6)], 2.0)
    p = model.predict("ab")
    assert p.probs["a"] == pytest.approx(expected[0], abs=1e-12)
    assert p.probs["b"] == pytest.approx(expected[1], abs=1e-12)
    assert p.top == (("a", p.probs["a"]), ("b", p.probs["b"]))
    assert p.agency == "a" and p.confidence == p.probs["a"]
    assert p.version == "test-1"


def test_repeating_a_text_or_adding_unknown_words_does_not_change_the_answer():
    model = RouterModel(_doc())
    once = model.predict("ab").probs
    assert model.predict("ab ab").probs == pytest.approx(once, abs=1e-12)  # l2 length normalisation
    assert model.predict("ab zz").probs == pytest.approx(once, abs=1e-12)  # out-of-vocabulary n-grams
    assert model.predict("zz").probs != pytest.approx(once)


def test_a_repeated_feature_counts_in_the_length_normalisation():
    model = RouterModel(_doc())
    # "ab ba": " a", "ab", "b ", " b", "ba", "a "; only the first three are known: same as "ab".
    # "a ab": " a" twice, "a " (unknown), "ab", "b ": x = (2, 2, 1), |x| = 3; sums a: 2+0+3, b: -2+2+0.
    expected = _softmax([0.1 + 0.5 * 5 / 3, -0.1 + 0.25 * 0 / 3], 2.0)
    p = model.predict("a ab")
    assert [p.probs["a"], p.probs["b"]] == pytest.approx(expected, abs=1e-12)


def test_an_empty_or_unknown_text_gets_the_priors():
    model = RouterModel(_doc())
    priors = _softmax([0.1, -0.1], 2.0)
    for text in ("", "   ", "zz qq"):
        p = model.predict(text)
        assert [p.probs["a"], p.probs["b"]] == pytest.approx(priors, abs=1e-12)
        assert p.features("a") == [] and p.features("b") == []


def test_word_unigrams_and_bigrams_are_features_when_the_model_has_them():
    doc = _doc(analyzer={"char": [2, 2], "words": 2}, features=["w:ab", "w:ab cd"],
               weights=base64.b64encode(struct.pack("<4b", 0, 0, 0, 4)).decode(),
               idf=base64.b64encode(struct.pack("<2e", 1.0, 1.0)).decode())
    model = RouterModel(doc)
    # "ab cd": the unigram "w:ab" and the bigram "w:ab cd", one each: |x| = sqrt(2).
    expected = _softmax([0.1, -0.1 + 0.25 * 4 / math.sqrt(2)], 2.0)
    p = model.predict("ab cd")
    assert [p.probs["a"], p.probs["b"]] == pytest.approx(expected, abs=1e-12)
    assert p.features("b") == ["ab cd"]
    assert model.predict("cd ab").probs["b"] < p.probs["b"]  # word order matters through the bigram


def test_features_name_the_words_that_pushed_towards_an_agency_strongest_first():
    model = RouterModel(_doc(features=[" a", "ab", "b ", "xy"],
                             weights=base64.b64encode(struct.pack("<8b", 1, -1, 0, 2, 3, 0, 0, 5)).decode(),
                             idf=base64.b64encode(struct.pack("<4e", 1.0, 2.0, 1.0, 1.0)).decode()))
    p = model.predict("ab xy zz")
    # "ab" pushes a (0.5*4 vs 0.25*1), "xy" pushes b (0 vs 0.25*5), "zz" is unknown.
    assert p.features("a") == ["ab"]
    assert p.features("b") == ["xy"]
    assert [w for w, _ in p.contributions("a", k=5)] == ["ab"]
    both = RouterModel(_doc()).predict("ab a")
    ranked = both.contributions("a", k=5)
    assert [w for w, _ in ranked] == ["ab", "a"] and ranked[0][1] > ranked[1][1] > 0
    assert both.features("a", k=1) == ["ab"]
    with pytest.raises(KeyError):
        both.features("nobody")


def test_the_word_cache_is_bounded_and_answers_stay_the_same_after_it_is_cleared(monkeypatch):
    from chalicelib.domain import classifier
    monkeypatch.setattr(classifier, "_WORD_CACHE_MAX", 2)
    model = RouterModel(_doc())
    first = model.predict("ab a b").probs
    assert len(model._words) <= 2
    model.predict("xx yy zz")
    assert len(model._words) <= 2
    assert model.predict("ab a b").probs == pytest.approx(first, abs=1e-12)


def test_the_model_describes_itself():
    model = RouterModel(_doc(trained={"at": "2026-12-01T00:00:00Z"}))
    assert model.n_features == 3
    assert model.ask_below == 0.6
    assert model.meta == {"at": "2026-12-01T00:00:00Z"}
    assert model.analyzer == Analyzer(char_min=2, char_max=2, word_max=0)
    assert Analyzer.from_dict(model.analyzer.to_dict()) == model.analyzer
    assert RouterModel(_doc(ask_below=None)).ask_below is None
    assert "test-1" in repr(model.predict("ab"))


def test_load_model_reads_a_model_file(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_doc(version="from-file")), encoding="utf-8")
    assert load_model(str(path)).version == "from-file"


@pytest.mark.parametrize("bad", [
    {"format": 2},
    {"classes": ["a"]},
    {"intercept": [0.1]},
    {"temperature": 0},
    {"dtype": "f"},
    {"features": [" a", "ab"]},                                   # weights no longer match
    {"features": [" a", "ab", "ab"]},                             # duplicate feature
    {"idf": base64.b64encode(struct.pack("<2e", 1.0, 1.0)).decode()},
])
def test_a_malformed_model_is_refused(bad):
    with pytest.raises(ValueError):
        RouterModel(_doc(**bad))


@pytest.mark.parametrize("word, expected", [
    # scikit-learn's char_wb: the word padded with spaces; a word shorter than n is counted once, whole.
    ("чек", [" ч", "че", "ек", "к ", " че", "чек", "ек ", " чек", "чек ", " чек "]),
    ("а", [" а", "а ", " а "]),
    ("сут", [" с", "су", "ут", "т ", " су", "сут", "ут ", " сут", "сут ", " сут "]),
])
def test_char_ngrams_are_char_wb_of_the_padded_word(word, expected):
    assert Analyzer(char_min=2, char_max=5, word_max=0).char_ngrams(word) == expected


def test_the_analyzer_lists_char_then_word_features_of_a_text():
    grams = Analyzer(char_min=2, char_max=3, word_max=2).ngrams("чек жок")
    assert grams == [" ч", "че", "ек", "к ", " че", "чек", "ек ",
                     " ж", "жо", "ок", "к ", " жо", "жок", "ок ",
                     "w:чек", "w:жок", "w:чек жок"]


# --- the shipped model ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return load_model()


@pytest.fixture(scope="module")
def fixture_doc():
    with open(FIXTURE, encoding="utf-8") as fh:
        return json.load(fh)


def test_the_shipped_model_covers_every_agency_of_the_catalogue_and_stays_compact(shipped):
    # every agency, plus "unclear": texts that name no problem a body could act on (the policy asks about them)
    assert set(shipped.classes) == set(load_catalog().agencies) | {"unclear"}
    assert MODEL_PATH.stat().st_size <= MAX_MODEL_BYTES
    assert shipped.ask_below is not None and 0.3 <= shipped.ask_below < 1.0


def test_the_export_predicts_as_scikit_learn_did_on_every_held_out_text(shipped, fixture_doc):
    assert fixture_doc["version"] == shipped.version, "retrain wrote the model without its round-trip fixture"
    classes = fixture_doc["classes"]
    tolerance = fixture_doc["tolerance"]
    assert len(fixture_doc["items"]) >= 100
    worst = 0.0
    for item in fixture_doc["items"]:
        p = shipped.predict(item["norm"])
        ref = dict(zip(classes, item["probs"]))
        assert p.agency == max(ref, key=ref.get), item["id"]
        worst = max(worst, max(abs(p.probs[c] - ref[c]) for c in classes))
        assert sum(p.probs.values()) == pytest.approx(1.0, abs=1e-9)
    assert worst <= tolerance


@pytest.mark.parametrize("text, agency", [
    ("Коллекторы МФО звонят каждый день и угрожают, хотя кредит я закрыл", "arrfr"),
    ("Дүкенде мерзімі өткен сүт сатты, балам уланып қалды", "ksek"),
    ("The cashier refused to give me a receipt and said the till was broken", "kgd"),
])
def test_the_shipped_model_answers_plain_cases(shipped, text, agency):
    """Through the policy, which is what a consumer gets: the classifier with the phrase rules (a plain
    English receipt case needs the rules: the model alone reads "refused" as a refund case)."""
    from chalicelib.domain.catalog import load_catalog
    from chalicelib.domain.routing import load_rules, route

    decision = route(text=text, catalog=load_catalog(), rules=load_rules(), model=shipped)
    assert decision.agency_id == agency and decision.method in ("model", "rules+model", "rules")
    p = shipped.predict(normalise(text))
    words = normalise(text).split()
    explanation = p.features(agency)
    assert explanation and all(term in words or term in normalise(text) for term in explanation)


def test_the_shipped_model_loads_once_per_process():
    assert load_model() is load_model()


# --- the training tool's data rules (pure Python; scikit-learn is not needed) ----------------------

def _examples(agency: str, n: int, prefix: str = "t"):
    from tools.train_router import Example
    return [Example(id=f"{prefix}-{agency}-{i}", text=f"text {i}", norm=f"text {i}", agency=agency, also_ok=(),
                    lang="ru", source="test") for i in range(n)]


def test_the_held_out_split_is_20_percent_of_every_agency_and_deterministic():
    from tools.train_router import split
    examples = _examples("kzpp", 50) + _examples("kgd", 10) + _examples("azrk", 3)
    train, held = split(examples)
    assert {ex.id for ex in train}.isdisjoint({ex.id for ex in held})
    assert len(train) + len(held) == len(examples)
    counts = Counter(ex.agency for ex in held)
    assert counts == {"kzpp": 10, "kgd": 2, "azrk": 1}
    assert [ex.id for ex in split(list(reversed(examples)))[1]] == [ex.id for ex in reversed(held)]


def test_adding_texts_to_one_agency_never_moves_another_agencys_texts_across_the_split():
    from tools.train_router import split
    base = _examples("kzpp", 40) + _examples("kgd", 40)
    held_before = {ex.id for ex in split(base)[1] if ex.agency == "kgd"}
    grown = base + _examples("kzpp", 30, prefix="new")
    assert {ex.id for ex in split(grown)[1] if ex.agency == "kgd"} == held_before


def test_the_real_corpus_holds_out_a_fifth_and_shares_no_text_with_the_dev_set():
    from tools.train_router import load_corpus, split
    examples = load_corpus()
    assert len(examples) >= 1500
    _, held = split(examples)
    assert abs(len(held) / len(examples) - 0.2) < 0.01
    dev_set = Path(__file__).resolve().parents[3] / "shared/routing/dev_set.jsonl"
    if dev_set.exists():  # beside the repo here and in CI; the corpus alone is checked elsewhere
        with open(dev_set, encoding="utf-8") as fh:
            dev = {normalise(json.loads(line)["text"]) for line in fh if line.strip()}
        assert dev and dev.isdisjoint(ex.norm for ex in examples)
        # nor a reworded one: no corpus text of some length shares a third of its 5-grams with a dev text,
        # and none is a dev text's sentence taken whole
        def grams(text):
            return {text[i:i + 5] for i in range(len(text) - 4)}
        dev_grams = [grams(d) for d in dev]
        close = [ex.id for ex in examples if len(ex.norm) >= 25 for g in [grams(ex.norm)]
                 if any(len(g & d) / len(g | d) >= 0.22 or (len(ex.norm) >= 25 and len(g & d) == len(g))
                        for d in dev_grams)]
        assert close == []


def test_corrections_become_training_examples_and_an_unknown_agency_is_refused(tmp_path):
    from tools.train_router import load_corrections
    path = tmp_path / "corrections.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "Ломбард продал кольцо раньше срока", "to_agency": "arrfr", "from_agency": "kzpp",
         "category": "other", "sector": None},
        {"text": "Қымбат тариф, SMS келмеді", "to_agency": "mindigital", "category": None, "sector": "telecom"},
    ]) + "\n\n", encoding="utf-8")
    examples = load_corrections(path, {"arrfr", "mindigital", "kzpp"})
    assert [(ex.agency, ex.source) for ex in examples] == [("arrfr", "corrections"), ("mindigital", "corrections")]
    assert examples[1].norm == normalise("Қымбат тариф, SMS келмеді")
    with pytest.raises(ValueError):
        load_corrections(path, {"kzpp"})


def test_a_worse_model_replaces_the_current_one_only_when_forced():
    from tools.train_router import may_replace
    assert may_replace(0.88, None, force=False) == (True, "")
    assert may_replace(0.88, 0.88, force=False) == (True, "")
    refused, why = may_replace(0.87, 0.88, force=False)
    assert not refused and "worse" in why and "--force" in why
    forced, why = may_replace(0.87, 0.88, force=True)
    assert forced and why.startswith("--force")


def test_the_threshold_is_the_lowest_confidence_whose_answers_reach_the_target():
    from tools.train_router import pick_threshold, reliability
    ex = _examples("kzpp", 1)[0]
    # 10 right answers at 0.9, 1 wrong at 0.5, 1 wrong at 0.35: from 0.55 up every answer is right.
    rows = [(ex, "kzpp", 0.9)] * 10 + [(ex, "kgd", 0.5), (ex, "kgd", 0.35)]
    choice = pick_threshold(rows, target=0.97)
    assert choice["threshold"] == 0.55 and choice["acc"] == 1.0
    assert choice["coverage"] == pytest.approx(10 / 12)
    assert pick_threshold([(ex, "kgd", 0.99)], target=0.97)["threshold"] is None
    bins = {(b["lo"], b["n"], b["ok"]) for b in reliability(rows) if b["n"]}
    assert bins == {(0.9, 10, 10), (0.5, 1, 0), (0.3, 1, 0)}
