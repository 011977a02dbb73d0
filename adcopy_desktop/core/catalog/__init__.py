"""Product catalogs from shops and spreadsheets: encodings, CSV/XLSX/JSON-lines reading, Shopify
and WooCommerce layouts, and generic column mappings. Importer plugins (``builtin/catalog_import``)
and ``adcopy import`` are thin layers over ``read_catalog``."""

from adcopy_desktop.core.catalog.encoding import (
    ENCODING_LABELS,
    ENCODINGS,
    EncodingGuess,
    detect_encoding,
    normalise_encoding,
)
from adcopy_desktop.core.catalog.formats import (
    GENERIC,
    SHOPIFY,
    WOOCOMMERCE,
    ColumnMapping,
    detect_format,
    propose_mapping,
    save_mapping,
    saved_mapping,
)
from adcopy_desktop.core.catalog.reader import FORMATS, CatalogPreview, container_of, preview_catalog, read_catalog
from adcopy_desktop.core.catalog.result import CatalogError, ImportedProduct, ImportResult, RowProblem

__all__ = [
    "ENCODINGS", "ENCODING_LABELS", "FORMATS", "GENERIC", "SHOPIFY", "WOOCOMMERCE", "CatalogError",
    "CatalogPreview", "ColumnMapping", "EncodingGuess", "ImportResult", "ImportedProduct", "RowProblem",
    "container_of", "detect_encoding", "detect_format", "normalise_encoding", "preview_catalog",
    "propose_mapping", "read_catalog", "save_mapping", "saved_mapping",
]
