"""``adcopy report``: the Insights charts of one brand style in one self-contained HTML file.

Every chart is inline SVG drawn here from the ``core/insights.py`` tables (no Qt, no plotting
library, no script, no external URL: the file opens offline and mails as one attachment), each
section followed by its data as a table. The sections are the Insights tab's charts: decisions,
scores, sinking rules, the newest generations (the chosen candidate's bar highlighted), each of the
style's newest training runs with its gate, the models on a timeline (one chart per held-out figure
the manifests carry; base models as dashed lines, active versions ringed; a style's report leaves
out other styles' versions: they are other clients') and the shop exports, one line per shop. The
report is in English or Chinese (``language``).
"""

from __future__ import annotations

import html
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from adcopy_desktop import __version__
from adcopy_desktop.core import insights
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.insights import Table
from adcopy_desktop.core.texts import named

# a palette that reads on white paper and in print
COLOURS = ("#1f6fb4", "#2e8b3e", "#c0392b", "#8e44ad", "#d35400", "#16a085", "#b7950b", "#7f8c8d")
MUTED, ACCENT = "#b0b0b0", "#e67e22"  # the other candidates' bars, and the chosen one's
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 720, 300, 56, 56, 16, 150
PLOT_W = WIDTH - PAD_LEFT - PAD_RIGHT

TEXTS = {
    "en": {
        "title": "Copy report: {style}", "all": "all styles", "none": "copy without a brand style",
        "made": "Made by AdCopy Desktop {version} on {date}, per {bucket}.", "week": "week", "day": "day",
        "decisions": "Accepted, rejected and edited copy", "scores": "Mean score per scorer",
        "sinking": "Rules that sink candidates", "training": "Training runs for this style",
        "exports": "Shop exports", "accepted": "accepted", "rejected": "rejected", "edited": "edited",
        "sent": "sent", "confirmed": "confirmed", "failed": "refused", "empty": "Nothing recorded yet.",
        "candidates": "candidates", "loss": "training loss", "heldout": "held-out loss",
        "gate": "Gate: old vs new ({model}, {decision})", "old": "old", "new": "new", "data": "Data",
        "generation": "Newest generations: candidates by weighted total",
        "generation_caption": "#{generation}, {created}, {product} ({kind})", "total": "weighted total",
        "chosen": "chosen", "sunk": "sunk", "models": "Models on a timeline, at their held-out figures",
        "models_caption": "{metric} ({direction})", "lower": "lower is better",
        "higher": "higher is better", "base": "{model} (base model)", "base_legend": "base model",
        "active": "active", "active_default": "{model} (active)", "active_for": "{model} (active for {styles})",
        "all_styles": "all styles", "exports_sent": "Items sent, per shop",
        "exports_confirmed": "Items confirmed, per shop", "exports_failed": "Items refused, per shop",
    },
    "zh": {
        "title": "文案报告：{style}", "all": "所有风格", "none": "无品牌风格的文案",
        "made": "由 AdCopy Desktop {version} 于 {date} 生成，按{bucket}统计。", "week": "周", "day": "天",
        "decisions": "接受、拒绝和编辑的文案", "scores": "各评分器的平均分", "sinking": "使候选文案沉底的规则",
        "training": "此风格的训练", "exports": "店铺导出", "accepted": "接受", "rejected": "拒绝", "edited": "编辑",
        "sent": "已发送", "confirmed": "已确认", "failed": "被拒绝", "empty": "尚无记录。",
        "candidates": "候选文案", "loss": "训练损失", "heldout": "留出集损失",
        "gate": "评估关卡：旧与新（{model}，{decision}）", "old": "旧", "new": "新", "data": "数据",
        "generation": "最近的生成：候选文案的加权总分",
        "generation_caption": "#{generation}，{created}，{product}（{kind}）", "total": "加权总分",
        "chosen": "已选", "sunk": "沉底", "models": "模型时间线：留出集指标",
        "models_caption": "{metric}（{direction}）", "lower": "越低越好", "higher": "越高越好",
        "base": "{model}（基础模型）", "base_legend": "基础模型", "active": "当前使用",
        "active_default": "{model}（当前使用）", "active_for": "{model}（{styles} 当前使用）",
        "all_styles": "所有风格", "exports_sent": "各店铺已发送的条目", "exports_confirmed": "各店铺已确认的条目",
        "exports_failed": "各店铺被拒绝的条目",
    },
}


class ReportError(AdCopyError):
    """The report cannot be made as asked (an unknown style, an unwritable file)."""


