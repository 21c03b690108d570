"""Senti-review: transfer learning for IMDb sentiment, from notebook to web app.

Importing the package (and its text, data and prediction modules) never imports torch:
the web process serves the light model with ONNX Runtime.
"""

__version__ = "0.1.0"
