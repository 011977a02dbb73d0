"""The user's library: products, generations, candidates and decisions in one SQLite file.

Written in small transactions as the user works (WAL mode, synchronous=NORMAL), so a killed app
loses at most the action in flight and reopens on what was committed. The GUI and CLI go through
these functions, never through SQL of their own; each table has this module as its only owner.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol

from adcopy_desktop.core.candidates import Candidate, GenerationSettings, Timings
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.product import Product
from adcopy_desktop.paths import user_folders

LIBRARY_FILE = "library.sqlite3"
DECISIONS = ("accepted", "rejected")
DECISION_SOURCES = ("user", "auto")  # auto: adcopy batch --accept-top (the top-ranked candidate)

# Each entry moves the schema one version up; never edit a shipped entry, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE products (
        id INTEGER PRIMARY KEY,
        name TEXT,
        attributes TEXT NOT NULL,          -- JSON list of [key, value]
        source_text TEXT NOT NULL DEFAULT '',
        external_id TEXT,                  -- shop id / handle / SKU when imported
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE TABLE generations (
        id INTEGER PRIMARY KEY,
        product_id INTEGER NOT NULL REFERENCES products(id),
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        style TEXT,
        model TEXT NOT NULL,
        request TEXT NOT NULL,             -- JSON: length, tone, settings
        created_at REAL NOT NULL
    );
    CREATE TABLE candidates (
        id INTEGER PRIMARY KEY,
        generation_id INTEGER NOT NULL REFERENCES generations(id),
        position INTEGER NOT NULL,
        generated_text TEXT NOT NULL,
        text TEXT NOT NULL,                -- the user's edit, or the generated text
        finish_reason TEXT NOT NULL,
        details TEXT NOT NULL,             -- JSON: timings, flags, provider, settings
        decision TEXT CHECK (decision IN ('accepted', 'rejected')),
        decided_at REAL,
        edited_at REAL
    );
    CREATE TABLE decision_log (
        id INTEGER PRIMARY KEY,
        candidate_id INTEGER NOT NULL REFERENCES candidates(id),
        action TEXT NOT NULL,              -- accepted | rejected | edited | cleared
        text TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX generations_by_product ON generations(product_id, created_at);
    CREATE INDEX candidates_by_generation ON candidates(generation_id, position);
    CREATE INDEX candidates_by_decision ON candidates(decision);
    """,
    # the export outbox (core/outbox.py owns these tables); never holds credentials
    """
    CREATE TABLE export_jobs (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,              -- exporter name: shopify, woocommerce, ...
        destination TEXT NOT NULL,         -- the shop URL
        options TEXT NOT NULL,             -- JSON: the exporter's non-secret settings
        filters TEXT NOT NULL,             -- JSON: what was selected for export
        status TEXT NOT NULL CHECK (status IN ('open', 'finished', 'cancelled')),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE TABLE export_items (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES export_jobs(id),
        product_id INTEGER REFERENCES products(id),
        external_key TEXT NOT NULL,        -- Shopify handle / GID, WooCommerce id / SKU
        payload TEXT NOT NULL,             -- JSON: the shop fields to set
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'done', 'failed', 'superseded')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        remote_id TEXT,                    -- the shop's product id once resolved
        sent_at REAL,
        confirmed_at REAL,
        UNIQUE (job_id, external_key)
    );
    CREATE INDEX export_items_by_job ON export_items(job_id, status);
    CREATE INDEX export_jobs_by_status ON export_jobs(status, target)
    """,
    # catalog imports keep each product's source rows; bulk generation jobs (core/batch.py)
    """
    ALTER TABLE products ADD COLUMN source_format TEXT;     -- shopify | woocommerce | csv | xlsx | jsonl
    ALTER TABLE products ADD COLUMN source_record TEXT;     -- JSON: original header and rows
    CREATE INDEX products_by_source ON products(source_format, external_id);
    CREATE TABLE batch_jobs (
        id INTEGER PRIMARY KEY,
        job_key TEXT NOT NULL,             -- catalog + options: the same command finds its job again
        catalog TEXT NOT NULL,             -- the catalog file, or '' for products chosen in the app
        options TEXT NOT NULL,             -- JSON: kinds, n, style, language, settings
        status TEXT NOT NULL CHECK (status IN ('open', 'stopped', 'finished')),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE batch_items (
        job_id INTEGER NOT NULL REFERENCES batch_jobs(id),
        position INTEGER NOT NULL,
        product_id INTEGER NOT NULL REFERENCES products(id),
        kind TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
        generation_id INTEGER REFERENCES generations(id),
        error TEXT,
        seconds REAL,
        finished_at REAL,
        PRIMARY KEY (job_id, product_id, kind)
    );
    CREATE INDEX batch_jobs_by_key ON batch_jobs(job_key, id);
    CREATE INDEX batch_items_by_status ON batch_items(job_id, status, position)
    """,
    # re-imports update in place: a content key for rows without an id, the facts as last imported
    # (the base a re-import merges the user's edits against), the shop's status of the product
    """
    ALTER TABLE products ADD COLUMN import_key TEXT;        -- content hash of the mapped fields (rows without an id)
    ALTER TABLE products ADD COLUMN imported TEXT;          -- JSON: name and facts as the last import read them
    ALTER TABLE products ADD COLUMN shop_status TEXT;       -- draft, archived or unpublished in the shop (NULL: active)
    CREATE INDEX products_by_import_key ON products(source_format, import_key)
    """,
    # who decided (the user, or adcopy batch --accept-top) and why
    """
    ALTER TABLE candidates ADD COLUMN decided_by TEXT;      -- user | auto (NULL: undecided, or before this)
    ALTER TABLE candidates ADD COLUMN decision_reason TEXT;
    ALTER TABLE decision_log ADD COLUMN source TEXT;        -- user | auto
    ALTER TABLE decision_log ADD COLUMN reason TEXT
    """,
]
INACTIVE_STATUSES = ("draft", "archived", "unpublished")


