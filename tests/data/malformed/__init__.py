"""Generated corpus of malformed inputs (see corpus.py)."""
