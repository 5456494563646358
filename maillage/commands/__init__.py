"""Subcommands of the ``maillage`` command line, one module per concern."""
