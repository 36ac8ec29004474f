"""``tests`` is this project's tests folder, whatever else is installed.

Garmin's FIT SDK (``garmin-fit-sdk``, the decoder the FIT export is tested against) puts a
top-level ``tests`` package of its own into site-packages; a regular package there would
win over this folder (which has no ``__init__.py``) in ``from tests.conftest import ...``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

_tests = types.ModuleType("tests")
_tests.__path__ = [str(Path(__file__).resolve().parent / "tests")]
sys.modules["tests"] = _tests
