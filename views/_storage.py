"""The "Storage on the server" panel, shown on the Data sets and Runs pages (where space can be freed)."""
from __future__ import annotations

import streamlit as st

from core.budget import disk_usage, fmt_bytes


@st.cache_data(ttl=20, show_spinner=False)
def _usage() -> dict:
    """Walking var/ costs ~1 ms a run: cached for 20 s, so a rerun (or a class of them) does not repeat it."""
    u = disk_usage(with_items=True)
    return {"table": u.table(), "total": u.total_bytes, "budget": u.budget_bytes, "free": u.free_bytes,
            "imports": u.items.get("imports", [])}


def clear_storage_usage() -> None:
    """Forget the cached figures (after an import or a delete changed them)."""
    _usage.clear()


def storage_panel(key: str) -> None:
    """What uses the server's storage (core.budget.disk_usage): new runs and imports stop at the budget."""
    u = _usage()
    head = f"Storage on the server: {fmt_bytes(u['total'])}"
    head += f" of {fmt_bytes(u['budget'])}" if u["budget"] else " (no budget set)"
    with st.expander(head):
        st.caption("New runs and zip imports are refused once the app's storage reaches its budget "
                   "(CNNPG_DISK_BUDGET_GB). Free space by deleting old runs (Runs page → Manage a run) or imported "
                   "data sets (Data sets page → Image folder / zip upload → Imported data set → Delete)."
                   + (f" The disk itself has {fmt_bytes(u['free'])} free." if u["free"] is not None else ""))
        st.dataframe({"what": [r["what"] for r in u["table"]], "size": [r["size"] for r in u["table"]]},
                     hide_index=True, key=f"{key}_storage_table")
        if u["imports"]:
            st.dataframe({"imported data set": [n for n, _ in u["imports"]],
                          "size": [fmt_bytes(b) for _, b in u["imports"]]}, hide_index=True, key=f"{key}_storage_imports")
