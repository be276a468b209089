"""The severity classifier: which of the SLA's three severities a ticket's text describes, with
a confidence and the words that weighed most, learnt from tickets labelled by the SLA's
definitions (tickets/triage/corpus/, and an installation's own reviewed tickets).

Pure Python and scikit-learn: no Django, no file but the corpus, nothing downloaded. A linear
model (logistic regression) over word unigrams and bigrams and character 2–5-grams within
words, accents folded: the character n-grams carry French and English inflections, typos and
words it never saw whole; the words make the explanation readable.
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scikit-learn takes a second to import: loaded on the first suggestion
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

CORPUS = Path(__file__).resolve().parent / "corpus"
SEVERITIES = ("blocking", "major", "minor")  # tickets.models.Severity's values, strictest first
# What the model reads of a ticket: a 1 MB body costs no more than a long one.
MAX_CHARACTERS = 20_000
# Chosen by five-fold cross-validation on the training set alone (bench/triage.py --tune;
# docs/PERFORMANCE.md): the highest blocking recall whose macro-F1 stays at 0.80 or more. The
# inverse regularisation, and a missed blocking incident weighing three times a wrong minor
# one (it breaks the strictest promise).
C = 3.0
CLASS_WEIGHT = {"blocking": 3.0, "major": 1.0, "minor": 1.0}
# Below this many words it knows (unigrams and bigrams), the model's confidence is scaled down.
MIN_KNOWN_WORDS = 6
# Words that weigh in the model but explain nothing to a reader.
_FILLER = frozenset(
    """a an and are as at be but by for from has have i in is it its me my no not of on or our
    so that the their there this to was we were with you your au aux avec ce ces cette dans de
    des du elle en est et il ils je la le les leur ma mais me mes mon ne nos notre nous on ou
    par pas pour que qui sa se ses son sur ta te tes ton un une vos votre vous y since they them
    then than also just been will would could can did does very depuis sont été aussi très donc
    alors cela ça""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Example:
    subject: str
    body: str
    language: str
    severity: str


@dataclass(frozen=True)
class Suggestion:
    severity: str
    confidence: float  # the model's probability of that severity, 0–1
    probabilities: dict[str, float]


@dataclass(frozen=True)
class Scores:
    """How a model does on labelled tickets it was not trained on."""

    examples: int
    macro_f1: float
    blocking_recall: float
    # Rows: the true severity, columns: the suggested one, both in SEVERITIES' order.
    confusion: list[list[int]]

    def at_least_as_good_as(self, other: Scores) -> bool:
        return self.blocking_recall >= other.blocking_recall and self.macro_f1 >= other.macro_f1


def corpus(name: str) -> list[Example]:
    """``train`` or ``heldout``: the labelled tickets kept in the repository."""
    with (CORPUS / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines if line.strip()]


def text_of(subject: str, body: str, language: str = "") -> str:
    """What the model reads: the subject, then the body, cut at MAX_CHARACTERS; the language
    as a word of its own, when known."""
    tag = f"lang{language} " if language in ("fr", "en") else ""
    return f"{tag}{subject}\n{body}"[:MAX_CHARACTERS]


def _pipeline() -> Pipeline:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    words = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode"
    )
    characters = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
        strip_accents="unicode",
    )  # fmt: skip
    return Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("characters", characters)])),
            ("model", LogisticRegression(C=C, max_iter=2000, class_weight=CLASS_WEIGHT)),
        ]
    )


class SeverityClassifier:
    """A trained model: suggestions, their explanations, and its bytes to keep."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.classes: list[str] = [str(c) for c in pipeline.classes_]
        union = pipeline.named_steps["features"]
        self._words: TfidfVectorizer = union.transformer_list[0][1]
        self._word_names = self._words.get_feature_names_out()
        self._coefficients = pipeline.named_steps["model"].coef_  # classes × features

    @classmethod
    def trained(cls, examples: Iterable[Example]) -> SeverityClassifier:
        examples = list(examples)
        pipeline = _pipeline()
        pipeline.fit(
            [text_of(e.subject, e.body, e.language) for e in examples],
            [e.severity for e in examples],
        )
        return cls(pipeline)

    def suggest(self, subject: str, body: str, language: str = "") -> Suggestion:
        return self.suggest_many([(subject, body, language)])[0]

    def suggest_many(self, tickets: Sequence[tuple[str, str, str]]) -> list[Suggestion]:
        texts = [text_of(subject, body, language) for subject, body, language in tickets]
        known = self._words.transform(texts).getnnz(axis=1)  # words the model has seen
        suggestions = []
        for row, words in zip(self.pipeline.predict_proba(texts), known, strict=True):
            probabilities = {c: float(p) for c, p in zip(self.classes, row, strict=True)}
            best = max(probabilities, key=probabilities.__getitem__)
            # "Bonjour", "URGENT", a text in another language: next to nothing the model knows
            # says which promise is at stake, so little confidence, whatever it leans to.
            confidence = probabilities[best] * min(1.0, int(words) / MIN_KNOWN_WORDS)
            suggestions.append(Suggestion(best, confidence, probabilities))
        return suggestions

    def reasons(self, subject: str, body: str, severity: str, *, count: int = 5) -> list[str]:
        """The words and phrases of the ticket that weighed most toward ``severity``: their
        weight in the text times the model's coefficient for that severity, highest first
        (the character n-grams weigh too, but are no reading matter)."""
        vector = self._words.transform([text_of(subject, body)]).tocoo()
        coefficients = self._coefficients[self.classes.index(severity), : len(self._word_names)]
        weighed = sorted(
            ((value * coefficients[col], self._word_names[col]) for col, value in
             zip(vector.col, vector.data, strict=True)),
            reverse=True,
        )  # fmt: skip
        shown: list[str] = []
        for weight, name in weighed:
            words = name.split()
            if weight <= 0 or len(shown) == count:
                break
            if not any(w not in _FILLER and len(w) > 2 for w in words):
                continue
            # One phrase is enough: "ce matin" and "matin" say the same thing.
            if any(f" {name} " in f" {other} " or f" {other} " in f" {name} " for other in shown):
                continue
            shown.append(name)
        return shown

    def scores(self, examples: Sequence[Example]) -> Scores:
        from sklearn.metrics import confusion_matrix, f1_score, recall_score

        truth = [e.severity for e in examples]
        found = [s.severity for s in self.suggest_many(
            [(e.subject, e.body, e.language) for e in examples]
        )]  # fmt: skip
        recall = recall_score(truth, found, labels=["blocking"], average=None, zero_division=0)
        return Scores(
            examples=len(examples),
            macro_f1=round(float(f1_score(truth, found, average="macro")), 4),
            blocking_recall=round(float(recall[0]), 4),
            confusion=confusion_matrix(truth, found, labels=list(SEVERITIES)).tolist(),
        )

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self.pipeline, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SeverityClassifier:
        """A model this installation trained and stored itself (never bytes from elsewhere:
        unpickling runs code)."""
        return cls(pickle.loads(data))  # noqa: S301  (our own rows only, see the docstring)
