"""Words several panels show (decisions, finish reasons, copy kinds, product names), translated once."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from adcopy_desktop.core.product import Product
from adcopy_desktop.core.prompts import CopyKind, copy_kind_label
from adcopy_desktop.gui.i18n import interface_copy_language




def decision_label(decision: str | None) -> str:
    if decision == "accepted":
        return QCoreApplication.translate("Labels", "Accepted")
    if decision == "rejected":
        return QCoreApplication.translate("Labels", "Rejected")
    return QCoreApplication.translate("Labels", "Undecided")


def finish_label(reason: str) -> str:
    return {
        "eos": QCoreApplication.translate("Labels", "finished"),
        "stop": QCoreApplication.translate("Labels", "stop string"),
        "length": QCoreApplication.translate("Labels", "length limit"),
        "cancelled": QCoreApplication.translate("Labels", "stopped"),
    }.get(reason, reason)


def source_label(source: str) -> str:
    """Where a plugin comes from (built-in, installed package, plugin folder, registered in-process)."""
    return {
        "built-in": QCoreApplication.translate("Labels", "built-in"),
        "entry point": QCoreApplication.translate("Labels", "installed package"),
        "plugin folder": QCoreApplication.translate("Labels", "plugin folder"),
        "registered": QCoreApplication.translate("Labels", "registered"),
    }.get(source, source)


def kind_label(kind: CopyKind | str) -> str:
    return copy_kind_label(kind, interface_copy_language())


def product_title(product: Product, limit: int = 48) -> str:
    """A one-line name for lists: the product's name, else its first values."""
    title = product.name or " · ".join(value for _, value in product.attributes[:3])
    title = " ".join(title.split()) or QCoreApplication.translate("Labels", "(empty product)")
    return title if len(title) <= limit else title[: limit - 1] + "…"


def language_label(code: str | None) -> str:
    if code == "zh":
        return "中文"
    if code == "en":
        return "English"
    return QCoreApplication.translate("Labels", "From the product")


def size_label(size_bytes: int) -> str:
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
