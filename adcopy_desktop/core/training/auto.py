"""Automatic mode: train by itself after N newly accepted copies (off by default).

The training point is the set of accepted candidate ids at the last run, kept in
``<data>/training/state.json``; "newly accepted" counts ids accepted since, so un-accepting and
re-accepting old copy does not retrigger training by itself.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from adcopy_desktop.core.model_store.manifest import write_json_atomically
from adcopy_desktop.paths import user_folders

STATE_FILE = "state.json"


def state_path() -> Path:
    return user_folders().data / "training" / STATE_FILE


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def newly_accepted(library: Any, path: Path | None = None) -> int:
    """Candidates a person accepted that were not accepted at the last training point."""
    known = set(_read_state(path or state_path()).get("accepted_ids") or [])
    return sum(1 for candidate in library.accepted_copy() if candidate.id not in known and candidate.decided_by_person)


def should_train(library: Any, settings: Any, path: Path | None = None) -> bool:
    """True when automatic training is on (``settings.auto_training_after`` > 0) and that many
    copies were accepted since the last training."""
    after = int(getattr(settings, "auto_training_after", 0) or 0)
    return after > 0 and newly_accepted(library, path) >= after


def record_training_point(library: Any, path: Path | None = None) -> None:
    path = path or state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = sorted(candidate.id for candidate in library.accepted_copy())
    write_json_atomically(path, {"accepted_ids": ids, "trained_at": time.time()})


def last_training_time(path: Path | None = None) -> float | None:
    value = _read_state(path or state_path()).get("trained_at")
    return float(value) if isinstance(value, (int, float)) else None
