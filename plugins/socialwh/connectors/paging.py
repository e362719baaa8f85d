"""Paging loops: what every connector's list endpoints share.

APIs page in different shapes: an opaque cursor (Google Ads ``nextPageToken``, LinkedIn
``metadata.nextPageToken``, X ``next_cursor``, Pinterest ``bookmark``), a whole next link (Graph
``paging.next``, Snapchat ``paging.next_link``) or a page number (TikTok ``page_info``). What
is the same is the loop: ask for a page, take its items, go on with what the page names as the
next one, stop when it names none, and never loop forever when an API hands back a page it
already gave (a list shifting under us, or a bug on its side): that is an error naming the list,
not a night that never ends. A connector passes :func:`pages` one function, ``fetch(key) ->
(items, next key)``, and keeps only its envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from socialwh.connectors.http import ApiError, TransientError

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def pages(fetch: Callable[[K], tuple[Iterable[T], K | None]], first: K, *, platform: str,
          what: str, url: str = "") -> Iterator[T]:
    """Every item of a paged list, page by page.

    ``fetch(key)`` gets one page (``first`` is the first page's key) and returns its items and
    the next page's key; a key that is None or empty ends the list. A key seen before raises an
    :class:`ApiError` naming ``what``: paging would never end."""
    key: K = first
    seen: set[K] = set()
    while True:
        items, following = fetch(key)
        yield from items
        if following is None or following == "":
            return
        if following in seen:
            shown = str(following)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise ApiError(platform, 200, "paging",
                           f"{what}: the API named page {shown!r} twice; paging would never end", url)
        seen.add(following)
        key = following


def items_of(body: Any, key: str, *, platform: str, what: str, url: str = "") -> list:
    """``body[key]`` when it is a list; a page without one is a truncated or changed answer,
    raised as a :class:`TransientError` naming the list."""
    items = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise TransientError(platform, 200, "shape", f"{what} has no '{key}' list", url)
    return items