class LibraryError(AdCopyError):
    """The library file cannot be opened or is from a newer AdCopy."""


class ImportEntry(Protocol):
    """One imported product (``core.catalog.ImportedProduct`` has these fields)."""

    product: Product
    external_id: str | None
    source_record: dict[str, Any] | None


@dataclass
class ImportCounts:
    """What an import did to the library: products created, updated (a fact, the status or the
    source rows changed) and unchanged; ``inactive`` of them are drafts, archived or unpublished
    in the shop (kept, and skipped by ``adcopy batch`` unless asked)."""

    added: int
    updated: int
    ids: list[int]  # library ids in the order of the entries
    unchanged: int = 0
    inactive: int = 0

    @property
    def created(self) -> int:
        return self.added

    def describe(self) -> str:
        """One line for the CLI and logs."""
        return f"{self.added:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged"


@dataclass
class StoredProduct:
    id: int
    product: Product
    external_id: str | None
    created_at: float
    updated_at: float
    source_format: str | None = None  # the importer's format when imported (shopify, woocommerce, ...)
    source_record: dict[str, Any] | None = None  # {"header": [...], "rows": [[...]], "rows_at": [...]}
    shop_status: str | None = None  # draft | archived | unpublished in the shop; None: active (or not known)

    @property
    def active(self) -> bool:
        """Not a draft, archived or unpublished product of its shop (batch generation skips those)."""
        return self.shop_status not in INACTIVE_STATUSES


@dataclass
class StoredCandidate:
    id: int
    generation_id: int
    product_id: int
    position: int
    kind: str
    language: str
    style: str | None
    model: str
    generated_text: str
    text: str
    finish_reason: str
    decision: str | None
    created_at: float
    details: dict[str, Any] = field(default_factory=dict)
    decided_by: str | None = None  # user | auto, while decided
    decision_reason: str | None = None

    @property
    def edited(self) -> bool:
        return self.text != self.generated_text

    @property
    def decided_by_person(self) -> bool:
        """A person's decision (not ``batch --accept-top``'s): only those teach the models."""
        return self.decision is not None and self.decided_by != "auto"

    def to_candidate(self) -> Candidate:
        """The stored candidate as a ``Candidate`` with the user's text (for export, scoring, plugins)."""
        details = self.details
        settings, timings = details.get("settings"), details.get("timings")
        try:
            generation_settings = (
                GenerationSettings(**{**settings, "stop": tuple(settings.get("stop") or ())})
                if isinstance(settings, dict) else GenerationSettings()
            )
        except (TypeError, ValueError):
            generation_settings = GenerationSettings()
        known_timings = {"prompt_tokens", "new_tokens", "first_token_s", "total_s"}
        return Candidate(
            text=self.text, kind=self.kind, model=self.model, language=self.language, index=self.position,
            finish_reason=self.finish_reason, settings=generation_settings,
            timings=Timings(**{k: v for k, v in (timings or {}).items() if k in known_timings}),
            style=self.style, provider=str(details.get("provider") or ""),
            flags=[dict(flag) for flag in details.get("flags") or [] if isinstance(flag, dict)],
            # scores judged the generated text: stale once the user edited it
            scores=[] if self.edited else [dict(s) for s in details.get("scores") or [] if isinstance(s, dict)],
        )


