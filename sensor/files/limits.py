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
