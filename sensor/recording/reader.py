"""Reading a recording: ``RecordingReader`` streams its items, checking every record and
every value, skipping and counting damaged blocks, resynchronizing after a corrupt length,
bounding decompression. ``read_recording`` reads one whole; ``read_header`` just its header."""

from __future__ import annotations

import mmap
import os
import re
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sensor.errors import RecordingError
from sensor.events import Gap
from sensor.files.checks import GapCheck, StreamCheck, finite_number, parse_json
from sensor.recording.format import _BLOCK, _MAX_PAYLOAD, _QUANTIZED, _RAW, _REC
from sensor.recording.format import FORMAT_VERSION as FORMAT_VERSION
from sensor.recording.format import MAGIC as MAGIC
from sensor.recording.format import MAX_BLOCK_SAMPLES as MAX_BLOCK_SAMPLES
from sensor.recording.format import SUFFIX as SUFFIX
from sensor.recording.format import decode_samples as decode_samples
from sensor.recording.format import encode_samples as encode_samples
from sensor.samples import Samples
from sensor.stream import Header, ReadStatus


@dataclass(slots=True)
class Recording:
    """A recording read back whole."""

    path: Path
    header: Header
    samples: Samples
    gaps: list[Gap]
    notes: list[dict[str, Any]]
    complete: bool  # an end record was found
    torn_tail: bool  # the file ends in a partial record (crash while writing)
    damaged_blocks: int


_KINDS = frozenset(b"HSGME")
_MAX_JSON = 1 << 20  # header, gap, note and end records are small
_INFLATE_BASE = 64 << 20  # total decompressed bytes allowed: this plus ...
_INFLATE_RATIO = 100  # ... this many times the file size (real recordings: about 5)
_CANDIDATE = re.compile(b"[HSGME]")


