"""Lessons: small, measured experiments behind the "Lessons" pages (and their CLI commands).

- :mod:`core.lessons.knn` — k-nearest neighbours vs learned classifiers ("a classifier is compressed data");
  CLI ``python -m core knn``.
- :mod:`core.lessons.fc_vs_conv` — fully connected vs convolution: parameters, same-budget accuracy, templates.
- :mod:`core.lessons.depth` — depth, vanishing gradients, residual paths (He et al. 2015, Veit et al. 2016);
  CLI ``python -m core gradients``.
- :mod:`core.lessons.shortcut` — shortcut learning on Shapes with the background colour tied to the class.

Each experiment runs in-process within a stated budget (tiny networks, Shapes at 32 px), reports what it measured
(accuracy, bytes, milliseconds, seconds), writes a conclusion computed from those numbers (saying so when the
textbook effect does not show) and never imports Streamlit. Shared helpers: :mod:`core.lessons.data` (a data set
as in-memory tensors) and :mod:`core.lessons.fit` (the one small training loop and the tiny networks).
"""
