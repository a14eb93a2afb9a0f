"""One module per CLI command; each has ``register(parser)`` (its row: ``cli.main.COMMANDS``)."""
