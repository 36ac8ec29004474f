"""``python -m sensor.cli``: the ``holdtrack`` command."""

import sys

from sensor.cli import main

sys.exit(main())
