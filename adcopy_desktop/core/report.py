"""``adcopy report``: the Insights charts of one brand style in one self-contained HTML file.

Every chart is inline SVG drawn here from the ``core/insights.py`` tables (no Qt, no plotting
library, no script, no external URL: the file opens offline and mails as one attachment), each
followed by its data as a table. The report is in English or Chinese (``language``).
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any, Sequence

from adcopy_desktop import __version__
from adcopy_desktop.core import insights
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.insights import Table

# a palette that reads on white paper and in print
COLOURS = ("#1f6fb4", "#2e8b3e", "#c0392b", "#8e44ad", "#d35400", "#16a085", "#b7950b", "#7f8c8d")
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 720, 300, 56, 56, 16, 150

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
    },
    "zh": {
        "title": "文案报告：{style}", "all": "所有风格", "none": "无品牌风格的文案",
        "made": "由 AdCopy Desktop {version} 于 {date} 生成，按{bucket}统计。", "week": "周", "day": "天",
        "decisions": "接受、拒绝和编辑的文案", "scores": "各评分器的平均分", "sinking": "使候选文案沉底的规则",
        "training": "此风格的训练", "exports": "店铺导出", "accepted": "接受", "rejected": "拒绝", "edited": "编辑",
        "sent": "已发送", "confirmed": "已确认", "failed": "被拒绝", "empty": "尚无记录。",
        "candidates": "候选文案", "loss": "训练损失", "heldout": "留出集损失",
        "gate": "评估关卡：旧与新（{model}，{decision}）", "old": "旧", "new": "新", "data": "数据",
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

    exports = insights.export_timeline(library, bucket=bucket)
    periods = sorted(set(exports.column("period")))
    totals = {key: [sum(r[key] for r in exports.records() if r["period"] == p) for p in periods]
              for key in ("sent", "confirmed", "failed")}
    sections.append(_section(texts["exports"], line_chart(periods, {texts[k]: v for k, v in totals.items()}),
                             exports, texts))

    title = texts["title"].format(style=name)
    made = texts["made"].format(version=__version__, date=time.strftime("%Y-%m-%d %H:%M"), bucket=texts[bucket])
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if language.startswith("zh") else "en"}"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class=note>{_e(made)}</p>" + "".join(sections) + "</body></html>\n"
    )


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


def bar_chart(labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> str:
    """Grouped vertical bars, one group per label."""
    points = {name: [(i, v if v is not None else 0.0) for i, v in enumerate(values)] for name, values in series.items()}
    return _chart([str(label) for label in labels], points, lines=False)


def _chart(labels: list[str] | None, series: dict[str, list[tuple[float, float]]], *, lines: bool,
           y_max: float | None = None, x_values: list[float] | None = None) -> str:
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
        for x in (x_values[0], x_values[len(x_values) // 2], x_values[-1]):
            parts.append(f'<text x="{x_of(x):.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" '
                         f'fill="#333">{_num(x)}</text>')
    width = (plot_w / max(1, len(labels or [0]))) * 0.8 / max(1, len(series))
    for number, (name, pts) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        if lines:
            path = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
            parts += [f'<circle cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="3" fill="{colour}">'
                      f"<title>{_e(name)}: {_num(y)}</title></circle>" for x, y in pts]
        else:
            for x, y in pts:
                left = x_of(x) - 0.4 * (plot_w / max(1, len(labels or [0]))) + width * number
                y0, y1 = y_of(max(y, 0.0)), y_of(min(y, 0.0))
                parts.append(f'<rect x="{left:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{max(y1 - y0, 0.5):.1f}" '
                             f'fill="{colour}"><title>{_e(name)}: {_num(y)}</title></rect>')
        legend_y = PAD_TOP + 14 * number + 8
        parts.append(f'<rect x="{WIDTH - PAD_RIGHT + 12}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{WIDTH - PAD_RIGHT + 28}" y="{legend_y + 1}" fill="#333">{_e(name[:20])}</text>')
    parts.append("</svg>")
    return "".join(parts)


# -- HTML -------------------------------------------------------------------------------------------

STYLE = ("body{font-family:sans-serif;max-width:800px;margin:2em auto;color:#222}h2{margin-top:2em}"
         ".note{color:#555}table{border-collapse:collapse;font-size:12px;margin:.5em 0 1em}"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}"
         "details{margin-bottom:1em}")


def _section(title: str, svg: str, table: Table, texts: dict[str, str]) -> str:
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
