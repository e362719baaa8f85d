"""The sandbox world's comments and replies (issue #14), shared by the Facebook Pages, Instagram
and YouTube sandboxes: a pure function of (seed, platform, account, post), so every process draws
the same conversation, and what an API shows of it is a pure function of the as-of night.

Per post (``thread``):
- ``fans`` fan comments (the post's final comment count, capped at MAX_FAN_COMMENTS). Comment i
  arrives at ``published + tau * -ln(1 - (i + 1) / fans)`` days, so the number visible by a night
  follows the same growth curve as the post's lifetime comment counter; ~15 % are fan replies to an
  earlier top-level comment, the rest top-level;
- brand replies: ~60 % of top-level fan comments get one reply from the owned account, 0.2-30
  hours later (mostly within business hours' reach);
- edits: ~10 % of comments are edited 2-72 hours after they were written (the message gains
  " (edited)"; YouTube's ``updatedAt`` moves, Graph reports no edit time);
- deletions: ~5 % of fan comments are deleted 2-72 hours after they were written, and disappear
  from every read after that, with their replies.

Texts are short social comments drawn from per-language pools (English most, some German,
Spanish and French), mostly positive, some neutral questions, a few complaints, so the sentiment
the extract scores (socialwh.sentiment) shows a mix. They come from their own seeded stream.

Spike injection (issue #14's crisis test, like the server's fault injection): a *spike* gives
chosen posts of one account a burst of negative comments on one UTC day, on top of their usual
conversation. Configure it in ``sandbox.community_spikes`` (a list of ``{account, posts, day,
comments}``, read when the server starts; ``posts: recent`` = the account's posts of the 3 days
before ``day``, ``day: -1`` = yesterday (UTC), the demo's last night) or at run time with :func:`configure_spikes`; it is
process-wide state of the sandbox, like the world's seed.

A comment is visible on the night ``as_of`` when it was written before the end of that night
(``cutoff``) and not deleted by then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from socialwh_dev.sandbox.datagen import seeded_rng

MAX_FAN_COMMENTS = 40
FANS_PER_ACCOUNT = 120
BRAND_REPLY_SHARE = 0.6
FAN_REPLY_SHARE = 0.15
EDIT_SHARE = 0.10
DELETE_SHARE = 0.05
LANGUAGE_SHARES = (("en", 0.6), ("de", 0.15), ("es", 0.13), ("fr", 0.12))
TONE_SHARES = (("positive", 0.55), ("neutral", 0.3), ("negative", 0.15))
TEXTS = {
    "en": {
        "positive": ("Love this so much 😍", "Amazing quality, thank you!", "This is gorgeous ❤️",
                     "Best drop this year 🔥", "So happy with my order!", "Great colour, looks perfect",
                     "Wow, beautiful 👏", "Thanks for the super quick help!"),
        "neutral": ("When is the next drop?", "Is this available in size S?", "Where can I buy this?",
                    "Does it ship to Ireland?", "How much is the green one?", "@sam_r check this out"),
        "negative": ("My order still hasn't arrived. Really disappointed", "Terrible customer service 😡",
                     "Broke after one week, poor quality", "Way too expensive for what it is 👎"),
    },
    "de": {
        "positive": ("Richtig schön 😍", "Danke, super Service!", "Tolle Farbe ❤️", "Mega 🔥"),
        "neutral": ("Gibt es das auch in Größe M?", "Wann kommt die nächste Kollektion?",
                    "Versendet ihr nach Österreich?"),
        "negative": ("Bestellung kam kaputt an 😡", "Warte seit Wochen auf meine Erstattung 👎"),
    },
    "es": {
        "positive": ("¡Me encanta! 😍", "Qué bonito ❤️", "Gracias, muy buen servicio 👍", "Increíble 🔥"),
        "neutral": ("¿Lo tienen en talla L?", "¿Cuándo sale la nueva colección?", "¿Envían a Perú?"),
        "negative": ("Mi pedido llegó roto 😡", "Pésimo servicio, nadie responde 👎"),
    },
    "fr": {
        "positive": ("J'adore ! 😍", "Magnifique, merci !", "Superbe couleur ❤️", "Trop beau 🔥"),
        "neutral": ("Vous l'avez en taille S ?", "Quand sort la prochaine collection ?",
                    "Vous livrez en Belgique ?"),
        "negative": ("Commande arrivée cassée, très déçue 😡", "Service client horrible 👎"),
    },
}
SPIKE_TEXTS = ("This is a disgrace. Terrible, I want a refund 😡", "Worst experience ever, never buying again 👎",
               "Awful quality and nobody answers. Shame on you", "Scam! My money is gone and support ignores me 😡",
               "Horrible. Really disappointed and angry", "Unacceptable, this broke on day one 👎",
               "Schrecklich, nie wieder 😡", "Horrible, estoy muy enfadada 👎", "Honteux, service horrible 😡")
_WORDS = ("love", "this", "when", "is", "the", "next", "drop", "great", "price", "help", "my", "order",
          "where", "can", "i", "buy", "amazing", "colour", "size", "shipping", "thanks", "so", "cool")
_BRAND_WORDS = ("thanks", "for", "your", "message", "we", "sent", "you", "a", "dm", "glad", "you",
                "like", "it", "stay", "tuned")


@dataclass(frozen=True)
class Comment:
    id: str
    parent_id: str | None
    author_id: str
    author_name: str
    is_brand: bool
    created: datetime            # UTC
    text: str
    edited_at: datetime | None   # UTC
    deleted_at: datetime | None  # UTC
    likes: int

    def visible(self, cutoff: datetime) -> bool:
        return self.created <= cutoff and (self.deleted_at is None or self.deleted_at > cutoff)

    def message(self, cutoff: datetime) -> str:
        return self.text + (" (edited)" if self.edited_at is not None and self.edited_at <= cutoff else "")

    def updated(self, cutoff: datetime) -> datetime:
        return self.edited_at if self.edited_at is not None and self.edited_at <= cutoff else self.created


def _sentence(r, words: tuple[str, ...]) -> str:
    return " ".join(r.choice(words) for _ in range(r.randint(3, 12))).capitalize()


def _pick(r, shares: tuple[tuple[str, float], ...]) -> str:
    x = r.random()
    for name, share in shares:
        if x < share:
            return name
        x -= share
    return shares[-1][0]


def fan_text(r, _legacy: str = "") -> str:
    """One fan comment: a language, a tone, a text of that pool. (The caller still draws the
    earlier word-salad text from the world's stream and passes it here unused, so every other
    draw - times, authors, replies, edits, deletions - stays as it was.)"""
    return r.choice(TEXTS[_pick(r, LANGUAGE_SHARES)][_pick(r, TONE_SHARES)])


@dataclass(frozen=True)
class Spike:
    """A burst of ``comments`` negative comments on each of ``posts`` of ``account`` on ``day`` (UTC)."""
    account: str
    posts: tuple[str, ...]
    day: date
    comments: int = 25


_SPIKES: dict[tuple[str, str], tuple[Spike, ...]] = {}
#: posts: recent - every post of the account published in the RECENT_DAYS before the spike's day
RECENT = "recent"
RECENT_DAYS = 3
_RECENT_SPIKES: dict[str, tuple[Spike, ...]] = {}


def _spike_day(value: object) -> date:
    """A date, an ISO date, or a whole number of days relative to today (UTC): -1 = yesterday,
    the demo's last night."""
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.now(UTC).date() + timedelta(days=value)
    return date.fromisoformat(str(value))


