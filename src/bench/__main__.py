"""``python -m bench``: the headless command line."""
import sys

from .cli import main

sys.exit(main())
