"""The command line, ``posebench`` / ``python -m posebench``."""

from posebench.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
