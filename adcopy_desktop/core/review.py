"""Reviewing the library's copy without the app: find candidates, accept, reject, edit.

What ``adcopy copy list|show|accept|reject|edit`` calls. The decisions and edits go through
``core/library.py`` exactly as the app's do (an edit makes the text the user's version, the
generated text stays beside it) and the same plugin events fire (``candidate_accepted``,
``candidate_rejected`` with the reason, ``candidate_edited`` with the previous text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library, LibraryError, StoredCandidate

if TYPE_CHECKING:
    from adcopy_desktop.core.plugins import PluginManager

STATUSES = ("accepted", "rejected", "pending")  # pending: no decision yet


class ReviewError(AdCopyError):
    """A candidate or filter that cannot be used."""


def status_of(candidate: StoredCandidate) -> str:
    return candidate.decision or "pending"


def decided_by(candidate: StoredCandidate) -> str | None:
    """``user`` or ``auto`` while decided (decisions from before the field was kept were the user's)."""
    if candidate.decision is None:
        return None
    return candidate.decided_by or "user"


def find_copy(
    library: Library, *, product_id: int | None = None, status: str | None = None, kind: str | None = None,
    style: str | None = None, limit: int | None = None,
) -> list[StoredCandidate]:
    """Candidates newest first, filtered; ``status`` is one of ``STATUSES``."""
    if status is not None and status not in STATUSES:
        raise ReviewError(f"Unknown status '{status}': use {', '.join(STATUSES)}.")
    if kind is not None:
        from adcopy_desktop.core.prompts import parse_copy_kind

        try:
            kind = parse_copy_kind(kind).value
        except ValueError as error:
            raise ReviewError(str(error)) from None
    if product_id is not None:
        try:
            library.get_product(product_id)
        except LibraryError:
            raise ReviewError(f"There is no product #{product_id} in the library; "
                              "see the ids with: adcopy products list") from None
    decision = {"pending": "undecided"}.get(status, status) if status else None
    found = library.candidates(product_id=product_id, kind=kind, style=style, decision=decision)
    return found[:limit] if limit is not None else found


def get_copy(library: Library, candidate_id: int) -> StoredCandidate:
    try:
        return library.candidate(candidate_id)
    except LibraryError:
        raise ReviewError(f"There is no candidate #{candidate_id} in the library; "
                          "see the ids with: adcopy copy list") from None


def product_name(library: Library, product_id: int, cache: dict[int, str | None] | None = None) -> str | None:
    """The product's name (or its facts, shortened); None for a deleted product."""
    if cache is not None and product_id in cache:
        return cache[product_id]
    try:
        product = library.get_product(product_id).product
        name = product.name or product.to_attribute_string()[:60]
    except LibraryError:  # deleted product: its copy stays in the library
        name = None
    if cache is not None:
        cache[product_id] = name
    return name


def record(library: Library, candidate: StoredCandidate, *, full: bool = False,
           names: dict[int, str | None] | None = None) -> dict[str, Any]:
    """One candidate as plain data (``adcopy copy list/show --format json``); ``full`` adds the
    scores, flags, ranking and the decision history. ``names`` caches product names between calls."""
    name = product_name(library, candidate.product_id, names)
    data: dict[str, Any] = {
        "id": candidate.id, "product_id": candidate.product_id, "product": name, "kind": candidate.kind,
        "language": candidate.language, "style": candidate.style, "model": candidate.model,
        "status": status_of(candidate), "decided_by": decided_by(candidate),
        "reason": candidate.decision_reason if candidate.decision else None,
        "text": candidate.text, "generated_text": candidate.generated_text, "edited": candidate.edited,
        "finish_reason": candidate.finish_reason, "generation_id": candidate.generation_id,
        "position": candidate.position, "created_at": candidate.created_at,
    }
    if full:
        details = candidate.details
        data["flags"] = details.get("flags") or []
        data["scores"] = details.get("scores") or []  # they judged the generated text
        data["ranking"] = details.get("ranking")
        data["history"] = library.decision_log(candidate.id)
    return data


def decide(library: Library, candidate_ids: Iterable[int], decision: str, *, reason: str | None = None,
           plugins: "PluginManager | None" = None) -> list[StoredCandidate]:
    """Accept or reject candidates as the user (all ids checked first: an unknown one changes
    nothing); returns them as stored now."""
    ids = list(dict.fromkeys(candidate_ids))
    for candidate_id in ids:
        get_copy(library, candidate_id)
    decided = []
    for candidate_id in ids:
        library.decide(candidate_id, decision, source="user", reason=reason)
        stored = library.candidate(candidate_id)
        decided.append(stored)
        if plugins is not None:
            if decision == "accepted":
                plugins.candidate_accepted(stored.to_candidate())
            else:
                plugins.candidate_rejected(stored.to_candidate(), reason)
    return decided


def edit(library: Library, candidate_id: int, text: str, *,
         plugins: "PluginManager | None" = None) -> tuple[StoredCandidate, bool]:
    """Make ``text`` the user's version of the candidate (the generated text is kept); returns
    the candidate and whether anything changed."""
    stored = get_copy(library, candidate_id)
    if not text.strip():
        raise ReviewError("The new text is empty; give the copy with --text or --file.")
    if text == stored.text:
        return stored, False
    previous = stored.text
    library.edit(candidate_id, text)
    stored = library.candidate(candidate_id)
    if plugins is not None:
        plugins.candidate_edited(stored.to_candidate(), previous)
    return stored, True
