"""Where a model's cold-start path is stored, read without loading the model (no torch).

The pages read the recorded figures of a fitted path (valid, and test for display) from
here; :mod:`anchorrec.models.cold_start` loads the path itself.
"""

from __future__ import annotations

import os
from typing import Any

from anchorrec.models.model_dir import ModelDir

#: Name of the stored calibration in a model's derived store.
COLD_START_FILE = "cold_start.json"
#: Format tag of that file (bump when its meaning changes).
COLD_START_FORMAT = "anchorrec-cold-start-v1"


def stored_report(model_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``report`` of the model's stored cold-start path (None: none stored for it)."""
    data = ModelDir(model_dir).store().read_json(COLD_START_FILE, COLD_START_FORMAT)
    if data is None or not isinstance(data.get("report"), dict):
        return None
    return {"name": f"{data.get('mechanism')} ({data.get('calibration')})", **data["report"]}
