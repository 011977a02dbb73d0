"""The learned copy-quality model: what this user accepts (or what gets clicks), learned from history.

Training data
  * decisions: accepted (label 1) and rejected (label 0) candidates from the library, with the
    user's edits (``examples_from_library``);
  * click-through: an imported CSV with ``text``, ``clicks`` and ``impressions`` columns (optional
    ``kind``, ``language``): each row is a fractional label ``clicks / impressions`` weighted by its
    impressions (``examples_from_ctr_csv``).

Features (``Featurizer``; no torch, no extra package)
  * hashed n-grams: character 1-3-grams (Chinese) / 2-4-grams (all scripts) and word 1-2-grams,
    sublinear counts, signed feature hashing into 2^18 buckets, L2-normalised, plus the copy kind,
    language and a length bucket. Fast, needs no model, and learns a user's wording preferences
    from a few dozen decisions.
  * mean-pooled token embeddings of a model in the model store (``TokenEmbedding``): the model's
    input embedding table, read straight from its ``hf/*.safetensors`` with numpy (memory-mapped;
    F32, F16 and BF16) and indexed with its own tokenizer. The ONNX export only returns logits, so
    hidden states are out of reach without running torch; the input embeddings carry the model's
    lexical semantics for free and generalise across synonyms. Used when ``features="auto"`` finds
    a readable model (the active one by default), centred and L2-normalised as their own block.

Head: L2-regularised logistic regression fitted in numpy (Nesterov-accelerated gradient descent
with a step of 1/L, deterministic), with an unregularised intercept.

Held-out evaluation: k-fold cross-validation (5 folds; a text's fold is fixed by a hash of the text,
so duplicates never straddle train and test); every example is predicted by a head that did not
see it and ROC-AUC is computed on those held-out predictions (weighted, ties count half). The
scorer is *used* only when the AUC beats 0.5 by ``margin`` (0.1) **and** its lower 95% one-sided
bound (Hanley & McNeil standard error) is above 0.5, with at least ``MIN_PER_CLASS`` examples of
each class; until then it abstains and ranking ignores it. The final head is fitted on all data.

Stored under ``user_folders().data / "quality"``: ``head.json`` (report, feature settings) and
``head.npz`` (weights), both written to temporary files and renamed.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import threading
import time
import unicodedata
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from adcopy_desktop.core.errors import AdCopyError, Cancelled
from adcopy_desktop.core.files import replacing
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.quality")

FORMAT = 1
NGRAM_BITS = 18
NGRAM_DIM = 1 << NGRAM_BITS
FOLDS = 5
DEFAULT_MARGIN = 0.1
MIN_PER_CLASS = 10
RETRAIN_EVERY = 20  # new decisions before a background retrain
Z_ONE_SIDED_95 = 1.645
FEATURES = ("auto", "ngrams", "embeddings")
TARGET_DECISIONS = "decisions"
TARGET_CTR = "ctr"


class QualityModelError(AdCopyError):
    """Training data or a stored head that cannot be used; the message says what to do."""


def quality_folder() -> Path:
    return user_folders().data / "quality"


# -- examples ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str
    label: float  # 1 accepted, 0 rejected; or a click-through rate in [0, 1]
    weight: float = 1.0
    kind: str = ""
    language: str = ""


def examples_from_library(library: Any) -> list[Example]:
    """Accepted and rejected candidates (the user's final text) from a ``Library``; automatic
    decisions (``batch --accept-top``) are the ranking's own choice and teach it nothing."""
    examples = []
    for decision, label in (("accepted", 1.0), ("rejected", 0.0)):
        for stored in library.candidates(decision=decision):
            if stored.text.strip() and stored.decided_by_person:
                examples.append(Example(stored.text, label, 1.0, stored.kind, stored.language))
    return examples


def examples_from_ctr_csv(path: Path) -> list[Example]:
    """Rows of ``text, clicks, impressions`` (optional ``kind``, ``language``); errors name the line."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise QualityModelError(f"Cannot read {path}: {error}") from None
    examples = []
    with handle:
        reader = csv.DictReader(handle)
        columns = {name.strip().lower(): name for name in reader.fieldnames or []}
        missing = [name for name in ("text", "clicks", "impressions") if name not in columns]
        if missing:
            raise QualityModelError(
                f"{path.name} needs the columns text, clicks and impressions (missing: {', '.join(missing)}); "
                "the first line must name the columns."
            )
        for line, row in enumerate(reader, start=2):
            text = (row.get(columns["text"]) or "").strip()
            try:
                clicks = float(row.get(columns["clicks"]) or "")
                impressions = float(row.get(columns["impressions"]) or "")
            except ValueError:
                raise QualityModelError(f"{path.name}, line {line}: clicks and impressions must be numbers.") from None
            if not text or impressions <= 0:
                continue
            if clicks < 0 or clicks > impressions:
                raise QualityModelError(
                    f"{path.name}, line {line}: clicks ({clicks:g}) must be between 0 and impressions ({impressions:g})."
                )
            kind = (row.get(columns.get("kind", ""), "") or "").strip() if "kind" in columns else ""
            language = (row.get(columns.get("language", ""), "") or "").strip() if "language" in columns else ""
            examples.append(Example(text, clicks / impressions, impressions, kind, language))
    if not examples:
        raise QualityModelError(f"{path.name} has no rows with text and impressions.")
    mean = sum(e.weight for e in examples) / len(examples)
    return [Example(e.text, e.label, e.weight / mean, e.kind, e.language) for e in examples]


def class_weights(examples: Sequence[Example]) -> tuple[float, float]:
    """Total positive and negative weight (a CTR row counts clicks as positive, the rest negative)."""
    positive = sum(e.weight * e.label for e in examples)
    negative = sum(e.weight * (1 - e.label) for e in examples)
    return positive, negative


# -- metrics -------------------------------------------------------------------------------------


def roc_auc(scores: Sequence[float], labels: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random negative
    (ties count half). Labels may be fractional (a CTR): a row is ``weight * label`` positive and
    ``weight * (1 - label)`` negative. NaN when either class is empty."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    weights = np.ones_like(scores) if weights is None else np.asarray(weights, dtype=np.float64)
    positive = weights * labels
    negative = weights * (1 - labels)
    total_positive, total_negative = positive.sum(), negative.sum()
    if total_positive <= 0 or total_negative <= 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    scores, positive, negative = scores[order], positive[order], negative[order]
    area = 0.0
    negative_below = 0.0
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and scores[end + 1] == scores[start]:
            end += 1
        group_positive = positive[start:end + 1].sum()
        group_negative = negative[start:end + 1].sum()
        area += group_positive * (negative_below + 0.5 * group_negative)
        negative_below += group_negative
        start = end + 1
    return float(area / (total_positive * total_negative))


def auc_standard_error(auc: float, n_positive: float, n_negative: float) -> float:
    """Hanley & McNeil (1982) standard error of an AUC."""
    if n_positive < 1 or n_negative < 1 or not math.isfinite(auc):
        return float("inf")
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (n_positive - 1) * (q1 - auc * auc) + (n_negative - 1) * (q2 - auc * auc))
    return math.sqrt(max(variance, 0.0) / (n_positive * n_negative))


# -- features ------------------------------------------------------------------------------------

_LATIN_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+(?:['’\-][0-9a-z\u00c0-\u024f]+)*")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_features(text: str, kind: str = "", language: str = "") -> dict[str, float]:
    """Named features of one text (before hashing): n-grams with counts, and meta features."""
    normalised = _normalise(text)
    counts: dict[str, float] = {}

    def add(name: str, amount: float = 1.0) -> None:
        counts[name] = counts.get(name, 0.0) + amount

    squeezed = normalised.replace(" ", "_")
    for n in (2, 3, 4):
        for i in range(len(squeezed) - n + 1):
            add(f"c{n}:{squeezed[i:i + n]}")
    for char in normalised:
        if _HAN.match(char):
            add(f"c1:{char}")
    words = _LATIN_WORD.findall(normalised)
    for i, word in enumerate(words):
        add(f"w1:{word}")
        if i + 1 < len(words):
            add(f"w2:{word} {words[i + 1]}")
    features = {name: 1.0 + math.log(count) for name, count in counts.items()}
    length = len(normalised)
    features[f"len:{int(math.log2(length + 1))}"] = 1.0
    features[f"lines:{min(6, normalised.count(chr(10)) + 1)}"] = 1.0
    if kind:
        features[f"kind:{kind}"] = 1.0
    if language:
        features[f"lang:{language}"] = 1.0
    return features


def _hash(name: str) -> tuple[int, float]:
    value = zlib.crc32(name.encode("utf-8"))
    return value & (NGRAM_DIM - 1), (1.0 if value >> 31 == 0 else -1.0)


@dataclass
class FeatureMatrix:
    """Rows of hashed sparse features (CSR arrays) next to an optional dense block."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    dense: np.ndarray  # (rows, dense_dim); dense_dim may be 0
    sparse_dim: int = NGRAM_DIM

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: np.ndarray) -> "FeatureMatrix":
        parts_indices, parts_data, indptr = [], [], [0]
        for row in rows:
            low, high = self.indptr[row], self.indptr[row + 1]
            parts_indices.append(self.indices[low:high])
            parts_data.append(self.data[low:high])
            indptr.append(indptr[-1] + high - low)
        return FeatureMatrix(
            np.asarray(indptr, dtype=np.int64),
            np.concatenate(parts_indices) if parts_indices else np.zeros(0, np.int64),
            np.concatenate(parts_data) if parts_data else np.zeros(0, np.float64),
            self.dense[rows],
            self.sparse_dim,
        )

    def matvec(self, w_sparse: np.ndarray, w_dense: np.ndarray) -> np.ndarray:
        products = self.data * w_sparse[self.indices]
        sums = np.zeros(self.rows)
        lengths = np.diff(self.indptr)
        nonempty = lengths > 0
        if products.size:
            sums[nonempty] = np.add.reduceat(products, self.indptr[:-1][nonempty])
        if self.dense.shape[1]:
            sums += self.dense @ w_dense
        return sums

    def rmatvec(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        repeated = np.repeat(residual, np.diff(self.indptr))
        sparse = np.bincount(self.indices, weights=self.data * repeated, minlength=self.sparse_dim)
        dense = self.dense.T @ residual if self.dense.shape[1] else np.zeros(0)
        return sparse, dense

    def max_row_norm_squared(self) -> float:
        squares = np.zeros(self.rows)
        lengths = np.diff(self.indptr)
        nonempty = lengths > 0
        if self.data.size:
            squares[nonempty] = np.add.reduceat(self.data ** 2, self.indptr[:-1][nonempty])
        if self.dense.shape[1]:
            squares += (self.dense ** 2).sum(axis=1)
        return float(squares.max()) if len(squares) else 0.0


# -- token embeddings from a model folder ----------------------------------------------------------

_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64}
_EMBEDDING_NAMES = ("model.embed_tokens.weight", "embed_tokens.weight", "transformer.wte.weight",
                    "model.embed_in.weight", "word_embeddings.weight")


