"""A fake phyphox phone for tests, demos and benchmarks: phyphox's remote access, built
from its published description (/work/shared/phone-live.md: the wiki's "Remote-interface
communication", the app sources it cites), serving a simulated wearer
(``sensor.sim``) at the phone's real pace. The runtime never imports it
(``tests/test_architecture.py``).
"""

from sensor.fake_phyphox.server import FakePhyphox

__all__ = ["FakePhyphox"]
