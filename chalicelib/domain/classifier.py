"""Which agency a complaint text is for, by a character n-gram linear model (inference in plain Python).

`tools/train_router.py` trains it with scikit-learn (a TF-IDF over `Analyzer.ngrams`, a multinomial logistic
regression, one temperature fitted on out-of-fold predictions) and exports it to
`chalicelib/data/router_model.json`; this module reads that file with the standard library only, so the
Lambda package carries neither numpy nor scikit-learn.

Features come from `text.normalise(text)` (Kazakh letters folded, Latin Kazakh transliterated, lowercased):
the character n-grams of every word padded with one space on each side (scikit-learn's ``char_wb``), so
"бензинде", "бензине" and the typo "бензн" share most of their features without a Kazakh stemmer, plus
whole-word unigrams and bigrams prefixed with ``w:``. The value of a feature is count x idf, and the vector
is scaled to unit length (TfidfVectorizer with ``norm="l2"``, no sublinear tf).

The export folds each feature's idf into its weights and quantises them per class (int8, or int16 when int8
would change an answer): logit_k = intercept_k + scale_k * sum_f count_f * q_fk / ||x||. Because the
features of a word never cross word boundaries, a word's share of every logit is a constant that is
computed once per distinct word and cached; a prediction then adds those shares and, for the length
normalisation, the squared count x idf of each distinct feature. The shares are also the explanation:
`Prediction.features(agency)` names the words that pushed most towards that agency.
"""
from __future__ import annotations

import base64
import json
import math
import struct
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import mul
from pathlib import Path

__all__ = ["Analyzer", "RouterModel", "Prediction", "load_model", "parse_model", "MODEL_PATH", "FORMAT"]

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "router_model.json"
FORMAT = 1
WORD_PREFIX = "w:"
# A long-lived Lambda sees an open vocabulary; the cache of per-word shares is cleared past this size.
_WORD_CACHE_MAX = 50_000


@dataclass(frozen=True)
class Analyzer:
    """The features of a normalised text; training (as the vectorizer's analyzer) and inference share it."""

    char_min: int = 2
    char_max: int = 5
    word_max: int = 2  # 0: no word features, 1: unigrams, 2: unigrams and bigrams

    def char_ngrams(self, word: str) -> list[str]:
        """scikit-learn's char_wb n-grams of one word: padded with a space, a short word counted once."""
        padded = f" {word} "
        size = len(padded)
        out = []
        for n in range(self.char_min, self.char_max + 1):
            if size <= n:
                out.append(padded)
                break
            # Slices built by map: this loop runs for every word not yet cached, at request time.
            out.extend(map(padded.__getitem__, map(slice, range(size - n + 1), range(n, size + 1))))
        return out

    def word_ngrams(self, words: list[str]) -> list[str]:
        out = []
        if self.word_max >= 1:
            out.extend(WORD_PREFIX + w for w in words)
        if self.word_max >= 2:
            out.extend(f"{WORD_PREFIX}{a} {b}" for a, b in zip(words, words[1:]))
        return out

    def ngrams(self, text: str) -> list[str]:
        """Every feature of a normalised text, with repetitions (a callable analyzer for scikit-learn)."""
        words = text.split()
        return [g for w in words for g in self.char_ngrams(w)] + self.word_ngrams(words)

    def to_dict(self) -> dict:
        return {"char": [self.char_min, self.char_max], "words": self.word_max}

    @classmethod
    def from_dict(cls, doc: dict) -> "Analyzer":
        char_min, char_max = doc["char"]
        return cls(char_min=int(char_min), char_max=int(char_max), word_max=int(doc["words"]))


class Prediction:
    """Agency probabilities for one text; `features` explains them in the text's own (normalised) words.

    `probs` maps every agency to its probability (they sum to 1), `top` lists (agency, probability) best
    first, `version` is the model's.
    """

    # A plain slotted class, not a dataclass: one is built per request and the class costs nothing to import.
    __slots__ = ("probs", "top", "version", "_shares", "_classes", "_scale", "_norm")

    def __init__(self, probs: dict[str, float], top: tuple[tuple[str, float], ...], version: str,
                 shares: tuple[tuple[str, tuple[int, ...]], ...] = (), classes: tuple[str, ...] = (),
                 scale: tuple[float, ...] = (), norm: float = 1.0):
        self.probs, self.top, self.version = probs, top, version
        # (word or word pair, its integer share of each class's weighted sum), turned into logit units
        # (x scale / norm) only when an explanation is asked for.
        self._shares, self._classes, self._scale, self._norm = shares, classes, scale, norm

    def __repr__(self) -> str:
        return f"Prediction(top={self.top[:3]!r}, version={self.version!r})"

    @property
    def agency(self) -> str:
        return self.top[0][0]

    @property
    def confidence(self) -> float:
        return self.top[0][1]

    def contributions(self, agency: str, k: int = 3) -> list[tuple[str, float]]:
        """The k words (or word pairs) that raised `agency`'s logit most against the average agency."""
        if agency not in self._classes:
            raise KeyError(f"unknown agency {agency!r}")
        idx = self._classes.index(agency)
        totals: dict[str, float] = {}
        for term, share in self._shares:
            logits = [s * v / self._norm for s, v in zip(self._scale, share)]
            totals[term] = totals.get(term, 0.0) + logits[idx] - sum(logits) / len(logits)
        ranked = sorted(((t, v) for t, v in totals.items() if v > 1e-12), key=lambda tv: (-tv[1], tv[0]))
        return [(t, round(v, 3)) for t, v in ranked[:k]]

    def features(self, agency: str, k: int = 3) -> list[str]:
        """The words that pushed most towards `agency`, strongest first (fewer than k when fewer did)."""
        return [term for term, _ in self.contributions(agency, k)]


