"""The page every listing answers with: items, offset, limit, total and the next page's URL."""

from __future__ import annotations

from typing import Any

from flask import url_for


def page(
    items: list[Any],
    offset: int,
    limit: int,
    total: int,
    endpoint: str,
    *,
    end: int | None = None,
    **values: Any,
) -> dict[str, Any]:
    """A page of a listing; ``next`` is None on the last one.

    ``end`` is where the next page starts (default: after these items); a listing that skips
    entries it can no longer read passes ``offset + limit``. ``values`` are the endpoint's other
    URL values (a campaign id, a filter).
    """
    end = offset + len(items) if end is None else end
    more = end < total and (bool(items) or end > offset + len(items))
    return {
        "items": items,
        "offset": offset,
        "limit": limit,
        "total": total,
        "next": url_for(endpoint, offset=end, limit=limit, **values) if more else None,
    }
