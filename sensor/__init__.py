"""HoldTrack: back-exercise tracking from a hip-worn IMU.

The data path, one module per hop:
``devices/`` (bytes -> samples), ``samples`` (the chunk type), ``pipeline`` (samples ->
events), ``recording`` (samples -> file -> samples), ``store`` (events -> SQLite), and the
``dashboard`` package (events -> charts).
"""

__version__ = "0.1.0"
