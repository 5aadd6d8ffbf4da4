"""Receptive fields: what one unit of a feature map can see (analytic) and what it really looks at (effective).

- :mod:`.analytic`: the theoretical field of every layer, traced through the real graph on the ``meta`` device
  (:func:`receptive_fields` -> :class:`FieldTable` of :class:`LayerField`; :func:`unit_field` -> the input box
  of one unit, padding counted apart);
- :mod:`.effective`: the effective field of Luo et al. 2016 (:func:`effective_receptive_field` -> :class:`ERF`,
  ``grad`` of shape ``[H, W]``: where the centre unit's gradient goes, averaged over inputs);
- :mod:`.figures`: the Plotly figures of the Receptive fields page. Not imported here (it needs Plotly and PIL):
  ``from core.receptive_field.figures import field_figure``.

Gotcha: every field is in *input pixels* of the square image the network gets, and the analytic box may reach
outside it (zero padding); ``UnitField.clipped_box`` is the part made of real pixels.
"""
from __future__ import annotations

from core.receptive_field import analytic, effective
from core.receptive_field.analytic import *  # noqa: F401,F403 - its __all__: the field algebra and the tracer
from core.receptive_field.effective import ERF, effective_receptive_field, pixels_holding  # noqa: F401

__all__ = [*analytic.__all__, "ERF", "effective_receptive_field", "pixels_holding"]
