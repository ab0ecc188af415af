"""The user's writable workspace folder: ``$ANCHORREC_HOME``, else ``~/.anchorrec``.

Its own module, below everything that writes there (model stores, the dataset registry), so
none of them imports another to learn where it is.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the writable workspace.
HOME_ENV = "ANCHORREC_HOME"
DEFAULT_HOME = Path("~/.anchorrec")


def workspace_home() -> Path:
    """The writable workspace: ``$ANCHORREC_HOME``, else ``~/.anchorrec``."""
    raw = os.environ.get(HOME_ENV, "").strip()
    return Path(raw).expanduser() if raw else DEFAULT_HOME.expanduser()


def is_writable(directory: str | Path) -> bool:
    """Whether files can be created in ``directory`` (or in its nearest existing parent)."""
    path = Path(directory)
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK | os.X_OK)
