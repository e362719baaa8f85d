"""Paging loops: what every connector's list endpoints share.

APIs page in different shapes: an opaque cursor (Google Ads ``nextPageToken``, LinkedIn
``metadata.nextPageToken``, X ``next_cursor``, Pinterest ``bookmark``), a whole next link (Graph
``paging.next``, Snapchat ``paging.next_link``) or a page number (TikTok ``page_info``). What
is the same is the loop: ask for a page, take its items, go on with what the page names as the
next one, stop when it names none, and never loop forever when an API hands back a page it
already gave (a list shifting under us, or a bug on its side): that is an error naming the list,
not a night that never ends. A connector passes :func:`pages` one function, ``fetch(key) ->
(items, next key)``, and keeps only its envelope. The organic lists' extra rules are options of
the same loop: a date cut (``stop``: a list sorted newest first reached the window's start) and a
page budget (``max_pages``); ``has_more`` flags, totals and short pages are read by the fetch,
which then names no next page.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from socialwh.connectors.http import ApiError, TransientError

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def pages(fetch: Callable[[K], tuple[Iterable[T], K | None]], first: K, *, platform: str,
          what: str, url: str = "", max_pages: int | None = None,
          stop: Callable[[list[T]], bool] | None = None) -> Iterator[T]:
    """Every item of a paged list, page by page.

    ``fetch(key)`` gets one page (``first`` is the first page's key) and returns its items and
    the next page's key; a key that is None or empty ends the list. A stop rule read from the
    page's envelope (``has_more`` false, a total reached, a short page) is the fetch's: it
    returns None.

    - ``stop(items)``, asked after a page's items were handed on, ends the list although the page
      names a next one: a date cut on a list sorted newest first (the page reached posts older
      than the window, so every later page is older still).
    - ``max_pages`` bounds the calls: a list that still names a next page after that many pages
      raises an :class:`ApiError` naming ``what`` (a list that never ends, or a real one longer
      than the connector's ``max_pages`` allows).
    - A key seen before, the first page's included, raises an :class:`ApiError` naming ``what``:
      paging would never end."""
    key: K = first
    seen: set[K] = {first}
    count = 0
    while True:
        items, following = fetch(key)
        count += 1
        if stop is not None:
            items = list(items)
        yield from items
        if following is None or following == "":
            return
        if stop is not None and stop(items):  # type: ignore[arg-type]
            return
        if following in seen:
            shown = str(following)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            how = "does not move" if following == key else "goes back"
            raise ApiError(platform, 200, "paging",
                           f"{what}: the cursor {how}: the API named page {shown!r} twice; paging "
                           "would never end", url)
        if max_pages is not None and count >= max_pages:
            raise ApiError(platform, 200, "paging",
                           f"{what}: more than {max_pages} pages; raise max_pages", url)
        seen.add(following)
        key = following


def items_of(body: Any, key: str, *, platform: str, what: str, url: str = "") -> list:
    """``body[key]`` when it is a list; a page without one is a truncated or changed answer,
    raised as a :class:`TransientError` naming the list."""
    items = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise TransientError(platform, 200, "shape", f"{what} has no '{key}' list", url)
    return items