def configure_spikes(spikes: Iterable[Spike | Mapping]) -> None:
    """Replace the injected spikes (an empty list switches them off)."""
    out: dict[tuple[str, str], list[Spike]] = {}
    recent: dict[str, list[Spike]] = {}
    for spec in spikes:
        if not isinstance(spec, Spike):
            unknown = set(spec) - {"account", "posts", "day", "comments"}
            if unknown or not {"account", "posts", "day"} <= set(spec):
                raise ValueError(f"sandbox community_spikes: need account, posts, day (optional comments);"
                                 f" got {sorted(spec)}")
            posts = spec["posts"]
            posts = (RECENT,) if posts == RECENT else tuple(str(p) for p in posts)
            spec = Spike(str(spec["account"]), posts, _spike_day(spec["day"]), int(spec.get("comments", 25)))
        if spec.comments < 1 or spec.comments > 900:
            raise ValueError(f"sandbox community_spikes: comments must be 1..900, got {spec.comments}")
        if spec.posts == (RECENT,):
            recent.setdefault(spec.account, []).append(spec)
            continue
        for post in spec.posts:
            out.setdefault((spec.account, post), []).append(spec)
    _SPIKES.clear()
    _SPIKES.update({k: tuple(v) for k, v in out.items()})
    _RECENT_SPIKES.clear()
    _RECENT_SPIKES.update({k: tuple(v) for k, v in recent.items()})


