"""``python -m posebench``: the headless command line."""

import sys

from posebench.cli.main import main

sys.exit(main())
