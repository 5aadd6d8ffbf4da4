"""Lessons: small, measured experiments behind the "Lessons" pages (and their CLI commands).

- :mod:`core.lessons.knn` — k-nearest neighbours vs learned classifiers ("a classifier is compressed data");
  CLI ``python -m core knn``.
- :mod:`core.lessons.fc_vs_conv` — fully connected vs convolution: parameters, same-budget accuracy, templates.
- :mod:`core.lessons.depth` — depth, vanishing gradients, residual paths (He et al. 2015, Veit et al. 2016);
  CLI ``python -m core gradients``.
- :mod:`core.lessons.shortcut` — shortcut learning on Shapes with the background colour tied to the class.

The first three run in-process within a budget of under a minute on a 2-core CPU (tiny networks, Shapes at
32 px; ``python -m bench.lessons`` measures it); the shortcut lesson trains three real runs through the training
engine (worker subprocesses, state on disk, progress on the page). Each reports what it measured (accuracy, bytes,
milliseconds, seconds), writes a conclusion computed from those numbers (saying so when the textbook effect does
not show) and never imports Streamlit. Shared helpers: :mod:`core.lessons.data` (a data set as in-memory tensors,
:func:`~core.lessons.data.load_shapes_tensors`) and :mod:`core.lessons.fit` (the one small training loop and the
tiny networks). Parts of a lesson with a job of their own: :mod:`core.lessons.neighbours` (brute-force k-NN
search) and :mod:`core.lessons.features` (a network as a feature extractor) for k-NN;
:mod:`core.lessons.deep_cnn` (the plain / residual network) and :mod:`core.lessons.gradients` (gradient norms
per layer, GoogLeNet's auxiliary heads) for depth. What the pages draw from a result (Plotly figures, image
arrays) is :mod:`core.lessons.figures`.
"""
