"""``python -m worker.cli``: the ``feedwatch`` command."""

import sys

from worker.cli import main

sys.exit(main())