def build_report(library: Any, store: Any, *, style: str | None, bucket: str = "week", language: str = "en") -> str:
    """The HTML text of the report for ``style`` (None: all styles, "": copy without a style)."""
    texts = TEXTS["zh" if language.startswith("zh") else "en"]
    known = insights.styles_in_library(library)
    if style is not None and style not in known:
        names = ", ".join(name for name in known if name) or "none"
        raise ReportError(f"The library has no copy for the style '{style}'. Styles with copy: {names}.")
    name = texts["all"] if style is None else texts["none"] if style == "" else style
    sections = []

    rates = insights.decision_rates(library, style=style, bucket=bucket)
    xs = rates.column("period")
    sections.append(_section(texts["decisions"], line_chart(xs, {
        texts["accepted"]: rates.column("accepted_rate"), texts["rejected"]: rates.column("rejected_rate"),
        texts["edited"]: rates.column("edited_rate")}, y_max=1.0), rates, texts))

    scores = insights.mean_scores(library, style=style, bucket=bucket)
    periods = sorted(set(scores.column("period")))
    series = {}
    for scorer in dict.fromkeys(scores.column("scorer")):
        part = scores.where(scorer=scorer).records()
        by_period = {r["period"]: r["mean"] for r in part}
        label = (part[0]["label_zh"] if language.startswith("zh") and part[0]["label_zh"] else part[0]["label"])
        series[label] = [by_period.get(p) for p in periods]
    sections.append(_section(texts["scores"], line_chart(periods, series, y_max=1.0), scores, texts))

    sinking = insights.sinking_rules(library, style=style)
    labels = [(r["label_zh"] if language.startswith("zh") and r["label_zh"] else r["label"]) for r in sinking.records()]
    sections.append(_section(texts["sinking"], bar_chart(labels, {texts["candidates"]: sinking.column("candidates")}),
                             sinking, texts))

    sections.append(_generations_section(library, style, texts, language))

    versions = [v for v in insights.trained_versions(store) if style is None or (v.style or "") == style]
    for info in versions[-3:]:  # the newest three runs
        curve = insights.training_curve(info)
        train, held = curve.where(series="train"), curve.where(series="held_out")
        sections.append(_section(f"{texts['training']}: {info.id}", xy_chart({
            texts["loss"]: list(zip(train.column("step"), train.column("loss"))),
            texts["heldout"]: list(zip(held.column("step"), held.column("loss")))}), curve, texts))
        gate = insights.gate_comparison(info)
        zh = language.startswith("zh")
        answer = (gate.meta.get("decision_label_zh") if zh else None) or gate.meta.get("decision_label") or "—"
        names = [(r["label_zh"] if zh and r["label_zh"] else r["label"]) for r in gate.records()]
        sections.append(_section(texts["gate"].format(model=info.id, decision=answer),
                                 bar_chart(names, {texts["old"]: gate.column("old"),
                                                                   texts["new"]: gate.column("new")}), gate, texts))

    sections.append(_models_section(store, style, texts, language))

    exports = insights.export_timeline(library, bucket=bucket)
    periods = sorted(set(exports.column("period")))
    shops = sorted(set(exports.column("shop")))
    figures = []
    for key in ("sent", "confirmed", "failed"):  # one line per shop: a shop's trouble is not averaged away
        series = {}
        for shop in shops:
            counts = {p: 0 for p in periods}
            for record in exports.where(shop=shop).records():
                counts[record["period"]] += record[key]
            series[shop_name(shop)] = [counts[p] for p in periods]
        figures.append((texts[f"exports_{key}"], line_chart(periods, series)))
    sections.append(_section(texts["exports"], figures, exports, texts))

    title = texts["title"].format(style=name)
    made = texts["made"].format(version=__version__, date=time.strftime("%Y-%m-%d %H:%M"), bucket=texts[bucket])
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if language.startswith("zh") else "en"}"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class=note>{_e(made)}</p>" + "".join(sections) + "</body></html>\n"
    )