class RecordingReader:
    """Reads a recording record by record (memory stays bounded for long sessions).

    Contents are validated as they are read (``sensor.files.checks``): anything that is not
    what HoldTrack writes raises ``RecordingError`` naming the byte. Records failing their
    checksum are skipped and counted; after a corrupt length the reader resynchronizes
    on the next valid record. ``status`` (also ``header.status``) says what was found.
    """

    def __init__(self, path: str | Path, *, validate: bool = True) -> None:
        self.path = Path(path)
        self.validate = validate
        try:
            st = os.stat(self.path)
            if not stat.S_ISREG(st.st_mode):
                raise RecordingError(self.path, "not a regular file")
            with open(self.path, "rb") as f:
                self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if st.st_size else b""
        except OSError as e:
            raise RecordingError(self.path, f"cannot open: {e.strerror}") from None
        if self._mm[: len(MAGIC)] != MAGIC:
            self._close()
            raise RecordingError(self.path, "not a HoldTrack recording (bad magic)")
        self.status = ReadStatus()
        self.notes: list[dict[str, Any]] = []
        self._inflate_budget = _INFLATE_BASE + _INFLATE_RATIO * len(self._mm)
        self._pos = self.valid_end = len(MAGIC)
        self._check_header_size()
        first = self._next_record()
        if first is None or first[1] != b"H":
            self._close()
            raise RecordingError(self.path, "recording has no header")
        try:
            self.header = Header.from_json(parse_json(first[2]))
        except ValueError as e:
            self._close()
            raise RecordingError(self.path, f"bad header: {e}") from None
        self.header.status = self.status

    # Old attribute names, kept for callers.
    complete = property(lambda self: self.status.complete)
    torn_tail = property(lambda self: self.status.torn_tail)
    damaged_blocks = property(lambda self: self.status.damaged_blocks)

    def _close(self) -> None:
        if isinstance(self._mm, mmap.mmap):
            self._mm.close()

    def _check_header_size(self) -> None:
        """A header record over the JSON bound is refused as such (not skipped as damage,
        which would leave the file without a header)."""
        if len(self._mm) >= len(MAGIC) + _REC.size:
            kind, length, _crc = _REC.unpack_from(self._mm, len(MAGIC))
            if kind == b"H" and length > _MAX_JSON:
                self._close()
                raise RecordingError(self.path, f"header is too large ({length:,} bytes; at most {_MAX_JSON:,} accepted)")

    def _valid_at(self, pos: int, cheap: bool) -> int | None:
        """End of a valid record at ``pos``, else None (``cheap``: look before the CRC)."""
        mm, size = self._mm, len(self._mm)
        if pos + _REC.size > size:
            return None
        kind, length, crc = _REC.unpack_from(mm, pos)
        end = pos + _REC.size + length
        if kind[0] not in _KINDS or end > size or length > (_MAX_PAYLOAD if kind == b"S" else _MAX_JSON):
            return None
        body = pos + _REC.size
        if cheap:  # resync: most false candidates fail on the payload's first bytes
            ok = (
                (length > 5 and mm[body + 4] in (_RAW, _QUANTIZED) and mm[body + 5] == 0x78)
                if kind == b"S"
                else (length > 0 and mm[body] == ord("{"))
            )
            if not ok:
                return None
        return end if zlib.crc32(mm[body:end]) == crc else None

    def _next_record(self) -> tuple[int, bytes, bytes] | None:
        """(offset, kind, payload) of the next valid record; damage is skipped and counted."""
        size = len(self._mm)
        while self._pos < size:
            pos = self._pos
            end = self._valid_at(pos, cheap=False)
            if end is not None:
                self._pos = self.valid_end = end
                return pos, self._mm[pos : pos + 1], self._mm[pos + _REC.size : end]
            nxt = self._resync(pos + 1)
            if nxt is None:
                # Nothing valid follows. A record that runs past the end is a crash while
                # writing (the torn tail); one that fits but fails its checksum is damage.
                fits = pos + _REC.size <= size and pos + _REC.size + _REC.unpack_from(self._mm, pos)[1] == size
                if fits:
                    self.status.damaged_blocks += 1
                    self.status.damaged_bytes += size - pos
                else:
                    self.status.torn_tail = True
                self._pos = size
                return None
            self.status.damaged_blocks += 1
            self.status.damaged_bytes += nxt - pos
            self._pos = nxt
        return None

    def _resync(self, start: int) -> int | None:
        for m in _CANDIDATE.finditer(self._mm, start):
            if self._valid_at(m.start(), cheap=True) is not None:
                return m.start()
        return None

    def _bad(self, offset: int, what: str) -> RecordingError:
        return RecordingError(self.path, f"{what} (record at byte {offset})")

    def __iter__(self) -> Iterator[Samples | Gap]:
        """Sample blocks and gaps in stream order."""
        check = StreamCheck()
        gaps = GapCheck()  # gaps against the samples around them (when validating)
        held: list[Samples | Gap] = []  # until the first seconds have passed the unit check
        try:
            while (rec := self._next_record()) is not None:
                offset, kind, payload = rec
                items: list[Samples | Gap] = []
                if kind == b"S":
                    s = self._samples(offset, payload, check)
                    g = None
                    if s is not None and len(s) and self.validate:
                        try:
                            g = gaps.before(s)
                        except ValueError as e:
                            raise self._bad(offset, str(e)) from None
                    items = [x for x in (g, s) if x is not None]
                elif kind == b"G":
                    g = self._gap(offset, payload)
                    if not self.validate:
                        items = [g]
                    else:
                        try:
                            gaps.gap(g)  # given with the samples after it
                        except ValueError as e:
                            raise self._bad(offset, str(e)) from None
                elif kind == b"M":
                    note = self._json(offset, payload, "note")
                    self.notes.append(note)
                elif kind == b"E":
                    end = self._json(offset, payload, "end record")
                    self.status.complete = True
                    self.status.recovered = end.get("recovered") is True  # closed by sensor.recording.recovery
                    break  # nothing after a clean stop belongs to this recording
                if not items:
                    continue
                if self.validate and not check.checked_units:
                    held.extend(items)
                    continue
                yield from held
                held.clear()
                yield from items
            if self.validate:
                if self.status.first_s is None:
                    damage = f" ({self.status.damaged_blocks} damaged blocks skipped)" if self.status.damaged_blocks else ""
                    raise RecordingError(self.path, f"recording holds no readable samples{damage}")
                try:
                    check.finish()
                    last = gaps.finish()
                except ValueError as e:
                    raise RecordingError(self.path, str(e)) from None
                if last is not None:
                    held.append(last)
            yield from held
        finally:
            self._close()

    def _json(self, offset: int, payload: bytes, what: str) -> dict[str, Any]:
        try:
            obj = parse_json(payload)
        except ValueError as e:
            raise self._bad(offset, f"{what} is {e}") from None
        if not isinstance(obj, dict):
            raise self._bad(offset, f"{what} is a JSON {type(obj).__name__}, not an object")
        return obj

    def _gap(self, offset: int, payload: bytes) -> Gap:
        g = self._json(offset, payload, "gap record")
        try:
            start, end = finite_number(g, "start_s"), finite_number(g, "end_s")
        except ValueError as e:
            raise self._bad(offset, f"gap record: {e}") from None
        if end < start:
            raise self._bad(offset, f"gap record ends ({end:.10g} s) before it starts ({start:.10g} s)")
        return Gap(start, end)

    def _samples(self, offset: int, payload: bytes, check: StreamCheck) -> Samples | None:
        if len(payload) < _BLOCK.size:
            raise self._bad(offset, "sample block is too short")
        n = _BLOCK.unpack_from(payload)[0]
        need = 56 + n * 56
        if n > MAX_BLOCK_SAMPLES:
            raise self._bad(offset, f"sample block claims {n} samples (at most {MAX_BLOCK_SAMPLES}): refused")
        if need > self._inflate_budget:
            limit = (_INFLATE_BASE + _INFLATE_RATIO * len(self._mm)) >> 20
            raise self._bad(
                offset, f"samples decompress to more than {limit} MB for a {len(self._mm) >> 10} kB file: refused (a compression bomb?)"
            )
        self._inflate_budget -= need
        try:
            s = decode_samples(payload)
        except (ValueError, zlib.error, struct.error):
            # The checksum matched, so the writer wrote it so: not ours to guess at.
            raise self._bad(offset, "sample block cannot be decoded") from None
        if self.validate:
            try:
                check.block(s)
            except ValueError as e:
                raise self._bad(offset, str(e)) from None
        if len(s):
            if self.status.first_s is None:
                self.status.first_s = float(s.time_s[0])
            self.status.last_s = float(s.time_s[-1])
            self.status.samples += len(s)
        return s

    def read(self) -> Recording:
        parts: list[Samples] = []
        gaps: list[Gap] = []
        for item in self:
            (parts if isinstance(item, Samples) else gaps).append(item)  # type: ignore[arg-type]
        return Recording(
            self.path,
            self.header,
            Samples.concat(parts),
            gaps,
            self.notes,
            self.complete,
            self.torn_tail,
            self.damaged_blocks,
        )


def read_recording(path: str | Path, *, validate: bool = True) -> Recording:
    """A whole recording; ``validate=False`` skips the value checks (times, units), not
    the structural ones (header, records, decompression bounds)."""
    return RecordingReader(path, validate=validate).read()


def read_header(path: Path) -> Header:
    """A recording's header, with the file closed again (RecordingReader closes its file
    when its iteration ends, so one step of it is taken and then stopped)."""
    reader = RecordingReader(path)
    items = iter(reader)
    next(items, None)
    items.close()  # type: ignore[attr-defined]  # a generator: runs the reader's finally
    return reader.header
