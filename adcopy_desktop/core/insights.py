"""What the library, the model store and the outbox say over time, as tables a chart or a CSV takes.

Every view is a ``Table`` (a name, column names, rows of plain values), so the Insights tab
(``gui/insights_page.py``), ``adcopy report`` (``core/report.py``) and a CSV export all read the
same figures, and tests can check them against SQL of their own:

- ``decision_rates``: per day or week, the candidates generated and how many were accepted,
  rejected, edited (the user's text differs from the generated one), as counts and rates.
- ``mean_scores``: per period and scorer, the mean stored score (abstentions left out).
- ``sinking_rules``: which rules sink candidates most: scorers' hard failures (compliance terms,
  channel limits, …) and the style's flags (forbidden words, lengths), with the share of candidates.
- ``generations`` / ``score_distribution``: the recent generations, and one generation's candidates
  with their weighted total (the ranking's formula) and the chosen (accepted) one marked.
- ``training_curve`` / ``gate_comparison`` / ``model_timeline``: a trained version's loss and
  held-out loss curves (the trainer's ``loss_curve``/``heldout_curve``; first and last loss for
  versions trained before those were kept), the gate's old-vs-new figures, every model on a timeline
  (trained versions with their held-out figures, the gate's answer and where they are active; base
  models with no figures, not a made-up 0).
- ``export_timeline``: per period and shop, export items sent, confirmed and refused (the outbox).

Periods are local calendar days or weeks starting on Monday, written as ISO dates. Reading only:
this module runs SELECTs through ``Library.read`` (like ``core/outbox.py``) and
never writes. No Qt here.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.redaction import redact_text
from adcopy_desktop.core.texts import named, scorer_labels

BUCKETS = ("day", "week")
ALL_STYLES = None  # every generation, whatever its style
NO_STYLE = ""  # generations made without a brand style
GATE_METRICS = ("heldout_loss", "rouge_l", "bleu", "compliance_rate", "faithfulness_rate", "forbidden_rate",
                "empty_rate")
TIMELINE_METRICS = ("heldout_loss", "rouge_l", "bleu")  # the held-out figures the Models timeline can plot
LOWER_IS_BETTER = {"heldout_loss", "forbidden_rate", "empty_rate"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class InsightsError(AdCopyError):
    """A view asked for something that is not there (an unknown generation or model version)."""


@dataclass
class Table:
    """One view's data: ``rows`` of plain values in ``columns`` order."""

    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # what it was made from (style, bucket, model)

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def where(self, **equal: Any) -> "Table":
        """The rows whose columns equal the given values (one scorer's line of a long table)."""
        indexes = {self.columns.index(name): value for name, value in equal.items()}
        rows = [row for row in self.rows if all(row[i] == value for i, value in indexes.items())]
        return Table(self.name, list(self.columns), rows, dict(self.meta))

    def csv_text(self) -> str:
        """CSV with a header; a cell that a spreadsheet would run as a formula gets a leading apostrophe."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_csv_cell(value) for value in row])
        return buffer.getvalue()

    def to_csv(self, path: Path) -> Path:
        """Write the CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese correctly)."""
        path = Path(path)
        try:
            path.write_text(self.csv_text(), encoding="utf-8-sig")
        except OSError as exc:
            raise InsightsError(f"{path} cannot be written ({exc.strerror or exc}); choose another file.") from None
        return path


# -- periods ------------------------------------------------------------------------------------------


def period_of(timestamp: float, bucket: str = "week") -> str:
    """The local day, or the Monday of the local week, of ``timestamp`` as an ISO date."""
    if bucket not in BUCKETS:
        raise InsightsError(f"Unknown period {bucket!r}; use one of: {', '.join(BUCKETS)}.")
    day = datetime.fromtimestamp(timestamp).date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    return day.isoformat()


def period_start(period: str) -> float:
    """The timestamp of a period's first local midnight (for chart axes)."""
    return time.mktime(date.fromisoformat(period).timetuple())


# -- candidates and decisions ---------------------------------------------------------------------


def _candidate_rows(library: Library, style: str | None, since: float | None, until: float | None,
                    kind: str | None = None) -> list[Any]:
    sql = ("SELECT c.id, c.generation_id, c.position, c.generated_text, c.text, c.decision, c.decided_by,"
           " c.details, g.created_at, g.style, g.kind FROM candidates c JOIN generations g ON g.id = c.generation_id"
           " WHERE 1 = 1")
    params: list[Any] = []
    if style == NO_STYLE:
        sql += " AND g.style IS NULL"
    elif style is not None:
        sql += " AND g.style = ?"
        params.append(style)
    if kind is not None:
        sql += " AND g.kind = ?"
        params.append(kind)
    if since is not None:
        sql += " AND g.created_at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND g.created_at < ?"
        params.append(until)
    sql += " ORDER BY g.created_at, c.generation_id, c.position"
    return _query(library, sql, params)