@dataclass
class BatchJob:
    id: int
    job_key: str
    catalog: str
    options: dict[str, Any]
    status: str  # open | stopped | finished
    created_at: float
    updated_at: float
    counts: dict[str, int]  # pending / done / failed items

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class BatchItem:
    job_id: int
    position: int
    product_id: int
    kind: str
    status: str  # pending | done | failed
    generation_id: int | None
    error: str | None
    seconds: float | None


def default_library_path() -> Path:
    return user_folders().data / LIBRARY_FILE


class _Rows(list):
    """Fetched rows with the cursor methods the queries use."""

    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


class Library:
    """One open library file; safe to share between the UI thread and workers (one lock)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_library_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise LibraryError(
                f"The library {self.path} cannot be opened ({exc}). If the file is damaged, move it "
                "aside and AdCopy starts a new one; your models are not affected."
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, sql: str, params: Iterable[Any] = ()) -> "_Rows":
        """Run one read-only query under the lock and fetch every row (insights and the outbox read
        this way too): one connection serves all threads, and a cursor stepped by two threads at
        once, or closed under one, can crash the interpreter."""
        with self._lock:
            return _Rows(self._db.execute(sql, tuple(params)).fetchall())

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise LibraryError(
                f"The library {self.path} was written by a newer AdCopy (schema {version}); "
                "update AdCopy to open it."
            )
        for number in range(version, len(MIGRATIONS)):
            with self._transaction() as db:  # executescript would commit early: run statements one by one
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        return self.read("PRAGMA user_version").fetchone()[0]

    # -- products --------------------------------------------------------------------------------
    def add_product(self, product: Product, *, external_id: str | None = None) -> int:
        now = time.time()
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO products (name, attributes, source_text, external_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (product.name, _attributes_json(product), product.source_text, external_id, now, now),
            )
            return int(cursor.lastrowid)

    def product_by_external_id(self, source_format: str, external_id: str) -> StoredProduct | None:
        """The imported product a shop knows as ``external_id`` (Shopify handle, WooCommerce id/SKU)."""
        row = self.read(
            "SELECT * FROM products WHERE source_format = ? AND external_id = ? AND deleted_at IS NULL"
            " ORDER BY id DESC LIMIT 1", (source_format, external_id),
        ).fetchone()
        return _stored_product(row) if row is not None else None

    def import_products(self, entries: Iterable[ImportEntry], *, source_format: str) -> ImportCounts:
        """Add imported products, or update the ones imported before under the same source format,
        so importing a file again changes no product ids and adds no product twice. One transaction.

        A product is found again by its external id (the id/SKU/handle column), or, for rows
        without one, by a hash of its mapped fields (name and facts; the n-th of identical rows
        is the n-th again). So with an id column a row whose fields the merchant edited is an
        update; without one its hash changes and it is a new product (the old one stays).

        An update takes the facts the file changed since the last import and keeps the user's own
        edits of the others (a three-way merge against the facts as last imported); candidates and
        decisions belong to the product id and are never touched."""
        now = time.time()
        created = updated = unchanged = inactive = 0
        ids: list[int] = []
        with self._transaction() as db:
            by_external = {
                row[0]: row[1] for row in db.execute(
                    "SELECT external_id, MAX(id) FROM products WHERE source_format = ? AND external_id IS NOT NULL"
                    " AND deleted_at IS NULL GROUP BY external_id", (source_format,))
            }
            by_key = self._content_keys(db, source_format)
            occurrences: dict[str, int] = {}
            for entry in entries:
                product = entry.product
                status = _status_of(entry)
                if status in INACTIVE_STATUSES:
                    inactive += 1
                theirs = {"name": product.name, "attributes": [list(pair) for pair in product.attributes]}
                key = None
                if entry.external_id:
                    known = by_external.get(entry.external_id)
                else:
                    base_key = _content_key(product.name, product.attributes)
                    occurrences[base_key] = occurrences.get(base_key, 0) + 1
                    number = occurrences[base_key]
                    key = base_key if number == 1 else f"{base_key}#{number}"
                    known = by_key.get(key)
                record = json.dumps(entry.source_record, ensure_ascii=False) if entry.source_record else None
                imported = json.dumps(theirs, ensure_ascii=False)
                if known is not None:
                    outcome = self._reimport(db, known, product, theirs, record, imported, status, key, now)
                    if outcome == "updated":
                        updated += 1
                    else:
                        unchanged += 1
                    ids.append(known)
                    continue
                product_id = int(db.execute(
                    "INSERT INTO products (name, attributes, source_text, external_id, source_format, source_record,"
                    " import_key, imported, shop_status, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (product.name, _attributes_json(product), product.source_text, entry.external_id, source_format,
                     record, key, imported, status, now, now),
                ).lastrowid)
                created += 1
                ids.append(product_id)
                if entry.external_id:
                    by_external[entry.external_id] = product_id
                else:
                    by_key[key] = product_id
        return ImportCounts(added=created, updated=updated, ids=ids, unchanged=unchanged, inactive=inactive)

    @staticmethod
    def _content_keys(db: sqlite3.Connection, source_format: str) -> dict[str, int]:
        """Content key -> product id of this format's products imported without an id; products
        imported before keys were stored get theirs from their facts as stored."""
        keys: dict[str, int] = {}
        legacy: list[sqlite3.Row] = []
        for row in db.execute(
            "SELECT id, name, attributes, import_key FROM products WHERE source_format = ? AND external_id IS NULL"
            " AND deleted_at IS NULL ORDER BY id", (source_format,)
        ):
            if row["import_key"]:
                keys.setdefault(row["import_key"], row["id"])
            else:
                legacy.append(row)
        counts: dict[str, int] = {}
        for row in legacy:
            try:
                attributes = [tuple(pair) for pair in json.loads(row["attributes"])]
            except ValueError:
                continue
            base_key = _content_key(row["name"], attributes)
            counts[base_key] = counts.get(base_key, 0) + 1
            key = base_key if counts[base_key] == 1 else f"{base_key}#{counts[base_key]}"
            keys.setdefault(key, row["id"])
        return keys

    @staticmethod
    def _reimport(db: sqlite3.Connection, product_id: int, product: Product, theirs: dict[str, Any],
                  record: str | None, imported: str, status: str | None, key: str | None, now: float) -> str:
        """Update one product from a re-import; 'updated' or 'unchanged'."""
        row = db.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
        mine = {"name": row["name"], "attributes": json.loads(row["attributes"])}
        base = None
        if row["imported"]:
            try:
                base = json.loads(row["imported"])
            except ValueError:
                base = None
        merged = merge_imported(base, mine, theirs)
        attributes = json.dumps(merged["attributes"], ensure_ascii=False)
        changed = (
            merged["name"] != row["name"] or attributes != row["attributes"]
            or product.source_text != row["source_text"] or status != row["shop_status"]
            or _record_rows(record) != _record_rows(row["source_record"])
        )
        if changed:
            db.execute(
                "UPDATE products SET name = ?, attributes = ?, source_text = ?, source_record = ?, import_key = ?,"
                " imported = ?, shop_status = ?, updated_at = ? WHERE id = ?",
                (merged["name"], attributes, product.source_text, record, key, imported, status, now, product_id))
            return "updated"
        if record != row["source_record"] or imported != row["imported"] or key != row["import_key"]:
            db.execute("UPDATE products SET source_record = ?, imported = ?, import_key = ? WHERE id = ?",
                       (record, imported, key, product_id))  # line numbers moved, nothing else: no new date
        return "unchanged"

    def inactive_product_ids(self) -> set[int]:
        """Products their shop has as drafts, archived or unpublished (``StoredProduct.active``)."""
        marks = ", ".join("?" for _ in INACTIVE_STATUSES)
        return {row[0] for row in self.read(
            f"SELECT id FROM products WHERE shop_status IN ({marks}) AND deleted_at IS NULL", INACTIVE_STATUSES)}

    def update_product(self, product_id: int, product: Product) -> None:
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE products SET name = ?, attributes = ?, source_text = ?, updated_at = ?"
                " WHERE id = ? AND deleted_at IS NULL",
                (product.name, _attributes_json(product), product.source_text, time.time(), product_id),
            ).rowcount
        if not changed:
            raise LibraryError(f"There is no product #{product_id} in the library.")

    def delete_product(self, product_id: int) -> None:
        """Hide a product; its generations and decisions stay for training and history."""
        with self._transaction() as db:
            db.execute("UPDATE products SET deleted_at = ? WHERE id = ?", (time.time(), product_id))

    def get_product(self, product_id: int) -> StoredProduct:
        row = self.read(
            "SELECT * FROM products WHERE id = ? AND deleted_at IS NULL", (product_id,)
        ).fetchone()
        if row is None:
            raise LibraryError(f"There is no product #{product_id} in the library.")
        return _stored_product(row)

    def list_products(self, search: str | None = None) -> list[StoredProduct]:
        query = "SELECT * FROM products WHERE deleted_at IS NULL"
        params: list[Any] = []
        if search:
            query += " AND (name LIKE ? OR attributes LIKE ? OR source_text LIKE ?)"
            like = f"%{search}%"
            escaped_like = f"%{json.dumps(search, ensure_ascii=False)[1:-1]}%"  # as stored in JSON
            params += [like, escaped_like, like]
        query += " ORDER BY updated_at DESC, id DESC"
        return [_stored_product(row) for row in self.read(query, params)]

    # -- generations and decisions ---------------------------------------------------------------
    def record_generation(
        self, product_id: int, candidates: list[Candidate], *, length: Any = None, tone: str | None = None,
        batch_item: tuple[int, str, float] | None = None,
    ) -> list[int]:
        """Store one request's candidates; returns their ids in candidate order. ``batch_item``
        (job id, kind, seconds) marks that bulk-generation item done in the same transaction; an
        item that is done already (two runs of one job at once) is not written again: [] returned."""
        if not candidates:
            return []
        first = candidates[0]
        request = {"length": length, "tone": tone, "settings": first.settings.to_dict()}
        now = time.time()
        with self._transaction() as db:
            if batch_item is not None and db.execute(
                "SELECT 1 FROM batch_items WHERE job_id = ? AND product_id = ? AND kind = ? AND status = 'done'",
                (batch_item[0], product_id, batch_item[1]),
            ).fetchone() is not None:
                return []
            generation_id = db.execute(
                "INSERT INTO generations (product_id, kind, language, style, model, request, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (product_id, first.kind, first.language, first.style, first.model,
                 json.dumps(request, ensure_ascii=False), now),
            ).lastrowid
            ids = []
            for candidate in candidates:
                details = candidate.to_dict()
                for key in ("text", "kind", "model", "language", "index", "finish_reason", "style"):
                    details.pop(key, None)
                ids.append(int(db.execute(
                    "INSERT INTO candidates (generation_id, position, generated_text, text, finish_reason, details)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (generation_id, candidate.index, candidate.text, candidate.text, candidate.finish_reason,
                     json.dumps(details, ensure_ascii=False)),
                ).lastrowid))
            if batch_item is not None:
                job_id, kind, seconds = batch_item
                db.execute(
                    "UPDATE batch_items SET status = 'done', generation_id = ?, error = NULL, seconds = ?,"
                    " finished_at = ? WHERE job_id = ? AND product_id = ? AND kind = ?",
                    (generation_id, seconds, now, job_id, product_id, kind),
                )
                db.execute("UPDATE batch_jobs SET updated_at = ? WHERE id = ?", (now, job_id))
        return ids

    def decide(self, candidate_id: int, decision: str | None, *, source: str = "user",
               reason: str | None = None) -> None:
        """Accept, reject, or (None) clear the decision on a candidate. ``source``: ``user``, or
        ``auto`` for a decision no person made (``adcopy batch --accept-top``); ``reason``: why."""
        if decision is not None and decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS} or None, not {decision!r}")
        if source not in DECISION_SOURCES:
            raise ValueError(f"source must be one of {DECISION_SOURCES}, not {source!r}")
        now = time.time()
        with self._transaction() as db:
            self._require_candidate(db, candidate_id)
            db.execute(
                "UPDATE candidates SET decision = ?, decided_at = ?, decided_by = ?, decision_reason = ?"
                " WHERE id = ?",
                (decision, now if decision else None, source if decision else None, reason if decision else None,
                 candidate_id),
            )
            db.execute(
                "INSERT INTO decision_log (candidate_id, action, at, source, reason) VALUES (?, ?, ?, ?, ?)",
                (candidate_id, decision or "cleared", now, source, reason),
            )

    def edit(self, candidate_id: int, text: str) -> None:
        now = time.time()
        with self._transaction() as db:
            self._require_candidate(db, candidate_id)
            db.execute("UPDATE candidates SET text = ?, edited_at = ? WHERE id = ?", (text, now, candidate_id))
            db.execute(
                "INSERT INTO decision_log (candidate_id, action, text, at) VALUES (?, 'edited', ?, ?)",
                (candidate_id, text, now),
            )

    @staticmethod
    def _require_candidate(db: sqlite3.Connection, candidate_id: int) -> None:
        if db.execute("SELECT 1 FROM candidates WHERE id = ?", (candidate_id,)).fetchone() is None:
            raise LibraryError(f"There is no candidate #{candidate_id} in the library.")

    def candidates(
        self,
        *,
        product_id: int | None = None,
        kind: str | None = None,
        style: str | None = None,
        decision: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[StoredCandidate]:
        """Candidates, newest generation first; ``decision='undecided'`` selects the open ones."""
        query = (
            "SELECT c.*, g.product_id, g.kind, g.language, g.style, g.model, g.created_at"
            " FROM candidates c JOIN generations g ON g.id = c.generation_id WHERE 1 = 1"
        )
        params: list[Any] = []
        for column, value in (("g.product_id", product_id), ("g.kind", kind), ("g.style", style)):
            if value is not None:
                query += f" AND {column} = ?"
                params.append(value)
        if decision == "undecided":
            query += " AND c.decision IS NULL"
        elif decision is not None:
            query += " AND c.decision = ?"
            params.append(decision)
        if since is not None:
            query += " AND g.created_at >= ?"
            params.append(since)
        if until is not None:
            query += " AND g.created_at < ?"
            params.append(until)
        query += " ORDER BY g.created_at DESC, g.id DESC, c.position"
        return [_stored_candidate(row) for row in self.read(query, params)]

    def accepted_copy(self, **filters: Any) -> list[StoredCandidate]:
        """What export and training use: accepted candidates with the user's edits."""
        return self.candidates(decision="accepted", **filters)

    def candidate(self, candidate_id: int) -> StoredCandidate:
        row = self.read(
            "SELECT c.*, g.product_id, g.kind, g.language, g.style, g.model, g.created_at"
            " FROM candidates c JOIN generations g ON g.id = c.generation_id WHERE c.id = ?", (candidate_id,),
        ).fetchone()
        if row is None:
            raise LibraryError(f"There is no candidate #{candidate_id} in the library.")
        return _stored_candidate(row)

    def decision_log(self, candidate_id: int) -> list[dict[str, Any]]:
        """Every decision and edit of a candidate, oldest first: action, text, at, source, reason."""
        rows = self.read(
            "SELECT action, text, at, source, reason FROM decision_log WHERE candidate_id = ? ORDER BY id",
            (candidate_id,),
        )
        return [dict(row) for row in rows]

    def decision_history(self, candidate_id: int) -> list[tuple[str, str | None, float]]:
        rows = self.read(
            "SELECT action, text, at FROM decision_log WHERE candidate_id = ? ORDER BY id", (candidate_id,)
        )
        return [(row["action"], row["text"], row["at"]) for row in rows]

    def generation_request(self, generation_id: int) -> tuple[Product, dict[str, Any]]:
        """The product (deleted ones too: their copy still teaches) and the stored request of a
        generation (length, tone, settings), so training can rebuild the prompt generation saw."""
        row = self.read(
            "SELECT p.*, g.request FROM generations g JOIN products p ON p.id = g.product_id WHERE g.id = ?",
            (generation_id,),
        ).fetchone()
        if row is None:
            raise LibraryError(f"There is no generation #{generation_id} in the library.")
        try:
            request = json.loads(row["request"])
        except ValueError:
            request = {}
        return _stored_product(row).product, request if isinstance(request, dict) else {}

    # -- bulk generation jobs (core/batch.py) ------------------------------------------------------
    def create_batch_job(
        self, job_key: str, catalog: str, options: dict[str, Any], items: Iterable[tuple[int, str]]
    ) -> int:
        """A job over (product id, kind) items, all pending."""
        now = time.time()
        with self._transaction() as db:
            job_id = int(db.execute(
                "INSERT INTO batch_jobs (job_key, catalog, options, status, created_at, updated_at)"
                " VALUES (?, ?, ?, 'open', ?, ?)",
                (job_key, catalog, json.dumps(options, ensure_ascii=False, sort_keys=True), now, now),
            ).lastrowid)
            db.executemany(
                "INSERT OR IGNORE INTO batch_items (job_id, position, product_id, kind) VALUES (?, ?, ?, ?)",
                [(job_id, position, product_id, kind) for position, (product_id, kind) in enumerate(items)],
            )
        return job_id

    def add_batch_items(self, job_id: int, items: Iterable[tuple[int, str]]) -> int:
        """Add (product id, kind) items a job lacks (products new to a re-imported catalog)."""
        with self._transaction() as db:
            start = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM batch_items WHERE job_id = ?",
                               (job_id,)).fetchone()[0]
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO batch_items (job_id, position, product_id, kind) VALUES (?, ?, ?, ?)",
                [(job_id, start + offset, product_id, kind) for offset, (product_id, kind) in enumerate(items)],
            )
            return db.total_changes - before

    def unfinished_batch_job(self, job_key: str) -> int | None:
        """The newest open or stopped job for ``job_key``."""
        row = self.read(
            "SELECT id FROM batch_jobs WHERE job_key = ? AND status != 'finished' ORDER BY id DESC LIMIT 1", (job_key,)
        ).fetchone()
        return int(row[0]) if row else None

    def latest_batch_job(self, job_key: str) -> int | None:
        """The newest job for ``job_key``, finished or not (what ``adcopy batch`` continues)."""
        row = self.read("SELECT id FROM batch_jobs WHERE job_key = ? ORDER BY id DESC LIMIT 1",
                               (job_key,)).fetchone()
        return int(row[0]) if row else None

    def batch_job(self, job_id: int) -> BatchJob:
        row = self.read("SELECT * FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise LibraryError(f"There is no bulk generation job #{job_id}; 'adcopy batch --jobs' lists them.")
        counts = {status: 0 for status in ("pending", "done", "failed")}
        for status, count in self.read(
            "SELECT status, COUNT(*) FROM batch_items WHERE job_id = ? GROUP BY status", (job_id,)
        ):
            counts[status] = count
        return BatchJob(row["id"], row["job_key"], row["catalog"], json.loads(row["options"]), row["status"],
                        row["created_at"], row["updated_at"], counts)

    def batch_jobs(self) -> list[BatchJob]:
        return [self.batch_job(row[0]) for row in self.read("SELECT id FROM batch_jobs ORDER BY id DESC")]

    def batch_items(self, job_id: int, status: str | None = None) -> list[BatchItem]:
        query = "SELECT * FROM batch_items WHERE job_id = ?"
        params: list[Any] = [job_id]
        if status is not None:
            query += " AND status = ?"
            params.append(status)
        query += " ORDER BY position"
        return [BatchItem(row["job_id"], row["position"], row["product_id"], row["kind"], row["status"],
                          row["generation_id"], row["error"], row["seconds"])
                for row in self.read(query, params)]

    def fail_batch_item(self, job_id: int, product_id: int, kind: str, error: str) -> None:
        now = time.time()
        with self._transaction() as db:
            db.execute("UPDATE batch_items SET status = 'failed', error = ?, finished_at = ?"
                       " WHERE job_id = ? AND product_id = ? AND kind = ?", (error, now, job_id, product_id, kind))
            db.execute("UPDATE batch_jobs SET updated_at = ? WHERE id = ?", (now, job_id))

    def retry_failed_batch_items(self, job_id: int) -> int:
        """Put failed items back to pending (a resume tries them again); returns how many."""
        with self._transaction() as db:
            return db.execute("UPDATE batch_items SET status = 'pending', error = NULL"
                              " WHERE job_id = ? AND status = 'failed'", (job_id,)).rowcount

    def set_batch_status(self, job_id: int, status: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE batch_jobs SET status = ?, updated_at = ? WHERE id = ?", (status, time.time(), job_id))


def _attributes_json(product: Product) -> str:
    return json.dumps([list(pair) for pair in product.attributes], ensure_ascii=False)


def _stored_product(row: sqlite3.Row) -> StoredProduct:
    attributes = [tuple(pair) for pair in json.loads(row["attributes"])]
    product = Product(attributes=attributes, name=row["name"], source_text=row["source_text"])
    keys = row.keys()
    record = None
    if "source_record" in keys and row["source_record"]:
        try:
            record = json.loads(row["source_record"])
        except ValueError:
            record = None
    return StoredProduct(row["id"], product, row["external_id"], row["created_at"], row["updated_at"],
                         row["source_format"] if "source_format" in keys else None, record,
                         row["shop_status"] if "shop_status" in keys else None)


def _status_of(entry: Any) -> str | None:
    status = getattr(entry, "status", None)
    return status if status in INACTIVE_STATUSES else None


def _content_key(name: str | None, attributes: Iterable[tuple[str, str]]) -> str:
    """The key of a product imported without an id: a hash of its mapped fields."""
    basis = json.dumps([name or "", [list(pair) for pair in attributes]], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _record_rows(record: str | None) -> Any:
    """A source record without its line numbers (rows moving down a line change nothing)."""
    if not record:
        return None
    try:
        data = json.loads(record)
    except ValueError:
        return record
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k != "rows_at"}
    return data


def merge_imported(base: dict[str, Any] | None, mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Name and facts after a re-import: what the file changed since the last import (``base``)
    comes from the file (``theirs``), everything else stays as the library has it (``mine``, with
    the user's edits). Without a base (imported before bases were kept) the file wins."""
    if base is None or _same(mine, base):
        return {"name": theirs["name"], "attributes": [list(p) for p in theirs["attributes"]]}
    if _same(theirs, base):
        return {"name": mine["name"], "attributes": [list(p) for p in mine["attributes"]]}
    name = theirs["name"] if theirs["name"] != base.get("name") else mine["name"]
    grouped = [_by_key(side.get("attributes") or []) for side in (base, mine, theirs)]
    base_values, mine_values, their_values = grouped
    keys = list(dict.fromkeys([*their_values, *mine_values]))
    attributes: list[list[str]] = []
    for key in keys:
        values = their_values.get(key) if their_values.get(key) != base_values.get(key) else mine_values.get(key)
        attributes += [[key, value] for value in values or []]
    return {"name": name, "attributes": attributes}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("name") == b.get("name") and [list(p) for p in a.get("attributes") or []] == \
        [list(p) for p in b.get("attributes") or []]


def _by_key(pairs: Iterable[Any]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for pair in pairs:
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            grouped.setdefault(str(pair[0]), []).append(str(pair[1]))
    return grouped


def _stored_candidate(row: sqlite3.Row) -> StoredCandidate:
    return StoredCandidate(
        id=row["id"], generation_id=row["generation_id"], product_id=row["product_id"],
        position=row["position"], kind=row["kind"], language=row["language"], style=row["style"],
        model=row["model"], generated_text=row["generated_text"], text=row["text"],
        finish_reason=row["finish_reason"], decision=row["decision"], created_at=row["created_at"],
        details=json.loads(row["details"]), decided_by=row["decided_by"], decision_reason=row["decision_reason"],
    )
