"""Library content for export tests: products with accepted copy, made through Library methods."""

from __future__ import annotations

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product import Product


def add_product_with_copy(library: Library, name: str, external_id: str | None, copy: dict[str, str], *,
                          language: str = "en", style: str | None = None) -> int:
    """A product whose candidates of each kind in ``copy`` are accepted (one generation per kind)."""
    product_id = library.add_product(Product(attributes=[("name", name)], name=name), external_id=external_id)
    accept(library, product_id, copy, language=language, style=style)
    return product_id


def accept(library: Library, product_id: int, copy: dict[str, str], *, language: str = "en",
           style: str | None = None) -> list[int]:
    ids = []
    for kind, text in copy.items():
        candidate = Candidate(text=text, kind=kind, model="test-model", language=language, style=style)
        (candidate_id,) = library.record_generation(product_id, [candidate])
        library.decide(candidate_id, "accepted")
        ids.append(candidate_id)
    return ids
