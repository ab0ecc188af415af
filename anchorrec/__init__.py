"""AnchorRec Studio: train, inspect and audit anchor-aligned multimodal recommenders.

The library never imports streamlit (except :mod:`anchorrec.ui`, the helpers of the pages).
"""

__version__ = "0.1.0"
