"""Bounds every reader of untrusted input applies (files, recordings, phone pushes): one
place for them, so that what one reader accepts another never refuses (a converted or
imported file is read back as a recording).

A value outside these is not a workout: the reader refuses it with a message naming
where, rather than allocating for it or analysing it into a wrong answer.
"""

from __future__ import annotations

MIN_RATE_HZ = 4.0
MAX_RATE_HZ = 2000.0
"""Sample rates read from the times. phyphox custom experiments can log at 5 Hz; far
outside this the time unit is wrong (ms, µs)."""

MAX_PAUSE_S = 6 * 3600.0
"""Longest forward jump in sample times accepted inside one session (a long break in a
workout); a longer one is a clock error or two sessions in one file, and is refused with
its place."""

MAX_SESSION_S = 24 * 3600.0
"""Longest session span accepted (a 10-hour recording is fine; 31 years is a typo)."""

MAX_JSON_DEPTH = 32
"""Nesting depth accepted in any JSON we parse from outside (Sensor Logger uses 3)."""

EARLIEST_UTC_S = 946_684_800.0  # 2000-01-01T00:00:00Z
LATEST_UTC_S = 4_102_444_800.0  # 2100-01-01T00:00:00Z
"""Dates a file may give for when it was recorded (a header's ``created_utc``, a column of
absolute times). No phone or BLE IMU recorded before 2000, and smaller numbers in a time
column are seconds since the start; a date past 2100 is a typo or a clock never set (it
would also overflow the local calendar and FIT's 32-bit timestamps)."""

FUTURE_SLACK_S = 2 * 86400.0
"""How far past this computer's clock a session may start when it is stored: a recorder
whose clock runs ahead, or local time written as UTC (up to 14 h), not more. A session from
the future would stretch every week-by-week view up to its date."""

MAX_JSON_COST = 48 << 20
"""Memory a JSON text from outside may take to parse (``sensor.files.checks.json_cost``):
a Sensor Logger batch of 1 MB (10,000 readings) needs about 18 MB; a recording's header
is at most 1 MB of text."""

MAX_PHONE_ACC_MS2 = 1000.0
"""Largest acceleration component accepted from a phone: phone accelerometers read up to
16 g (a few 32 g, 314 m/s²); 1000 m/s² (about 100 g) is no phone on the hips. Also keeps
every value finite in the recording's float32."""

MAX_PHONE_GYRO_RADS = 100.0
"""Largest angular rate component accepted from a phone: phone gyroscopes read up to
2000 °/s (35 rad/s; a few 4000 °/s); 100 rad/s is 5700 °/s."""

MAX_STREAMED_ROWS = int(MAX_SESSION_S * MAX_RATE_HZ * 1.1)
"""Rows of a table read block by block (the generic CSV): the longest session accepted at
the highest rate, with a tenth more for ties, so every CSV ``export`` writes reads back.
Tables read whole into memory (phone exports) keep ``csvread.MAX_ROWS``."""

GAP_SLACK_S = 1.0
"""How far a gap record's ends may lie from the samples around it: a source marks a link
loss from the last sample before to the first after, stamped by a clock that may drift."""

GAPS_PER_S = 0.5
"""Gap records accepted per second of samples (beyond the first 100): a link lost every 2 s
for a whole session is already no workout; more is a damaged or hostile file."""