def _generations_section(library: Any, style: str | None, texts: dict[str, str], language: str) -> str:
    """The newest three generations of the style, each candidate's weighted total as a bar, the
    chosen (accepted) one highlighted."""
    figures, rows = [], []
    for generation in insights.generations(library, style=style, limit=3).records():
        table = insights.score_distribution(library, generation["generation"])
        records = table.records()
        chosen = next((i for i, r in enumerate(records) if r["chosen"]), None)
        labels = [f"#{r['position'] + 1}" + (f" ★ {texts['chosen']}" if r["chosen"] else "")
                  + (f" ({texts['sunk']})" if r["sunk"] else "") for r in records]
        caption = texts["generation_caption"].format(generation=generation["generation"], created=generation["created"],
                                                     product=generation["product"], kind=generation["kind"])
        figures.append((caption, bar_chart(labels, {texts["total"]: [r["total"] for r in records]},
                                           highlight=None if chosen is None else (chosen, texts["chosen"]))))
        rows += [(generation["generation"], *row) for row in table.rows]
    columns = ["generation", "candidate", "position", "total", "sunk", "decision", "chosen", "edited"]
    return _section(texts["generation"], figures, Table("score_distribution", columns, rows), texts)


def _models_section(store: Any, style: str | None, texts: dict[str, str], language: str) -> str:
    """Every model on a timeline, one chart per held-out figure the manifests carry; a style's
    report shows base models, versions for all styles and the style's own, not other styles'."""
    timeline = insights.model_timeline(store)
    shown = [row for row, record in zip(timeline.rows, timeline.records())
             if style is None or not record["trained"] or record["style"] in ("", style)]
    table = Table(timeline.name, list(timeline.columns), shown, dict(timeline.meta))
    zh = language.startswith("zh")
    figures = []
    for metric in timeline.meta.get("metrics", []):
        english, chinese = named("metric", metric)
        direction = texts["lower" if metric in insights.LOWER_IS_BETTER else "higher"]
        figures.append((texts["models_caption"].format(metric=chinese if zh and chinese else english,
                                                       direction=direction),
                        timeline_chart(table.records(), metric, texts, zh=zh)))
    return _section(texts["models"], figures, table, texts)


def shop_name(shop: str) -> str:
    """A shop as the charts name it: its host and path, without the scheme or any credentials."""
    parts = urlsplit(shop)
    if not parts.netloc:
        return shop
    return parts.netloc.rsplit("@", 1)[-1] + parts.path.rstrip("/")


def write_report(out: Path, library: Any, store: Any, **options: Any) -> Path:
    text = build_report(library, store, **options)
    out = Path(out)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"The report cannot be written to {out} ({exc.strerror or exc}); choose another file.") \
            from None
    return out


# -- SVG charts -----------------------------------------------------------------------------------


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, y_max: float | None = None) -> str:
    """Lines over categorical x labels (periods); None values leave a gap."""
    points = {name: [(i, v) for i, v in enumerate(values) if v is not None] for name, values in series.items()}
    return _chart([str(label) for label in labels], points, y_max=y_max, lines=True)


def xy_chart(series: dict[str, Sequence[tuple[float, float]]]) -> str:
    """Lines over numeric x (training steps)."""
    xs = sorted({x for values in series.values() for x, _ in values})
    return _chart(None, {name: list(values) for name, values in series.items()}, lines=True, x_values=xs)


def bar_chart(labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
              highlight: tuple[int, str] | None = None) -> str:
    """Grouped vertical bars, one group per label; ``highlight`` (index, legend name) draws one bar
    of a single series in the accent colour, outlined and starred, among grey ones."""
    points = {name: [(i, v if v is not None else 0.0) for i, v in enumerate(values)] for name, values in series.items()}
    return _chart([str(label) for label in labels], points, lines=False, highlight=highlight)


