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


# -- paging styles: how a list endpoint names its next page (RestClient.PAGING) ------------------
#
# A style says how a page is asked for (``request(path, params, key, size)`` -> the path or URL
# and the query of that page) and read (``items(body, key, ...)`` and ``next(body, key)``, the
# next page's key); :meth:`socialwh.connectors.rest.RestClient._paged` runs them through
# :func:`pages`. ``subject`` is what the platform calls an account, in errors.


def _at(body: Any, path: str) -> Any:
    for step in path.split("."):
        body = body.get(step) if isinstance(body, Mapping) else None
    return body


class Cursor:
    """An opaque cursor: the page names the next one at ``cursor`` (a dotted path), the next
    request sends it as ``param`` (Pinterest ``bookmark``, X ``next_cursor`` -> ``cursor``, Google
    Ads ``nextPageToken`` -> ``pageToken``); ``size`` is the page-size parameter (when sent)."""

    first = ""

    def __init__(self, items: str, cursor: str, param: str, size: str, subject: str) -> None:
        self.items_key, self.cursor, self.param, self.size, self.subject = items, cursor, param, size, subject

    def request(self, path: str, params: Mapping[str, Any], key: str, size: int) -> tuple[str, dict]:
        return path, {**params, **({self.size: str(size)} if size else {}), **({self.param: key} if key else {})}

    def items(self, body: Any, key: Any, *, platform: str, what: str, url: str) -> list:
        return items_of(body, self.items_key, platform=platform, what=what, url=url)

    def next(self, body: Any, key: Any) -> Any:
        return _at(body, self.cursor)


class PageNumber(Cursor):
    """Numbered pages from 1 (``param``) until ``cursor`` (a dotted path to the page count:
    TikTok ``page_info.total_page``) is reached or a page is empty."""

    first = 1  # type: ignore[assignment]

    def request(self, path: str, params: Mapping[str, Any], key: Any, size: int) -> tuple[str, dict]:
        return path, {**params, self.param: str(key), self.size: str(size)}

    def items(self, body: Any, key: Any, *, platform: str, what: str, url: str) -> list:
        items, total = _at(body, self.items_key), _at(body, self.cursor)
        if not isinstance(items, list) or not isinstance(total, int):
            raise TransientError(platform, 200, "shape", f"{what}: page {key} has no {self.items_key} "
                                 f"or {self.cursor}", url)
        return items

    def next(self, body: Any, key: Any) -> Any:
        return key + 1 if key < _at(body, self.cursor) and _at(body, self.items_key) else None


class NextLink(Cursor):
    """A whole next URL at ``cursor`` (Snapchat ``paging.next_link``), followed as given; the
    list is under the path's last segment (``adaccounts/1/campaigns`` -> ``campaigns``)."""

    def __init__(self, cursor: str, size: str, subject: str) -> None:
        super().__init__("", cursor, "", size, subject)

    def request(self, path: str, params: Mapping[str, Any], key: str, size: int) -> tuple[str, Any]:
        return (key, None) if key else (path, {**params, **({self.size: str(size)} if size else {})})

    def items(self, body: Any, key: Any, *, platform: str, what: str, url: str) -> list:
        return items_of(body, url.rstrip("/").rsplit("/", 1)[-1], platform=platform, what=what, url=url)
