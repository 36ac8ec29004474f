"""HoldTrack's recording format (``.htrec``): samples -> file -> the same samples.

Layout: an 8-byte magic, then records ``[kind u8][length u32][crc32 u32][payload]``.
Every record is self-checking and written whole, so the file is append-only and
crash-safe: after a ``kill -9`` or a power cut the reader keeps every complete record and
reports the torn tail. Kinds:

- ``H`` header, JSON: format version, app version, device, rate, mounting, calibration.
- ``S`` samples: ``n u32``, then zlib of the byte-shuffled float64 times and float32
  channels (lossless: replay gives the pipeline the very same bits).
- ``G`` gap, JSON ``{start_s, end_s, reason}``: samples known to be missing (link lost).
- ``M`` metadata update, JSON (calibration found, notes, link events).
- ``E`` end, JSON: a clean stop.
"""

from sensor.recording.format import FORMAT_VERSION as FORMAT_VERSION
from sensor.recording.format import MAGIC as MAGIC
from sensor.recording.format import SUFFIX as SUFFIX
from sensor.recording.reader import Recording as Recording
from sensor.recording.reader import RecordingReader as RecordingReader
from sensor.recording.reader import read_header as read_header
from sensor.recording.reader import read_recording as read_recording
from sensor.recording.writer import RecordingWriter as RecordingWriter
from sensor.recording.writer import write_recording as write_recording