def timeline_chart(records: Sequence[dict[str, Any]], metric: str, texts: dict[str, str], *, zh: bool = False) -> str:
    """``model_timeline`` records over their creation time: trained versions at ``metric``, one line
    per style, each point named by its version and ringed when active; base models as dashed vertical
    lines (a time, not a value: they have no held-out figures)."""
    dated = [dict(r, when=_created_timestamp(r["created"])) for r in records]
    dated = [r for r in dated if r["when"] is not None]
    versions = [r for r in dated if r["trained"] and r[metric] is not None]
    bases = [r for r in dated if not r["trained"]]
    series: dict[str, list[tuple[float, float]]] = {}
    titles: dict[str, list[str]] = {}
    for record in versions:
        name = record["style"] or texts["all_styles"]
        series.setdefault(name, []).append((record["when"], record[metric]))
        decision = (record["decision_label_zh"] if zh and record["decision_label_zh"] else record["decision_label"])
        titles.setdefault(name, []).append(f"{record['model']}: {_num(record[metric])}"
                                           + (f" ({decision})" if decision else ""))

    def label_of(record: dict[str, Any], model: str) -> str:
        if record["active_default"]:
            return texts["active_default"].format(model=model)
        if record["active_styles"]:
            return texts["active_for"].format(model=model, styles=record["active_styles"])
        return model

    def extras(x_of: Callable[[float], float], y_of: Callable[[float], float], top: float, bottom: float) -> list[str]:
        parts = []
        # the boxes (left, right, baseline) of the points and of the labels placed: a label covers none
        placed = [(x_of(r["when"]) - 7, x_of(r["when"]) + 7, y_of(r[metric]) + 6) for r in versions]
        for record in versions:
            x, y = x_of(record["when"]), y_of(record[metric])
            if record["active"]:
                parts.append(f'<circle class="active" cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" stroke="#222" '
                             'stroke-width="1.5"/>')
            label = label_of(record, record["model"])
            width = 6.2 * len(label)
            anchor = "end" if x > PAD_LEFT + 0.75 * PLOT_W else "start" if x < PAD_LEFT + 0.25 * PLOT_W else "middle"
            left = {"end": x - width, "start": x, "middle": x - width / 2}[anchor]
            for baseline in (y - 11, y + 20, y - 24, y + 33, y - 37):  # above, below, further out
                if not any(left < r and l < left + width and abs(baseline - b) < 12 for l, r, b in placed):
                    break
            placed.append((left, left + width, baseline))
            parts.append(f'<text class="version" x="{x:.1f}" y="{baseline:.1f}" text-anchor="{anchor}" fill="#333">'
                         f"{_e(label)}</text>")
        for record in bases:
            x = x_of(record["when"])
            parts.append(f'<line class="base" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                         'stroke="#999" stroke-width="1.5" stroke-dasharray="5,4"/>'
                         f'<text class="base" x="{x + 4:.1f}" y="{top + 12:.1f}" fill="#333">'
                         f"{_e(label_of(record, texts['base'].format(model=record['model'])))}</text>")
        row = len(series)
        if any(r["active"] for r in versions):
            parts.append(_legend(row, '<circle cx="5" cy="-3" r="5" fill="none" stroke="#222" stroke-width="1.5"/>',
                                 texts["active"]))
            row += 1
        if bases:
            parts.append(_legend(row, '<line x1="5" y1="-9" x2="5" y2="2" stroke="#999" stroke-width="1.5" '
                                      'stroke-dasharray="3,2"/>', texts["base_legend"]))
        return parts

    times = [r["when"] for r in versions + bases]
    values = [r[metric] for r in versions]
    top = max(values) + 0.2 * ((max(values) - min(values)) or abs(max(values)) or 1.0) if values else None
    return _chart(None, series, lines=True, x_values=sorted(times), x_format=_date, titles=titles, extras=extras,
                  x_pad=0.06, y_max=top)  # headroom for the names above the points