class RouterModel:
    """An exported router model; `predict` takes a text already passed through `text.normalise`."""

    def __init__(self, doc: dict):
        if doc.get("format") != FORMAT:
            raise ValueError(f"router model format {doc.get('format')!r}, expected {FORMAT}")
        self.version: str = str(doc["version"])
        self.classes: tuple[str, ...] = tuple(doc["classes"])
        self.analyzer = Analyzer.from_dict(doc["analyzer"])
        self.temperature = float(doc["temperature"])
        self.intercept = tuple(float(v) for v in doc["intercept"])
        self.scale = tuple(float(v) for v in doc["scale"])
        # The threshold the training run read off the held-out reliability curve (see tools/train_router.py).
        self.ask_below = float(doc["ask_below"]) if doc.get("ask_below") is not None else None
        self.meta: dict = dict(doc.get("trained") or {})
        features = doc["features"]
        k = len(self.classes)
        if k < 2 or len(self.intercept) != k or len(self.scale) != k or self.temperature <= 0:
            raise ValueError("router model: classes, intercept, scale or temperature malformed")
        dtype = doc["dtype"]
        if dtype not in ("b", "h"):
            raise ValueError(f"router model dtype {dtype!r}")
        self._row = struct.Struct(f"<{k}{dtype}")
        self._weights = base64.b64decode(doc["weights"])
        idf_bytes = base64.b64decode(doc["idf"])
        if len(self._weights) != self._row.size * len(features) or len(idf_bytes) != 2 * len(features):
            raise ValueError("router model: weights or idf do not match the feature list")
        # Only idf squared is needed at inference: the weights already carry idf; the length needs its square.
        self._idf2 = tuple(v * v for v in struct.unpack(f"<{len(features)}e", idf_bytes))
        self._vocab: dict[str, int] = {g: i for i, g in enumerate(features)}
        if len(self._vocab) != len(features):
            raise ValueError("router model: duplicate features")
        self._zero = (0,) * k
        self._words: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    @property
    def n_features(self) -> int:
        return len(self._vocab)

    def _sum_rows(self, fids: list[int]) -> tuple[int, ...]:
        if not fids:
            return self._zero
        unpack, blob, size = self._row.unpack_from, self._weights, self._row.size
        return tuple(map(sum, zip(*[unpack(blob, f * size) for f in fids])))

    def _word(self, word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """A word's feature ids (with repeats) and its integer share of every class's weighted sum."""
        entry = self._words.get(word)
        if entry is None:
            vocab = self._vocab
            grams = self.analyzer.char_ngrams(word)
            if self.analyzer.word_max >= 1:
                grams.append(WORD_PREFIX + word)
            fids = tuple(f for f in map(vocab.get, grams) if f is not None)
            entry = (fids, self._sum_rows(list(fids)))
            if len(self._words) >= _WORD_CACHE_MAX:
                self._words.clear()
            self._words[word] = entry
        return entry

    def _logits(self, text: str) -> tuple[list[float], list[tuple[str, tuple[int, ...]]], float]:
        """The logits, each word's (or word pair's) integer share of them, and the vector's length."""
        words = text.split()
        fid_lists, shares = [], []
        for w in words:
            fids, share = self._word(w)
            fid_lists.append(fids)
            shares.append((w, share))
        if self.analyzer.word_max >= 2:
            vocab = self._vocab
            for a, b in zip(words, words[1:]):
                fid = vocab.get(f"{WORD_PREFIX}{a} {b}")
                if fid is not None:
                    fid_lists.append((fid,))
                    shares.append((f"{a} {b}", self._sum_rows([fid])))
        counts = Counter(chain.from_iterable(fid_lists))
        if not counts:
            return list(self.intercept), [], 1.0
        values = counts.values()
        norm = math.sqrt(sum(map(mul, map(self._idf2.__getitem__, counts), map(mul, values, values))))
        totals = map(sum, zip(*[s for _, s in shares]))
        logits = [b + s * t / norm for b, s, t in zip(self.intercept, self.scale, totals)]
        return logits, [(w, s) for w, s in shares if s is not self._zero], norm

    def _softmax(self, logits: list[float]) -> list[float]:
        t = self.temperature
        top = max(logits)
        exps = [math.exp((v - top) / t) for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def predict(self, text: str) -> Prediction:
        """Agency probabilities for a normalised text (an empty text gets the class priors)."""
        logits, shares, norm = self._logits(text or "")
        by_agency = dict(zip(self.classes, self._softmax(logits)))
        top = tuple(sorted(by_agency.items(), key=lambda kv: (-kv[1], kv[0])))
        return Prediction(by_agency, top, self.version, tuple(shares), self.classes, self.scale, norm)


def parse_model(doc: dict) -> RouterModel:
    """Validate an exported model document."""
    return RouterModel(doc)


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> RouterModel:
    """The router model shipped with the code, read once per process."""
    with open(path or MODEL_PATH, encoding="utf-8") as fh:
        return RouterModel(json.load(fh))