def decision_rates(library: Library, *, style: str | None = ALL_STYLES, bucket: str = "week",
                   since: float | None = None, until: float | None = None, kind: str | None = None) -> Table:
    """Per period (of generation): candidates, accepted (auto_accepted of them by ``batch
    --accept-top``), rejected, edited, undecided, and the accepted / rejected / edited rates."""
    counts: dict[str, dict[str, int]] = {}
    for row in _candidate_rows(library, style, since, until, kind):
        entry = counts.setdefault(period_of(row["created_at"], bucket), dict.fromkeys(
            ("candidates", "accepted", "auto_accepted", "rejected", "edited", "undecided"), 0))
        entry["candidates"] += 1
        decision = row["decision"]
        entry[decision if decision in ("accepted", "rejected") else "undecided"] += 1
        entry["auto_accepted"] += decision == "accepted" and row["decided_by"] == "auto"
        entry["edited"] += row["text"] != row["generated_text"]
    columns = ["period", "candidates", "accepted", "auto_accepted", "rejected", "edited", "undecided",
               "accepted_rate", "rejected_rate", "edited_rate"]
    rows = []
    for period in sorted(counts):
        c = counts[period]
        n = c["candidates"]
        rows.append((period, n, c["accepted"], c["auto_accepted"], c["rejected"], c["edited"], c["undecided"],
                     _ratio(c["accepted"], n), _ratio(c["rejected"], n), _ratio(c["edited"], n)))
    return Table("decision_rates", columns, rows, {"style": style, "bucket": bucket})


def mean_scores(library: Library, *, style: str | None = ALL_STYLES, bucket: str = "week",
                since: float | None = None, until: float | None = None, kind: str | None = None) -> Table:
    """Per period and scorer: the mean of the stored scores (abstentions left out) and how many."""
    sums: dict[tuple[str, str], list[float]] = {}
    labels: dict[str, tuple[str, str]] = {}
    for row in _candidate_rows(library, style, since, until, kind):
        period = period_of(row["created_at"], bucket)
        for entry in _details(row).get("scores") or []:
            if not isinstance(entry, dict) or entry.get("abstained") or "scorer" not in entry:
                continue
            try:
                value = float(entry["value"])
            except (TypeError, ValueError, KeyError):
                continue
            scorer = str(entry["scorer"])
            labels.setdefault(scorer, _labels(entry))
            total = sums.setdefault((period, scorer), [0.0, 0])
            total[0] += value
            total[1] += 1
    rows = [(period, scorer, labels[scorer][0], labels[scorer][1], round(total / n, 4), int(n))
            for (period, scorer), (total, n) in sorted(sums.items())]
    return Table("mean_scores", ["period", "scorer", "label", "label_zh", "mean", "n"], rows,
                 {"style": style, "bucket": bucket})


def sinking_rules(library: Library, *, style: str | None = ALL_STYLES, since: float | None = None,
                  until: float | None = None, kind: str | None = None) -> Table:
    """The rules that sink candidates, most first: each scorer's hard failures (``scorer:<name>``)
    and each style rule flagged as an error (``style:<rule>``, e.g. a forbidden word), with the
    number of candidates and their share of all candidates in the selection. Style warnings
    (too long, a required word missing) are listed after, as ``warning``: they flag, not sink."""
    counts: dict[tuple[str, str], int] = {}
    labels: dict[str, tuple[str, str]] = {}
    total = 0
    for row in _candidate_rows(library, style, since, until, kind):
        total += 1
        details = _details(row)
        seen: set[tuple[str, str]] = set()
        for entry in details.get("scores") or []:
            if isinstance(entry, dict) and entry.get("hard_fail") and "scorer" in entry:
                key = (f"scorer:{entry['scorer']}", "sinks")
                labels.setdefault(key[0], _labels(entry))
                seen.add(key)
        for flag in details.get("flags") or []:
            if isinstance(flag, dict) and flag.get("rule"):
                rule = f"style:{flag['rule']}"
                seen.add((rule, "sinks" if flag.get("severity") == "error" else "warning"))
                labels.setdefault(rule, named("rule", str(flag["rule"])))
        for key in seen:
            counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (item[0][1] != "sinks", -item[1], item[0][0]))
    rows = [(rule, effect, labels[rule][0], labels[rule][1], n, _ratio(n, total)) for (rule, effect), n in ordered]
    return Table("sinking_rules", ["rule", "effect", "label", "label_zh", "candidates", "share"], rows,
                 {"style": style, "candidates": total})


