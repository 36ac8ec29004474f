"""Duplicate marks kept sound: sessions marked as the same workout form groups, and each
group has exactly one kept session that counts (its original); every other session of the
group points straight at it. No mark forms a cycle or points at a session in the bin or one
that is gone, so a workout always counts exactly once. Every write that changes marks or
the bin ends with ``repair_marks`` in its own transaction."""

from __future__ import annotations

import sqlite3


def repair_marks(con: sqlite3.Connection) -> int:
    """Make the marks sound (see above); returns how many sessions' marks changed.

    A group is what the marks join (through sessions in the bin too). Its original is the
    kept session no mark leaves, if there is one; else (the original is in the bin, or the
    marks go round in a circle) the oldest kept session of the group. A group all in the bin
    is left as it is until one of it comes back. Sessions in the bin point at the original
    as well, so that restoring one brings it back as a duplicate, not as a second count.
    """
    rows = con.execute("SELECT id, duplicate_of, deleted_utc IS NULL FROM sessions").fetchall()
    ids = {int(r[0]) for r in rows}
    mark = {int(r[0]): int(r[1]) if r[1] is not None else None for r in rows}
    parent = {i: m if m is not None and m in ids and m != i else None for i, m in mark.items()}
    kept = {int(r[0]) for r in rows if r[2]}

    group = {i: i for i in ids}  # union-find over the marks

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, p in parent.items():
        if p is not None:
            group[find(i)] = find(p)
    members: dict[int, list[int]] = {}
    for i in sorted(ids):
        members.setdefault(find(i), []).append(i)
    want: dict[int, int | None] = {}
    for group_ids in members.values():
        live = [i for i in group_ids if i in kept]
        if not live:
            want.update({i: parent[i] for i in group_ids})  # all in the bin: only bad marks go
            continue
        roots = [i for i in live if parent[i] is None]
        original = roots[0] if len(roots) == 1 else live[0]
        want.update({i: None if i == original else original for i in group_ids})
    changed = [(w, i) for i, w in want.items() if mark[i] != w]
    con.executemany("UPDATE sessions SET duplicate_of = ? WHERE id = ?", changed)
    return len(changed)
