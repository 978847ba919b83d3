"""Cursor pages over ids kept in creation order, as the Redis stores page their sorted sets."""

from __future__ import annotations

__all__ = ["Sequence"]


class Sequence:
    """Ids in the order they were added; an id keeps its place until it is discarded."""

    def __init__(self) -> None:
        self._order: dict[str, int] = {}
        self._next = 0

    def add(self, item_id: str) -> None:
        """Put `item_id` last (or move it there, as a new score in a sorted set would)."""
        self._next += 1
        self._order[item_id] = self._next

    def add_once(self, item_id: str) -> None:
        """Put `item_id` last unless it is there already."""
        if item_id not in self._order:
            self.add(item_id)

    def discard(self, item_id: str) -> None:
        self._order.pop(item_id, None)

    def ids(self) -> list[str]:
        return sorted(self._order, key=self._order.__getitem__)

    def page(
        self, limit: int, descending: bool, after: str | None = None, before: str | None = None
    ) -> tuple[list[str], bool]:
        """Up to `limit` ids after `after` and before `before` in the asked order (an
        unknown cursor gives an empty page), and whether more follow."""
        low, high = float("-inf"), float("inf")
        for cursor, is_after in ((after, True), (before, False)):
            if not cursor:
                continue
            at = self._order.get(cursor)
            if at is None:
                return [], False
            if is_after != descending:
                low = max(low, at)
            else:
                high = min(high, at)
        found = [i for i in self.ids() if low < self._order[i] < high]
        if descending:
            found.reverse()
        return found[:limit], len(found) > limit
