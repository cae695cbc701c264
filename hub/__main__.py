"""``python -m hub``: the hub command, as the ``hub`` script runs it."""

import sys

from hub.cli import main

sys.exit(main())
