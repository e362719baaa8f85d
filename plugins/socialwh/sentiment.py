"""Sentiment of one comment, offline (issue #14): a score in [-1, 1] and a label.

The lexicons ship inside the PyPI wheels; nothing is downloaded at run time and no remote API is
called:

- **VADER** (``vaderSentiment`` 3.3.2, Hutto & Gilbert 2014): a rule-based model tuned on social
  media text. Its lexicon is English, and it reads emoji (through their names) and emoticons, which
  carry the tone of many short comments in any language.
- **textblob-fr** (the Pattern French lexicon, through ``textblob``) for comments that
  ``py3langid`` identifies as French.

The score is VADER's ``compound``; for French, the stronger (by absolute value) of VADER's compound
and the French lexicon's polarity, so an emoji still counts when the French words carry no tone.
The label uses VADER's recommended threshold: ``score >= 0.05`` positive, ``<= -0.05`` negative,
neutral between. German, Spanish and other languages rely on VADER alone (emoji, emoticons,
English loanwords): measured on tests/fixtures/sentiment_labelled.csv, see docs/community.md.

``MODEL`` names the libraries and versions; it is stored with every score so a change of model is
visible in the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

THRESHOLD = 0.05
LABELS = ("negative", "neutral", "positive")


@lru_cache(maxsize=1)
def model_name() -> str:
    return (f"vader-{version('vaderSentiment')}+textblob-fr-{version('textblob-fr')}"
            f"/py3langid-{version('py3langid')}")


@dataclass(frozen=True)
class Sentiment:
    score: float | None  # -1..1, rounded to 4 places; None for a comment without text
    label: str | None    # negative | neutral | positive; None without text
    language: str | None  # the language the routing used (ISO 639-1), None without text


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _french():
    from textblob_fr import PatternAnalyzer
    return PatternAnalyzer()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    return LanguageIdentifier.from_model_file(MODEL_FILE)


def label_of(score: float) -> str:
    if score >= THRESHOLD:
        return "positive"
    if score <= -THRESHOLD:
        return "negative"
    return "neutral"


def analyse(text: str | None) -> Sentiment:
    """The sentiment of one comment's text."""
    if text is None or not str(text).strip():
        return Sentiment(None, None, None)
    text = str(text)
    score = float(_vader().polarity_scores(text)["compound"])
    language = _identifier().classify(text)[0]
    if language == "fr":
        polarity = float(_french().analyze(text)[0])
        if abs(polarity) > abs(score):
            score = polarity
    score = round(max(-1.0, min(1.0, score)), 4)
    return Sentiment(score, label_of(score), language)


def columns(text: str | None) -> dict[str, object]:
    """The raw comment columns sentiment adds (declared once in platforms/_organic.comment_table)."""
    s = analyse(text)
    return {"sentiment_score": s.score, "sentiment_label": s.label,
            "sentiment_model": model_name() if s.score is not None else None}