def _chart(labels: list[str] | None, series: dict[str, list[tuple[float, float]]], *, lines: bool,
           y_max: float | None = None, x_values: list[float] | None = None,
           highlight: tuple[int, str] | None = None, x_format: Callable[[float], str] | None = None,
           titles: dict[str, list[str]] | None = None, extras: Callable[..., list[str]] | None = None,
           x_pad: float = 0.0) -> str:
    values = [v for pts in series.values() for _, v in pts]
    if not values:
        return ""
    top = y_max if y_max is not None else max(max(values), 0.0) or 1.0
    bottom = min(0.0, min(values))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    if labels is not None:
        count = max(1, len(labels))
        step = plot_w / count

        def x_of(x: float) -> float:
            return PAD_LEFT + step * (x + 0.5)
    else:
        low, high = (min(x_values), max(x_values)) if x_values else (0.0, 1.0)
        span = (high - low) or 1.0
        low, span = low - x_pad * span, span * (1 + 2 * x_pad)  # room for labels at the ends

        def x_of(x: float) -> float:
            return PAD_LEFT + plot_w * (x - low) / span

    def y_of(y: float) -> float:
        return PAD_TOP + plot_h * (1 - (y - bottom) / ((top - bottom) or 1.0))

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" font-family="sans-serif" font-size="11">']
    for tick in range(5):  # horizontal grid with the values
        value = bottom + (top - bottom) * tick / 4
        y = y_of(value)
        parts.append(f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{PAD_LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{_num(value)}</text>')
    parts.append(f'<line x1="{PAD_LEFT}" y1="{y_of(bottom):.1f}" x2="{PAD_LEFT + plot_w}" y2="{y_of(bottom):.1f}" '
                 'stroke="#333"/>')
    if labels is not None:
        every = max(1, len(labels) // 12)
        for i, label in enumerate(labels):
            if i % every == 0:
                x = x_of(i)
                parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="end" fill="#333" '
                             f'transform="rotate(-30 {x:.1f} {HEIGHT - PAD_BOTTOM + 14})">{_e(label[:28])}</text>')
    elif x_values:
        ticks = (x_values[0], x_values[len(x_values) // 2], x_values[-1])
        if x_format is not None:  # dates: evenly spaced, so close ones do not collide
            ticks = tuple(x_values[0] + (x_values[-1] - x_values[0]) * k / 3 for k in range(4))
        for x in dict.fromkeys(ticks):
            parts.append(f'<text x="{x_of(x):.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" '
                         f'fill="#333">{_e(x_format(x) if x_format else _num(x))}</text>')
    width = (plot_w / max(1, len(labels or [0]))) * 0.8 / max(1, len(series))
    marked = highlight is not None and len(series) == 1
    for number, (name, pts) in enumerate(series.items()):
        colour = MUTED if marked else COLOURS[number % len(COLOURS)]
        if lines:
            path = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
            names = (titles or {}).get(name) or [f"{name}: {_num(y)}" for _, y in pts]
            parts += [f'<circle cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="3" fill="{colour}">'
                      f"<title>{_e(title)}</title></circle>" for (x, y), title in zip(pts, names)]
        else:
            for x, y in pts:
                left = x_of(x) - 0.4 * (plot_w / max(1, len(labels or [0]))) + width * number
                y0, y1 = y_of(max(y, 0.0)), y_of(min(y, 0.0))
                chosen = marked and x == highlight[0]
                fill = (f'fill="{ACCENT}" stroke="#222" stroke-width="1.5" class="chosen"' if chosen
                        else f'fill="{colour}"')
                parts.append(f'<rect x="{left:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{max(y1 - y0, 0.5):.1f}" '
                             f'{fill}><title>{_e(name)}: {_num(y)}</title></rect>')
                if chosen:
                    parts.append(f'<text x="{left + width / 2:.1f}" y="{y0 - 4:.1f}" text-anchor="middle" '
                                 f'fill="{ACCENT}" font-size="14">★</text>')
        parts.append(_legend(number, f'<rect x="0" y="-8" width="10" height="10" fill="{colour}"/>', name))
    if marked:
        parts.append(_legend(len(series), f'<rect x="0" y="-8" width="10" height="10" fill="{ACCENT}" '
                                          'stroke="#222"/>', f"★ {highlight[1]}"))
    if extras is not None:
        parts += extras(x_of, y_of, y_of(top), y_of(bottom))
    parts.append("</svg>")
    return "".join(parts)


def _legend(row: int, sample: str, name: str) -> str:
    """One legend row right of the plot: ``sample`` drawn with its baseline at the row's text."""
    x, y = WIDTH - PAD_RIGHT + 12, PAD_TOP + 14 * row + 9
    return (f'<g transform="translate({x} {y})">{sample}</g>'
            f'<text x="{x + 16}" y="{y}" fill="#333">{_e(name[:22])}</text>')


def _created_timestamp(created: str) -> float | None:
    try:
        return datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def _date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d")


# -- HTML -------------------------------------------------------------------------------------------

STYLE = ("body{font-family:sans-serif;max-width:800px;margin:2em auto;color:#222}h2{margin-top:2em}"
         ".note{color:#555}table{border-collapse:collapse;font-size:12px;margin:.5em 0 1em}"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}"
         "details{margin-bottom:1em}figure{margin:0 0 1em}figcaption{color:#444;font-size:14px}")


def _section(title: str, svg: str | list[tuple[str, str]], table: Table, texts: dict[str, str]) -> str:
    """A titled section: one chart, or several (caption, chart) figures, then the data."""
    if isinstance(svg, list):
        svg = "".join(f"<figure><figcaption>{_e(caption)}</figcaption>{chart}</figure>" for caption, chart in svg
                      if chart)
    body = svg if svg and table.rows else f"<p class=note>{_e(texts['empty'])}</p>"
    rows = "".join("<tr>" + "".join(f"<td>{_e(_cell(v))}</td>" for v in row) + "</tr>" for row in table.rows)
    data = (f"<details><summary>{_e(texts['data'])}</summary><table><tr>"
            + "".join(f"<th>{_e(c)}</th>" for c in table.columns) + f"</tr>{rows}</table></details>") if table.rows else ""
    return f"<section><h2>{_e(title)}</h2>{body}{data}</section>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) and value != int(value) else f"{value:g}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
