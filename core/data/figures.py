"""What the Data sets page draws from a data set: its class counts as a bar chart.

Gotcha: class names can come from a user's folder names, and Plotly renders a little HTML in labels (``<a href>``,
``<b>``, ``<br>``): the names are escaped, so a folder called ``<img src=x>`` is shown as typed.
"""
from __future__ import annotations

import html

import plotly.graph_objects as go


def class_counts_figure(counts: dict[str, int]) -> go.Figure:
    """One bar per class (``counts``: class name -> images, in the data set's class order), 320 px high."""
    fig = go.Figure(go.Bar(x=[html.escape(c) for c in counts], y=list(counts.values())))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="class", yaxis_title="images")
    return fig
