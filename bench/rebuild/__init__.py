"""Scripts that rebuild shipped files: models, diagnostics, screenshots, generated doc tables."""
