"""CLI subcommands: one module each, exposing ``register(subparsers)`` that sets ``func`` via set_defaults.

``func(args) -> int`` returns the exit status. Print JSON with :func:`core.cli._common.print_json`.

Imports: ``python -m core`` imports every command module to register it, so a module imports torch, PIL, numpy
and the model, lesson and explanation code inside the function that needs them (marked ``# heavy``); light
project modules (errors, the run store, the config) are imported at the top.
"""
