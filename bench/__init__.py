"""Benchmarks: each module prints figures and a ratio against a baseline measured in the same process.

Run one with ``.venv/bin/python -m bench.<name>``; ``python -m bench`` runs them all.
"""
