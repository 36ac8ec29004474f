"""``analyze`` reads a file one thread ahead of the pipeline: the items arrive in order,
an error arrives where it happened, and stopping early ends the thread and closes the
source."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sensor.files.read_ahead import read_ahead


def test_items_arrive_in_order_whatever_the_depth() -> None:
    for depth in (1, 2, 7):
        assert list(read_ahead(range(500), depth)) == list(range(500))
    assert list(read_ahead([], 3)) == []


def test_an_error_arrives_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("block 3 is damaged")

    got: list[int] = []
    with pytest.raises(ValueError, match="block 3 is damaged"):
        for x in read_ahead(source(), 1):
            got.append(x)
    assert got == [1, 2]


def test_stopping_early_ends_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            i = 0
            while True:  # endless: only closing it ends it
                yield i
                i += 1
        finally:
            closed.set()

    before = {t.ident for t in threading.enumerate()}
    it = read_ahead(source(), 2)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()  # joins the reader thread
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.ident not in before and t.name == "read-ahead"]


def test_an_error_in_the_consumer_stops_the_reader() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(10**9)
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        for x in read_ahead(source(), 3):
            if x == 10:
                raise RuntimeError("pipeline failed")
    assert closed.is_set()


def test_a_source_that_fails_to_start_or_to_close_is_an_error_not_a_hang() -> None:
    class BadStart:
        def __iter__(self) -> Iterator[int]:
            raise OSError("cannot open")

    with pytest.raises(OSError, match="cannot open"):
        list(read_ahead(BadStart(), 2))

    class BadClose:
        def __init__(self) -> None:
            self.items = iter([1, 2])

        def __iter__(self) -> BadClose:
            return self

        def __next__(self) -> int:
            return next(self.items)

        def close(self) -> None:
            raise OSError("cannot close")

    got: list[int] = []
    with pytest.raises(OSError, match="cannot close"):
        for x in read_ahead(BadClose(), 2):
            got.append(x)
    assert got == [1, 2]
