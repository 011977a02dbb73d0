"""Built-in plugins: the app's own features, registered through the same hooks as third-party ones.

They load first (so their names win), in safe mode too, and are never disabled after an error
(errors are still reported). ``disabled_plugins`` in settings can switch off any of them except
the required ONNX backend.
"""

# (plugin name, module); the names use a dot, which no installable distribution name can clash with
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("adcopy.onnx-backend", "adcopy_desktop.builtin.onnx_backend"),
    ("adcopy.openai-backend", "adcopy_desktop.builtin.openai_backend"),
    ("adcopy.plain-style", "adcopy_desktop.builtin.plain_style"),
    ("adcopy.style-rules", "adcopy_desktop.builtin.style_rules"),
    ("adcopy.style-compliance", "adcopy_desktop.builtin.compliance_scorer"),
    ("adcopy.copy-scorers", "adcopy_desktop.builtin.copy_scorers"),
    ("adcopy.quality-model", "adcopy_desktop.builtin.quality_scorer"),
    ("adcopy.text-import", "adcopy_desktop.builtin.text_import"),
    ("adcopy.catalog-import", "adcopy_desktop.builtin.catalog_import"),
    ("adcopy.csv-export", "adcopy_desktop.builtin.csv_export"),
    ("adcopy.xlsx-export", "adcopy_desktop.builtin.xlsx_export"),
    ("adcopy.json-export", "adcopy_desktop.builtin.json_export"),
    ("adcopy.shopify-csv-export", "adcopy_desktop.builtin.shopify_csv"),
    ("adcopy.shop-targets", "adcopy_desktop.builtin.shop_targets"),
)
REQUIRED_BUILTINS: frozenset[str] = frozenset({"adcopy.onnx-backend"})