def generations(library: Library, *, style: str | None = ALL_STYLES, limit: int = 200) -> Table:
    """The newest generations (for choosing one): id, when, product, kind, style, candidates, accepted."""
    sql = ("SELECT g.id, g.created_at, COALESCE(p.name, '') AS product, g.kind, g.style,"
           " COUNT(c.id) AS candidates, SUM(c.decision = 'accepted') AS accepted"
           " FROM generations g JOIN products p ON p.id = g.product_id JOIN candidates c ON c.generation_id = g.id")
    params: list[Any] = []
    if style == NO_STYLE:
        sql += " WHERE g.style IS NULL"
    elif style is not None:
        sql += " WHERE g.style = ?"
        params.append(style)
    sql += " GROUP BY g.id ORDER BY g.created_at DESC, g.id DESC LIMIT ?"
    params.append(int(limit))
    rows = [(r["id"], _iso(r["created_at"]), r["product"], r["kind"], r["style"] or "", r["candidates"],
             int(r["accepted"] or 0)) for r in _query(library, sql, params)]
    return Table("generations", ["generation", "created", "product", "kind", "style", "candidates", "accepted"],
                 rows, {"style": style})


def score_distribution(library: Library, generation_id: int) -> Table:
    """One generation's candidates: their weighted total (non-abstained scores, each scorer's stored
    weight: the ranking's formula), whether a hard failure or a style error sinks them, the
    decision, and ``chosen`` for the accepted one (the copy that is used)."""
    rows = _query(library, "SELECT c.id, c.position, c.decision, c.details, c.text, c.generated_text FROM candidates c"
                  " WHERE c.generation_id = ? ORDER BY c.position", (generation_id,))
    if not rows:
        raise InsightsError(f"There is no generation #{generation_id} in the library; choose one from the list.")
    out = []
    for row in rows:
        details = _details(row)
        scores = [s for s in details.get("scores") or [] if isinstance(s, dict)]
        total = weighted_total(scores)
        sunk = any(s.get("hard_fail") for s in scores) or any(
            isinstance(f, dict) and f.get("severity") == "error" for f in details.get("flags") or [])
        out.append((row["id"], row["position"], total, bool(sunk), row["decision"] or "",
                    row["decision"] == "accepted", row["text"] != row["generated_text"]))
    return Table("score_distribution", ["candidate", "position", "total", "sunk", "decision", "chosen", "edited"],
                 out, {"generation": generation_id})


def weighted_total(scores: Sequence[dict[str, Any]]) -> float | None:
    """Weighted mean of the non-abstained scores with their stored weights (``scoring.ranking_of``)."""
    numerator = denominator = 0.0
    for entry in scores:
        try:
            weight, value = float(entry.get("weight", 1.0)), float(entry["value"])
        except (TypeError, ValueError, KeyError):
            continue
        if weight <= 0 or entry.get("abstained"):
            continue
        numerator += weight * value
        denominator += weight
    return round(numerator / denominator, 4) if denominator else None


def styles_in_library(library: Library) -> list[str]:
    """The brand styles the library has copy for (``NO_STYLE`` first when some has none)."""
    rows = _query(library, "SELECT DISTINCT COALESCE(style, '') AS style FROM generations ORDER BY 1", ())
    return [row["style"] for row in rows]


# -- training and models --------------------------------------------------------------------------


def trained_versions(store: Any) -> list[Any]:
    """The store's trained versions, oldest first."""
    return sorted((info for info in store.list_models() if info.fine_tuned), key=lambda i: (i.created, i.id))


def training_curve(info: Any) -> Table:
    """A trained version's curves as rows (series, step, loss): ``train`` from the trainer's
    ``loss_curve`` (``first_loss``/``last_loss`` for versions trained before curves were kept),
    ``held_out`` from ``heldout_curve`` with the parent's held-out loss at step 0."""
    supervised = (info.training or {}).get("supervised") or {}
    rows: list[tuple[str, int, float]] = []
    curve = supervised.get("loss_curve")
    if curve:
        rows += [("train", int(step), float(loss)) for step, loss in curve]
    else:
        if supervised.get("first_loss") is not None:
            rows.append(("train", 1, float(supervised["first_loss"])))
        if supervised.get("last_loss") is not None:
            rows.append(("train", int(supervised.get("steps") or 1), float(supervised["last_loss"])))
    old_loss = info.held_out_metrics("old").get("heldout_loss")
    held = supervised.get("heldout_curve")
    if old_loss is not None:
        rows.append(("held_out", 0, float(old_loss)))
    if held:
        rows += [("held_out", int(step), float(loss)) for step, loss in held]
    elif supervised.get("best_heldout_loss") is not None:
        rows.append(("held_out", int(supervised.get("best_step") or supervised.get("steps") or 1),
                     float(supervised["best_heldout_loss"])))
    return Table("training_curve", ["series", "step", "loss"], rows, {"model": info.id})


