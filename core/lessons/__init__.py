"""Lessons: small, measured experiments behind the "Lessons" pages (and their CLI commands).

- :mod:`core.lessons.knn` — k-nearest neighbours vs learned classifiers ("a classifier is compressed data").
- :mod:`core.lessons.depth` — depth, vanishing gradients, residual paths (He et al. 2015, Veit et al. 2016).

Each experiment runs in-process within a stated budget (tiny networks, Shapes at 32 px), reports what it measured
(accuracy, bytes, milliseconds, seconds) and never imports Streamlit. Shared helpers: :mod:`core.lessons.data`
(a data set as in-memory tensors) and :mod:`core.lessons.fit` (the one small training loop the lessons use).
"""