def _safetensors_header(path: Path) -> tuple[dict[str, Any], int]:
    with path.open("rb") as stream:
        size = int.from_bytes(stream.read(8), "little")
        if not 0 < size < 100_000_000:
            raise QualityModelError(f"{path} is not a safetensors file")
        header = json.loads(stream.read(size))
    return header, 8 + size


def read_embedding_table(folder: Path) -> np.ndarray:
    """The input embedding table of the Hugging Face model in ``folder`` (memory-mapped; BF16 and
    F16 are converted row by row when indexed, see ``EmbeddingTable``)."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        raise QualityModelError(f"No safetensors weights in {folder}")
    for path in files:
        header, data_start = _safetensors_header(path)
        names = [name for name in _EMBEDDING_NAMES if name in header]
        names += [name for name in header if name.endswith("embed_tokens.weight") and name not in names]
        for name in names:
            entry = header[name]
            dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
            if dtype is None or len(entry["shape"]) != 2:
                continue
            start, end = entry["data_offsets"]
            rows, columns = entry["shape"]
            table = np.memmap(path, dtype=dtype, mode="r", offset=data_start + start, shape=(rows, columns))
            return EmbeddingTable(table, entry["dtype"])
    raise QualityModelError(f"No input embedding table found in {folder}")


class EmbeddingTable:
    """Rows of an embedding table as float32, whatever the stored dtype."""

    def __init__(self, table: np.ndarray, dtype: str):
        self.table = table
        self.dtype = dtype
        self.shape = table.shape

    def rows(self, ids: np.ndarray) -> np.ndarray:
        raw = np.asarray(self.table[ids])
        if self.dtype == "BF16":
            return (raw.astype(np.uint32) << 16).view(np.float32)
        return raw.astype(np.float32)


class TokenEmbedding:
    """Mean-pooled input embeddings of a model in the store, with its own tokenizer."""

    def __init__(self, model_id: str, tokenizer: Any, table: EmbeddingTable):
        self.model_id = model_id
        self.tokenizer = tokenizer
        self.table = table
        self.dim = int(table.shape[1])

    @classmethod
    def for_model(cls, model_id: str | None = None, store: Any = None) -> "TokenEmbedding":
        """The named model's (default: the active one's) embeddings; QualityModelError if unreadable."""
        from adcopy_desktop.core.model_store import ModelStore

        try:
            store = store or ModelStore()
            info = store.get(model_id) if model_id else store.active_model()
        except AdCopyError as error:
            raise QualityModelError(f"No model for token embeddings: {error}") from None
        if info.problem:
            raise QualityModelError(f"The model '{info.id}' is damaged: {info.problem}")
        weights = _embedding_folder(info)
        key = (str(weights), _mtime(weights))
        with _embedding_lock:
            cached = _embedding_cache.get(key)
            if cached is None:
                from tokenizers import Tokenizer

                tokenizer_file = info.runtime_folder / "tokenizer.json"
                if not tokenizer_file.is_file():
                    tokenizer_file = weights / "tokenizer.json"
                try:
                    tokenizer = Tokenizer.from_file(str(tokenizer_file))
                except Exception as error:  # tokenizers raises its own Exception type
                    raise QualityModelError(f"Cannot read the tokenizer of {info.id}: {error}") from None
                cached = cls(info.id, tokenizer, read_embedding_table(weights))
                _embedding_cache[key] = cached
        return cached

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        vocabulary = self.table.shape[0]
        for row, text in enumerate(texts):
            ids = [i for i in self.tokenizer.encode(text, add_special_tokens=False).ids if 0 <= i < vocabulary]
            if ids:
                out[row] = self.table.rows(np.asarray(ids)).mean(axis=0)
        return out


_embedding_cache: dict[tuple[str, float], TokenEmbedding] = {}
_embedding_lock = threading.Lock()


def _embedding_folder(info: Any) -> Path:
    """Where a model's input embeddings are: its hf/ weights, or the embeddings/ table that a
    catalog build keeps instead (an adapter version reads its base's; LoRA leaves them unchanged)."""
    folder = info.runtime_folder.parent
    for name in ("hf", "embeddings"):
        if (folder / name).is_dir():
            return folder / name
    return folder / "hf"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass
class Featurizer:
    """Texts to a ``FeatureMatrix``: hashed n-grams, plus centred token embeddings when given."""

    embedding: TokenEmbedding | None = None
    center: np.ndarray | None = None  # mean embedding of the training texts

    @property
    def description(self) -> str:
        return "hashed n-grams" + (f" + {self.embedding.model_id} token embeddings" if self.embedding else "")

    def sparse(self, examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        indptr, indices, data = [0], [], []
        for example in examples:
            row: dict[int, float] = {}
            for name, value in text_features(example.text, example.kind, example.language).items():
                index, sign = _hash(name)
                row[index] = row.get(index, 0.0) + sign * value
            norm = math.sqrt(sum(v * v for v in row.values())) or 1.0
            for index in sorted(row):
                indices.append(index)
                data.append(row[index] / norm)
            indptr.append(len(indices))
        return (np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                np.asarray(data, dtype=np.float64))

    def dense(self, examples: Sequence[Example], *, fit: bool = False) -> np.ndarray:
        if self.embedding is None:
            return np.zeros((len(examples), 0))
        vectors = self.embedding.embed([e.text for e in examples]).astype(np.float64)
        if fit or self.center is None:
            self.center = vectors.mean(axis=0) if len(vectors) else np.zeros(self.embedding.dim)
        vectors = vectors - self.center
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def transform(self, examples: Sequence[Example], *, fit: bool = False) -> FeatureMatrix:
        indptr, indices, data = self.sparse(examples)
        return FeatureMatrix(indptr, indices, data, self.dense(examples, fit=fit))


# -- the head --------------------------------------------------------------------------------------


@dataclass
class LogisticHead:
    w_sparse: np.ndarray
    w_dense: np.ndarray
    bias: float

    def decision(self, features: FeatureMatrix) -> np.ndarray:
        return features.matvec(self.w_sparse, self.w_dense) + self.bias

    def predict(self, features: FeatureMatrix) -> np.ndarray:
        return _sigmoid(self.decision(features))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def default_l2(n: int) -> float:
    """Regularisation per example: like C = 1 in the usual ``sum of losses + |w|^2 / (2C)``."""
    return 1.0 / max(1, n)


def fit_logistic(
    features: FeatureMatrix,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    l2: float | None = None,
    iterations: int = 300,
    cancel: CancelToken | None = None,
) -> LogisticHead:
    """Minimise the weighted mean log-loss + ``l2``/2 |w|^2 (intercept unpenalised) with Nesterov's
    accelerated gradient descent at step 1/L, L = max |x|^2 / 4 + l2 (|x| includes the intercept)."""
    n = features.rows
    # work in the columns the data uses, then scatter back into the hashed space
    columns, local = np.unique(features.indices, return_inverse=True)
    compact = FeatureMatrix(features.indptr, local.reshape(-1), features.data, features.dense, len(columns))
    head = _fit_compact(compact, labels, weights, l2=l2, iterations=iterations, cancel=cancel)
    w_sparse = np.zeros(NGRAM_DIM)
    w_sparse[columns] = head.w_sparse
    return LogisticHead(w_sparse, head.w_dense, head.bias)


def _fit_compact(
    features: "FeatureMatrix",
    labels: np.ndarray,
    weights: np.ndarray | None,
    *,
    l2: float | None,
    iterations: int,
    cancel: CancelToken | None,
) -> LogisticHead:
    n = features.rows
    labels = np.asarray(labels, dtype=np.float64)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()
    l2 = default_l2(n) if l2 is None else l2
    dense_dim = features.dense.shape[1]
    lipschitz = (features.max_row_norm_squared() + 1.0) / 4.0 + l2
    step = 1.0 / lipschitz
    prior = float(np.clip((weights * labels).sum(), 1e-6, 1 - 1e-6))
    w_s, w_d, b = np.zeros(features.sparse_dim), np.zeros(dense_dim), math.log(prior / (1 - prior))
    y_s, y_d, y_b = w_s.copy(), w_d.copy(), b
    t = 1.0
    for iteration in range(iterations):
        if cancel is not None and cancel.cancelled and iteration % 20 == 0:
            raise Cancelled("Training the quality model was cancelled.")
        probabilities = _sigmoid(features.matvec(y_s, y_d) + y_b)
        residual = weights * (probabilities - labels)
        g_s, g_d = features.rmatvec(residual)
        g_s += l2 * y_s
        g_d = g_d + l2 * y_d
        g_b = residual.sum()
        new_s, new_d, new_b = y_s - step * g_s, y_d - step * g_d, y_b - step * g_b
        t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
        momentum = (t - 1) / t_next
        y_s = new_s + momentum * (new_s - w_s)
        y_d = new_d + momentum * (new_d - w_d)
        y_b = new_b + momentum * (new_b - b)
        w_s, w_d, b, t = new_s, new_d, new_b, t_next
    return LogisticHead(w_s, w_d, float(b))


# -- training and evaluation -----------------------------------------------------------------------


def fold_of(text: str, folds: int = FOLDS) -> int:
    return zlib.crc32(_normalise(text).encode("utf-8")) % folds


@dataclass
class QualityReport:
    target: str  # decisions | ctr
    examples: int
    positives: float  # accepted (or clicks-weighted share) examples
    negatives: float
    auc: float | None  # held-out (cross-validated) ROC-AUC
    auc_se: float | None
    auc_lower: float | None  # one-sided 95% lower bound
    margin: float
    usable: bool  # used for ranking
    reason: str  # why (not)
    features: str
    folds: int = FOLDS
    trained_at: float = field(default_factory=time.time)
    decisions_seen: int = 0  # decided candidates in the library when trained
    seconds: float = 0.0
    model_id: str | None = None  # the embedding model, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        auc = f"held-out AUC {self.auc:.3f}" if self.auc is not None else "no held-out AUC"
        what = "decisions" if self.target == TARGET_DECISIONS else "rows of click data"
        return f"{auc} on {self.examples} {what} ({self.reason})"


def gate(auc: float | None, positives: float, negatives: float, margin: float, *, effective: tuple[float, float] | None = None) -> tuple[bool, str, float | None, float | None]:
    """Whether held-out AUC is good enough to use the scorer: (usable, reason, se, lower bound)."""
    if positives < MIN_PER_CLASS or negatives < MIN_PER_CLASS:
        return False, (f"needs at least {MIN_PER_CLASS} accepted and {MIN_PER_CLASS} rejected examples "
                       f"(has {positives:g} and {negatives:g})"), None, None
    if auc is None or not math.isfinite(auc):
        return False, "no held-out AUC", None, None
    n_pos, n_neg = effective or (positives, negatives)
    se = auc_standard_error(auc, n_pos, n_neg)
    lower = auc - Z_ONE_SIDED_95 * se
    if auc < 0.5 + margin:
        return False, f"AUC {auc:.3f} is not above {0.5 + margin:.2f} (0.5 + margin {margin:g})", se, lower
    if lower <= 0.5:
        return False, f"AUC {auc:.3f} is not reliably above 0.5 yet (lower bound {lower:.3f}); more decisions needed", se, lower
    return True, f"AUC {auc:.3f} beats 0.5 + {margin:g} (lower bound {lower:.3f})", se, lower


def cross_validated_predictions(
    examples: Sequence[Example],
    featurizer: Featurizer,
    *,
    folds: int = FOLDS,
    l2: float | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Held-out predictions: each example scored by a head fitted on the other folds."""
    features = featurizer.transform(examples, fit=True)
    labels = np.asarray([e.label for e in examples])
    weights = np.asarray([e.weight for e in examples])
    assignment = np.asarray([fold_of(e.text, folds) for e in examples])
    predictions = np.full(len(examples), np.nan)
    for fold in range(folds):
        if cancel is not None and cancel.cancelled:
            raise Cancelled("Training the quality model was cancelled.")
        test = np.flatnonzero(assignment == fold)
        train = np.flatnonzero(assignment != fold)
        if not len(test):
            continue
        progress(ProgressEvent("quality", f"held-out fold {fold + 1} of {folds}", fold / (folds + 1)))
        train_labels = labels[train]
        if not len(train) or np.all(train_labels == train_labels[0]):
            predictions[test] = float(train_labels.mean()) if len(train) else 0.5
            continue
        head = fit_logistic(features.take(train), train_labels, weights[train], l2=l2, cancel=cancel)
        predictions[test] = head.predict(features.take(test))
    return predictions


def within_fold_auc(predictions: np.ndarray, examples: Sequence[Example], folds: int = FOLDS) -> float:
    """ROC-AUC of held-out predictions over positive/negative pairs from the same fold.

    Pooling predictions of different folds would compare heads with different intercepts: on
    random labels a fold's head leans towards the label its held-out part lacks, which drags a
    pooled AUC well below 0.5. Within a fold one head ranks all pairs, so chance stays at 0.5."""
    assignment = np.asarray([fold_of(e.text, folds) for e in examples])
    labels = np.asarray([e.label for e in examples], dtype=np.float64)
    weights = np.asarray([e.weight for e in examples], dtype=np.float64)
    area = pairs = 0.0
    for fold in range(folds):
        rows = np.flatnonzero((assignment == fold) & np.isfinite(predictions))
        positive = (weights[rows] * labels[rows]).sum()
        negative = (weights[rows] * (1 - labels[rows])).sum()
        if positive <= 0 or negative <= 0:
            continue
        auc = roc_auc(predictions[rows], labels[rows], weights[rows])
        area += auc * positive * negative
        pairs += positive * negative
    return area / pairs if pairs else float("nan")


@dataclass
class QualityModel:
    head: LogisticHead
    featurizer: Featurizer
    report: QualityReport
    reference: np.ndarray  # sorted predictions on the training texts (percentiles for CTR heads)

    def predict(self, texts: Sequence[str], kinds: Sequence[str] | None = None,
                languages: Sequence[str] | None = None) -> np.ndarray:
        examples = [Example(text, 0.0, 1.0, (kinds or [""] * len(texts))[i], (languages or [""] * len(texts))[i])
                    for i, text in enumerate(texts)]
        return self.head.predict(self.featurizer.transform(examples))

    def value(self, probability: float) -> float:
        """What the scorer reports: the acceptance probability for a decisions head, the percentile
        among the training texts for a click-through head."""
        if self.report.target == TARGET_CTR and len(self.reference):
            return float(np.searchsorted(self.reference, probability, side="right") / len(self.reference))
        return float(probability)

    # -- storage --

    def save(self, folder: Path | None = None) -> Path:
        folder = Path(folder) if folder is not None else quality_folder()
        folder.mkdir(parents=True, exist_ok=True)
        nonzero = np.flatnonzero(self.head.w_sparse)
        arrays = {
            "sparse_index": nonzero.astype(np.int64),
            "sparse_value": self.head.w_sparse[nonzero],
            "dense": self.head.w_dense,
            "center": self.featurizer.center if self.featurizer.center is not None else np.zeros(0),
            "reference": self.reference,
        }
        with replacing(folder / "head.npz") as temporary, temporary.open("wb") as stream:
            np.savez(stream, **arrays)
        meta = {"format": FORMAT, "bias": self.head.bias, "ngram_bits": NGRAM_BITS, "report": self.report.to_dict()}
        _write_json(folder / "head.json", meta)
        return folder

    @classmethod
    def load(cls, folder: Path | None = None, *, store: Any = None) -> "QualityModel":
        folder = Path(folder) if folder is not None else quality_folder()
        try:
            meta = json.loads((folder / "head.json").read_text(encoding="utf-8"))
            arrays = np.load(folder / "head.npz")
        except FileNotFoundError:
            raise QualityModelError("The quality model is not trained yet: adcopy quality train") from None
        except (OSError, ValueError) as error:
            raise QualityModelError(f"The stored quality model is unreadable ({error}); train it again.") from None
        if meta.get("format") != FORMAT or meta.get("ngram_bits") != NGRAM_BITS:
            raise QualityModelError("The stored quality model is from another version; train it again.")
        report = QualityReport(**meta["report"])
        embedding = TokenEmbedding.for_model(report.model_id, store) if report.model_id else None
        w_sparse = np.zeros(NGRAM_DIM)
        w_sparse[arrays["sparse_index"]] = arrays["sparse_value"]
        center = arrays["center"] if arrays["center"].size else None
        head = LogisticHead(w_sparse, arrays["dense"], float(meta["bias"]))
        return cls(head, Featurizer(embedding, center), report, arrays["reference"])


def _write_json(path: Path, data: Any) -> None:
    with replacing(path) as temporary, temporary.open("w", encoding="utf-8") as stream:
        json.dump(data, stream, ensure_ascii=False, indent=2)


def make_featurizer(features: str = "auto", model_id: str | None = None, store: Any = None) -> Featurizer:
    if features not in FEATURES:
        raise QualityModelError(f"features must be one of {', '.join(FEATURES)}, not {features!r}")
    if features == "ngrams":
        return Featurizer()
    try:
        return Featurizer(TokenEmbedding.for_model(model_id, store))
    except QualityModelError as error:
        if features == "embeddings":
            raise
        log.info("quality model: no token embeddings (%s); hashed n-grams only", error)
        return Featurizer()


def train(
    examples: Sequence[Example],
    *,
    target: str = TARGET_DECISIONS,
    features: str = "auto",
    model_id: str | None = None,
    store: Any = None,
    margin: float = DEFAULT_MARGIN,
    l2: float | None = None,
    decisions_seen: int = 0,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> QualityModel:
    """Cross-validate, gate, then fit the head on all ``examples``; nothing is saved here."""
    started = time.perf_counter()
    examples = [e for e in examples if e.text.strip()]
    positives, negatives = class_weights(examples)
    if target == TARGET_DECISIONS:
        counts = (sum(e.label >= 0.5 for e in examples), sum(e.label < 0.5 for e in examples))
    else:  # click data: count texts above and below the median CTR as the classes for the gate
        median = float(np.median([e.label for e in examples])) if examples else 0.0
        counts = (sum(e.label > median for e in examples), sum(e.label <= median for e in examples))
    if not examples or positives <= 0 or negatives <= 0:
        raise QualityModelError(
            f"Training needs accepted and rejected copy (has {counts[0]} and {counts[1]}). "
            "Accept or reject some candidates first, or import click data: adcopy quality train --ctr FILE.csv"
        )
    featurizer = make_featurizer(features, model_id, store)
    progress(ProgressEvent("quality", f"{len(examples)} examples, {featurizer.description}", 0.0))
    held_out = cross_validated_predictions(examples, featurizer, l2=l2, progress=progress, cancel=cancel)
    auc = within_fold_auc(held_out, examples)
    auc_value = auc if math.isfinite(auc) else None
    usable, reason, se, lower = gate(auc_value, counts[0], counts[1], margin)
    progress(ProgressEvent("quality", "fitting the head on all examples", FOLDS / (FOLDS + 1)))
    all_features = featurizer.transform(examples, fit=True)
    head = fit_logistic(all_features, np.asarray([e.label for e in examples]),
                        np.asarray([e.weight for e in examples]), l2=l2, cancel=cancel)
    reference = np.sort(head.predict(all_features))
    report = QualityReport(
        target=target, examples=len(examples), positives=float(counts[0]), negatives=float(counts[1]),
        auc=None if auc_value is None else round(auc_value, 4),
        auc_se=None if se is None or not math.isfinite(se) else round(se, 4),
        auc_lower=None if lower is None or not math.isfinite(lower) else round(lower, 4),
        margin=margin, usable=usable, reason=reason, features=featurizer.description,
        decisions_seen=decisions_seen, seconds=round(time.perf_counter() - started, 3),
        model_id=featurizer.embedding.model_id if featurizer.embedding else None,
    )
    progress(ProgressEvent("done", report.summary(), 1.0))
    return QualityModel(head, featurizer, report, reference)


# -- the library, status and background retraining ---------------------------------------------------


def library_decision_count(library: Any) -> int:
    return sum(1 for decision in ("accepted", "rejected") for c in library.candidates(decision=decision)
               if c.decided_by_person)


def train_from_library(
    library: Any = None,
    *,
    features: str = "auto",
    model_id: str | None = None,
    margin: float = DEFAULT_MARGIN,
    save: bool = True,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> QualityModel:
    """Train on the library's decisions (default library) and store the head."""
    from adcopy_desktop.core.library import Library

    own = library is None
    library = library or Library()
    try:
        examples = examples_from_library(library)
        seen = library_decision_count(library)
    finally:
        if own:
            library.close()
    model = train(examples, target=TARGET_DECISIONS, features=features, model_id=model_id, margin=margin,
                  decisions_seen=seen, progress=progress, cancel=cancel)
    if save:
        model.save()
        forget_loaded_model()
    return model


def train_from_ctr_csv(path: Path, *, features: str = "auto", model_id: str | None = None,
                       margin: float = DEFAULT_MARGIN, save: bool = True,
                       progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None) -> QualityModel:
    model = train(examples_from_ctr_csv(path), target=TARGET_CTR, features=features, model_id=model_id,
                  margin=margin, progress=progress, cancel=cancel)
    if save:
        model.save()
        forget_loaded_model()
    return model


def stored_report(folder: Path | None = None) -> QualityReport | None:
    folder = Path(folder) if folder is not None else quality_folder()
    try:
        meta = json.loads((folder / "head.json").read_text(encoding="utf-8"))
        return QualityReport(**meta["report"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def quality_status(library: Any = None) -> dict[str, Any]:
    """What the GUI and ``adcopy quality status`` show: the stored report, and decisions since."""
    report = stored_report()
    status: dict[str, Any] = {"trained": report is not None, "report": report.to_dict() if report else None,
                              "min_per_class": MIN_PER_CLASS, "retrain_every": RETRAIN_EVERY}
    if library is not None:
        count = library_decision_count(library)
        status["decisions"] = count
        status["new_decisions"] = count - (report.decisions_seen if report else 0)
    return status


def retrain_if_due(
    library_path: Path | None = None,
    *,
    every: int = RETRAIN_EVERY,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> QualityModel | None:
    """Retrain on the library's decisions when ``every`` new ones came in since the stored head
    (a click-through head is only replaced by training on purpose). Returns the new model or None."""
    from adcopy_desktop.core.library import Library, default_library_path

    path = Path(library_path) if library_path is not None else default_library_path()
    if not path.is_file():
        return None
    report = stored_report()
    if report is not None and report.target == TARGET_CTR:
        return None
    library = Library(path)
    try:
        count = library_decision_count(library)
        seen = report.decisions_seen if report else 0
        if count - seen < every or count < 2 * MIN_PER_CLASS:
            return None
        try:
            return train_from_library(library, progress=progress, cancel=cancel)
        except QualityModelError as error:
            log.info("quality model not retrained: %s", error)
            return None
    finally:
        library.close()


class BackgroundRetrainer:
    """Runs ``retrain_if_due`` on a daemon thread, one at a time, after ``every`` decisions."""

    def __init__(self, every: int = RETRAIN_EVERY, runner: Callable[[], Any] | None = None):
        self.every = every
        self._runner = runner or (lambda: retrain_if_due(every=self.every))
        self._pending = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def decision_recorded(self) -> bool:
        """Count one decision; start a retrain when enough came in. Returns whether one started."""
        with self._lock:
            self._pending += 1
            if self._pending < self.every or (self._thread is not None and self._thread.is_alive()):
                return False
            self._pending = 0
            self._thread = threading.Thread(target=self._run, name="adcopy-quality-retrain", daemon=True)
            self._thread.start()
            return True

    def _run(self) -> None:
        try:
            self._runner()
            self.last_error = None
        except Exception as error:  # a background job must never take the app down
            self.last_error = f"{type(error).__name__}: {error}"
            log.warning("quality model retraining failed: %s", self.last_error, exc_info=error)

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


# -- the loaded model for scoring ----------------------------------------------------------------------

_loaded_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def loaded_model() -> QualityModel | None:
    """The stored model, loaded once per change of its files; None when there is none. Raises
    QualityModelError for a stored model that cannot be used (say, its embedding model is gone)."""
    folder = quality_folder()
    key = (str(folder), _mtime(folder / "head.json"), _mtime(folder / "head.npz"))
    with _loaded_lock:
        if _loaded.get("key") == key:
            error = _loaded.get("error")
            if error:
                raise QualityModelError(error)
            return _loaded.get("model")
        _loaded.clear()
        _loaded["key"] = key
        if not (folder / "head.json").is_file():
            _loaded["model"] = None
            return None
        try:
            _loaded["model"] = QualityModel.load(folder)
        except QualityModelError as error:
            _loaded["error"] = str(error)
            raise
        return _loaded["model"]


def forget_loaded_model() -> None:
    with _loaded_lock:
        _loaded.clear()