def gate_comparison(info: Any) -> Table:
    """The gate's held-out figures of the parent (old) and the new version, with the difference."""
    old, new = info.held_out_metrics("old"), info.held_out_metrics("new")
    rows = []
    for metric in GATE_METRICS:
        a, b = _number(old.get(metric)), _number(new.get(metric))
        if a is None and b is None:
            continue
        rows.append((metric, *named("metric", metric), a, b, round(b - a, 4) if a is not None and b is not None else None))
    decision = (info.evaluation or {}).get("decision", "")
    decision_en, decision_zh = named("gate", decision) if decision else ("", "")
    return Table("gate", ["metric", "label", "label_zh", "old", "new", "difference"], rows,
                 {"model": info.id, "parent": info.parent, "decision": decision, "decision_label": decision_en,
                  "decision_label_zh": decision_zh})


def model_timeline(store: Any) -> Table:
    """Every installed model by creation time: version, parent, style, whether it is a trained
    version, where it is active (the default model, for styles), the gate's decision (named in both
    languages) and the new held-out figures of trained versions (None for base models: they have
    none). ``meta["metrics"]``: the ``TIMELINE_METRICS`` some trained version carries."""
    rows = []
    carried: set[str] = set()
    for info in sorted(store.list_models(), key=lambda i: (i.created, i.id)):
        new = info.held_out_metrics("new") if info.fine_tuned else {}
        figures = [_number(new.get(metric)) for metric in TIMELINE_METRICS]
        carried |= {metric for metric, value in zip(TIMELINE_METRICS, figures) if value is not None}
        decision = (info.evaluation or {}).get("decision", "") if info.fine_tuned else ""
        decision_en, decision_zh = named("gate", decision) if decision else ("", "")
        rows.append((info.id, info.created, info.version, info.parent or "", info.style or "", info.fine_tuned,
                     bool(info.active or info.active_styles), bool(info.active), ", ".join(sorted(info.active_styles)),
                     decision, decision_en, decision_zh, *figures))
    return Table("model_timeline", ["model", "created", "version", "parent", "style", "trained", "active",
                                    "active_default", "active_styles", "decision", "decision_label",
                                    "decision_label_zh", *TIMELINE_METRICS], rows,
                 {"metrics": [metric for metric in TIMELINE_METRICS if metric in carried]})


# -- exports --------------------------------------------------------------------------------------


def export_timeline(library: Library, *, bucket: str = "day", since: float | None = None) -> Table:
    """Per period and shop: export items sent (by their last send), confirmed by the shop (when it
    confirmed) and refused (by their last send). The shop is its URL with any credentials removed."""
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    rows = _query(library, "SELECT j.target, j.destination, i.status, i.sent_at, i.confirmed_at FROM export_items i"
                  " JOIN export_jobs j ON j.id = i.job_id", ())
    for row in rows:
        shop = redact_text(row["destination"])
        target = row["target"]

        def add(timestamp: float | None, what: str) -> None:
            if timestamp is None or (since is not None and timestamp < since):
                return
            entry = counts.setdefault((period_of(timestamp, bucket), shop, target),
                                      {"sent": 0, "confirmed": 0, "failed": 0})
            entry[what] += 1

        add(row["sent_at"], "sent")
        if row["status"] == "done":
            add(row["confirmed_at"], "confirmed")
        elif row["status"] == "failed":
            add(row["sent_at"], "failed")
    out = [(period, shop, target, c["sent"], c["confirmed"], c["failed"])
           for (period, shop, target), c in sorted(counts.items())]
    return Table("export_timeline", ["period", "shop", "target", "sent", "confirmed", "failed"], out,
                 {"bucket": bucket})


# -- helpers --------------------------------------------------------------------------------------


def _query(library: Library, sql: str, params: Iterable[Any]) -> list[Any]:
    return library.read(sql, params)


def _details(row: Any) -> dict[str, Any]:
    try:
        details = json.loads(row["details"])
    except (TypeError, ValueError):
        return {}
    return details if isinstance(details, dict) else {}


def _labels(entry: dict[str, Any]) -> tuple[str, str]:
    localized = entry.get("localized") if isinstance(entry.get("localized"), dict) else {}
    zh = localized.get("zh") if isinstance(localized.get("zh"), dict) else {}
    scorer = str(entry.get("scorer") or "")
    return (str(entry.get("name") or scorer),
            str(zh.get("name") or scorer_labels(scorer).get("zh", "")))  # scored before scorers spoke Chinese


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(float(value), 4)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if value is None:
        return ""
    return value
