"""Streamlit pages (thin: widgets -> one core call -> render). Modules starting with ``_`` are shared UI helpers."""
