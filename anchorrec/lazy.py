"""Names of a package loaded on first use (PEP 562), for the packages' ``__init__`` files.

``__getattr__ = lazy_names(__name__, _EXPORTS, globals())`` makes ``from anchorrec.models
import build_model`` import ``anchorrec.models.registry`` only then: importing one submodule
of a package does not import the others (and torch with them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module) on first use of
    ``name`` and keeps the value in ``namespace`` (the package's globals) from then on."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
