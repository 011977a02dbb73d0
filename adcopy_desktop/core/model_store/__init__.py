"""Installed models: the built-in catalog, imports, manifests and the active pointer."""

from adcopy_desktop.core.model_store.catalog import CATALOG, DEFAULT_MODEL_ID, CatalogModel, catalog_model
from adcopy_desktop.core.model_store.sources import inspect_source
from adcopy_desktop.core.model_store.store import ModelInfo, ModelStore

__all__ = ["CATALOG", "DEFAULT_MODEL_ID", "CatalogModel", "ModelInfo", "ModelStore", "catalog_model", "inspect_source"]
