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

A comment is visible on the night ``as_of`` when it was written before the end of that night
(``cutoff``) and not deleted by then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from socialwh_dev.sandbox.datagen import seeded_rng

MAX_FAN_COMMENTS = 40
FANS_PER_ACCOUNT = 120
BRAND_REPLY_SHARE = 0.6
FAN_REPLY_SHARE = 0.15
EDIT_SHARE = 0.10
DELETE_SHARE = 0.05
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


@lru_cache(maxsize=16384)
def thread(seed: int, platform: str, account_id: str, brand_name: str, post_id: str,
           published: datetime, final_comments: int, tau_days: float) -> tuple[Comment, ...]:
    """Every comment and reply the post will ever get, oldest first (ids are unique per post)."""
    r = seeded_rng(seed, platform, "comments", account_id, post_id)
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
            text=_sentence(r, _WORDS),
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