def thread(seed: int, platform: str, account_id: str, brand_name: str, post_id: str,
           published: datetime, final_comments: int, tau_days: float) -> tuple[Comment, ...]:
    """Every comment and reply the post will ever get, oldest first (ids are unique per post),
    with the burst of an injected spike on top."""
    base = _thread(seed, platform, account_id, brand_name, post_id, published, final_comments, tau_days)
    spikes = _SPIKES.get((str(account_id), str(post_id)), ()) + tuple(
        spike for spike in _RECENT_SPIKES.get(str(account_id), ())
        if spike.day - timedelta(days=RECENT_DAYS) <= published.astimezone(UTC).date() < spike.day)
    if not spikes:
        return base
    extra: list[Comment] = []
    for spike in spikes:
        r = seeded_rng(seed, platform, "spike", account_id, post_id, spike.day.isoformat())
        start = datetime.combine(spike.day, time(8), UTC)
        for _ in range(spike.comments):
            fan = r.randrange(FANS_PER_ACCOUNT * 10)
            extra.append(Comment(
                id=_id(platform, post_id, 9000 - len(extra) - 1), parent_id=None,
                author_id=f"{platform[:2]}angry{fan:05d}", author_name=f"angry_{fan:04d}", is_brand=False,
                created=start + timedelta(seconds=r.randint(0, 12 * 3600)), text=r.choice(SPIKE_TEXTS),
                edited_at=None, deleted_at=None, likes=r.randint(0, 40)))
    return tuple(sorted((*base, *extra), key=lambda c: (c.created, c.id)))


@lru_cache(maxsize=16384)
def _thread(seed: int, platform: str, account_id: str, brand_name: str, post_id: str,
            published: datetime, final_comments: int, tau_days: float) -> tuple[Comment, ...]:
    r = seeded_rng(seed, platform, "comments", account_id, post_id)
    texts = seeded_rng(seed, platform, "comment-texts", account_id, post_id)
    fans = max(0, min(MAX_FAN_COMMENTS, int(final_comments)))
    start = published.astimezone(UTC)
    out: list[Comment] = []
    tops: list[Comment] = []
    for i in range(fans - 1):  # the last one would need an infinite age: never arrives
        age_days = tau_days * -math.log(1.0 - (i + 1) / fans)
        created = (start + timedelta(days=age_days, seconds=r.randint(0, 600))).replace(microsecond=0)
        fan = r.randrange(FANS_PER_ACCOUNT)
        parent = r.choice(tops).id if tops and r.random() < FAN_REPLY_SHARE else None
        comment = Comment(
            id=_id(platform, post_id, len(out)),
            parent_id=parent,
            author_id=f"{platform[:2]}fan{fan:05d}",
            author_name=f"fan_{fan:03d}",
            is_brand=False,
            created=created,
            text=fan_text(texts, _sentence(r, _WORDS)),
            edited_at=created + timedelta(hours=r.uniform(2, 72)) if r.random() < EDIT_SHARE else None,
            deleted_at=created + timedelta(hours=r.uniform(2, 72)) if r.random() < DELETE_SHARE else None,
            likes=r.randint(0, 12),
        )
        out.append(comment)
        if parent is None:
            tops.append(comment)
            if r.random() < BRAND_REPLY_SHARE:
                delay = timedelta(hours=min(30.0, r.lognormvariate(1.0, 1.0) + 0.2))
                out.append(Comment(
                    id=_id(platform, post_id, len(out)), parent_id=comment.id, author_id=account_id,
                    author_name=brand_name, is_brand=True,
                    created=(created + delay).replace(microsecond=0), text=_sentence(r, _BRAND_WORDS),
                    edited_at=None, deleted_at=None, likes=r.randint(0, 3),
                ))
    deleted = {c.id: c.deleted_at for c in out if c.deleted_at is not None}
    # a deleted comment takes its replies with it
    out = [c if c.parent_id not in deleted or (c.deleted_at and c.deleted_at <= deleted[c.parent_id])
           else _with_deleted(c, deleted[c.parent_id]) for c in out]
    return tuple(sorted(out, key=lambda c: (c.created, c.id)))


def _with_deleted(c: Comment, when: datetime | None) -> Comment:
    return Comment(c.id, c.parent_id, c.author_id, c.author_name, c.is_brand, c.created, c.text,
                   c.edited_at, when, c.likes)


def _id(platform: str, post_id: str, n: int) -> str:
    if platform == "youtube":
        return f"Ug{post_id}{n:04d}"
    if platform == "facebook_pages":
        return f"{post_id.rsplit('_', 1)[-1]}_{n + 1:05d}"
    return f"179{post_id}{n:05d}"  # Instagram: numeric, the media id inside (the sandbox finds it)


def visible(comments: tuple[Comment, ...], cutoff: datetime) -> list[Comment]:
    return [c for c in comments if c.visible(cutoff)]
