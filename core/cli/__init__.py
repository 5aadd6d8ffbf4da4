"""CLI subcommands: one module each, exposing ``register(subparsers)`` that sets ``func`` via set_defaults.

``func(args) -> int`` returns the exit status. Print JSON with :func:`core.cli._common.print_json`.
"""
