"""Reading ahead: a file's items decoded by a thread while the pipeline works on the last
ones (zlib, CRC, numpy unshuffling and pyarrow mostly run without the GIL)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

READ_AHEAD = 4  # blocks a reader thread may decode ahead of the pipeline

T = TypeVar("T")


def read_ahead(items: Iterable[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """``items`` produced by a thread up to ``depth`` ahead of the consumer, in order.

    Reading a file (zlib, CRC, numpy unshuffling; pyarrow for CSV) mostly runs without
    the GIL, so decoding the next blocks overlaps the pipeline working on this one. An
    error is raised where the consumer reaches it; when the consumer stops early the
    thread stops after at most one more item and closes ``items``.
    """
    q: queue.Queue[tuple[bool, object]] = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        last: tuple[bool, object] = (True, end)
        try:
            it = iter(items)
            try:
                for x in it:
                    if stop.is_set():
                        break
                    q.put((True, x))
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
        except BaseException as e:  # handed to the consumer, raised there (the consumer always gets a last item)
            last = (False, e)
        if not stop.is_set():
            q.put(last)

    th = threading.Thread(target=produce, name="read-ahead", daemon=True)
    th.start()
    try:
        while True:
            ok, x = q.get()
            if not ok:
                assert isinstance(x, BaseException)
                raise x
            if x is end:
                return
            yield x  # type: ignore[misc]  # items of the iterable: T
    finally:
        stop.set()
        # Free the queue: a producer blocked on put goes on, sees ``stop`` and ends
        # (it puts at most one more item, which fits).
        while True:
            try:
                q.get_nowait()
            except queue.Empty:
                break
        th.join()
