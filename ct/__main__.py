"""``python -m ct`` runs the command line."""

import sys

from ct.cli import main

sys.exit(main())
