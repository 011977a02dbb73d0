"""Installed models: the default-model build, imports, manifests and the active pointer."""

from adcopy_desktop.core.model_store.sources import DEFAULT_MODEL_ID, inspect_source
from adcopy_desktop.core.model_store.store import ModelInfo, ModelStore

__all__ = ["DEFAULT_MODEL_ID", "ModelInfo", "ModelStore", "inspect_source"]
