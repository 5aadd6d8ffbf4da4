"""Streamlit pages (thin: widgets -> one core call -> render); ``_``-prefixed modules are shared UI helpers.

Named ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder next to the entry file as a legacy
multi-page app, and the first request after a server start would run a page without ``app.py``'s navigation.
"""
