"""``holdtrack convert IN OUT.htrec``: any supported input into the lossless recording.

Samples go through the same readers and checks as ``analyze`` (so what is archived is
what would be analysed) and are written block by block to a uniquely named temporary file
that is renamed into place only when complete: a failure leaves nothing behind.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.events import Gap
from sensor.samples import Samples


def convert(src: str | Path, dst: str | Path, *, force: bool = False, mount: str | None = None) -> tuple[int, float]:
    """Write ``src`` as a recording at ``dst``; returns (samples, seconds of data)."""
    from sensor.files.inputs import open_input
    from sensor.files.output import check_output, fsync_dir, write_error
    from sensor.recording import RecordingWriter

    src, dst = Path(src), Path(dst)
    check_output(dst, "OUT", [src], force=force)  # never over the input, nor a file unasked
    header, items = open_input(src)
    header.extra = {**header.extra, "converted_from": src.name}
    if mount:
        header.mount = mount
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.part")
    n, first, last = 0, None, None
    try:
        with RecordingWriter(tmp, header, block_s=10.0, flush_interval_s=1e9, shown_as=dst) as w:
            for item in items:
                if isinstance(item, Gap):
                    w.mark_gap(item.start_s, item.end_s)
                    continue
                if not isinstance(item, Samples) or not len(item):
                    continue
                first = float(item.time_s[0]) if first is None else first
                last = float(item.time_s[-1])
                n += len(item)
                w.write(item)
        if n == 0:
            raise InputError(src, "no samples to convert")
        os.replace(tmp, dst)
        fsync_dir(dst.parent)
    except OSError as e:  # a full disk: one line, nothing left behind
        tmp.unlink(missing_ok=True)
        raise write_error(e, dst) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n, float(np.float64(last) - np.float64(first)) if first is not None and last is not None else 0.0
