"""The writer: the catalog and product editor on the left, generation and candidate cards on the right.

Generate saves the product, then runs ``generation_task`` in a worker: tokens stream into their
cards through a ``TokenStream`` (coalesced, flushed every 30 ms), the finished candidates are
recorded in the library in the worker, scored by every active scorer, and shown. Decisions and
edits are written to the library at once (one small transaction each) and announced to plugins in
the background. Opening a product shows its latest set of candidates from the library.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import AdCopyError, ProductParseError
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.core.prompts import CopyRequest, resolve_language
from adcopy_desktop.gui.candidate_card import CandidateCard, CardOrigin
from adcopy_desktop.gui.catalog import CatalogPanel
from adcopy_desktop.gui.compare_dialog import CompareDialog
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.generation_panel import GenerationPanel
from adcopy_desktop.gui.i18n import interface_copy_language
from adcopy_desktop.gui.labels import product_title
from adcopy_desktop.gui.product_editor import ProductEditor
from adcopy_desktop.gui.streaming import TokenStream
from adcopy_desktop.gui.tasks import (
    GenerationOutcome,
    ScoredSet,
    generation_task,
    latest_candidate_set,
    rescore_task,
)
from adcopy_desktop.gui.worker import BackgroundJob

log = logging.getLogger("adcopy.gui.writer")

SEED_RANGE = 2**31 - 1


def copy_request(product, kind, *, language: str | None, length, tone) -> CopyRequest:
    """The request for the writer's choices; with no language chosen the facts' language, and for
    facts in no language ("42 / 43") the user's, not always English."""
    request = CopyRequest(product, kind, language=language, length=length, tone=tone)
    if request.language is None:
        request.language = resolve_language(request, fallback=interface_copy_language())
    return request


class WritePage(QWidget):
    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.catalog = CatalogPanel(context)
        self.editor = ProductEditor(context)
        self.panel = GenerationPanel(context)
        self.cards: list[CandidateCard] = []  # the cards shown, in order
        self._pool: list[CandidateCard] = []  # every card made so far (hidden ones are reused)
        self.current_card: CandidateCard | None = None
        self.generation_job: BackgroundJob | None = None
        self.last_outcome: GenerationOutcome | None = None
        self._backups: dict[int, tuple] = {}
        self._shown_product: int | None = None
        self._rescore_job: BackgroundJob | None = None
        self.stream = TokenStream(self._deliver_text, parent=self)
        self.seeds = random.Random()  # each generation gets a new recorded seed (tests fix this)

        self.cards_header = QLabel()
        self.cards_header.setStyleSheet("font-weight:600;")
        self.empty_hint = QLabel(self.tr("Choose or add a product, then press Generate (Ctrl+Enter)."))
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("color:palette(mid); padding:24px;")
        self.cards_holder = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_holder)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.addWidget(self.empty_hint)
        self.cards_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.cards_holder)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.catalog)
        left.addWidget(self.editor)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.panel)
        right_layout.addWidget(self.cards_header)
        right_layout.addWidget(self.scroll, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.left_splitter = left
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)

        self.catalog.product_selected.connect(self.open_product)
        self.catalog.new_product_requested.connect(self.new_product)
        self.editor.saved.connect(self._product_saved)
        self.panel.generate_requested.connect(self.generate)
        self.panel.stop_requested.connect(self.stop)
        self.panel.compare_requested.connect(self.compare)
        context.show_product.connect(self.show_product)
        context.models_changed.connect(self._models_changed)
        self._update_compare()

    def _models_changed(self) -> None:
        self.context.preload_model(self.panel.choices().model_id)

    def prepare(self) -> None:
        """Right after the window opens: load the model in the background and have the cards built
        and polished, so the first Generate neither waits for them nor stalls the window."""
        self.context.preload_model(self.panel.choices().model_id)
        self._build_spare_card()

    def _build_spare_card(self) -> None:
        """One hidden card per turn of the event loop, until there is one for every candidate."""
        if len(self._pool) >= self.panel.count_spin.maximum() or self.context.closed:
            return
        card = self._new_card()
        card.hide()
        card.ensurePolished()
        QTimer.singleShot(0, self, self._build_spare_card)

    # -- products --------------------------------------------------------------------------------

    def open_product(self, product_id: int | None) -> None:
        if self.editor.dirty and self.editor.product_id != product_id:
            self.editor.save(quiet=True)
        if product_id is None:
            self.editor.clear()
        else:
            try:
                stored = self.context.library.get_product(product_id)
            except AdCopyError as exc:
                self.context.error(str(exc))
                return
            self.editor.load(product_id, stored.product)
        if not self.generating:
            self.show_latest(product_id)

    def show_product(self, product_id: int) -> None:
        """Open a product from elsewhere (the library)."""
        if not self.catalog.select(product_id):
            self.context.error(self.tr("That product was deleted; its copy is still in the library."))

    def new_product(self) -> None:
        if self.editor.dirty:
            self.editor.save(quiet=True)
        self.catalog.select(None, notify=False)
        self.editor.clear()
        if not self.generating:
            self.show_latest(None)
        self.editor.paste_edit.setFocus()

    def _product_saved(self, product_id: int) -> None:
        if self.catalog.current_id() != product_id:
            self.catalog.select(product_id, notify=False)

    def next_product(self, step: int = 1) -> None:
        if self.editor.dirty:
            self.editor.save(quiet=True)
        self.catalog.step(step)

    # -- cards -----------------------------------------------------------------------------------

    def _make_cards(self, count: int) -> None:
        """Show ``count`` empty cards, ready to stream. Cards are kept and reused: building card
        widgets afresh for every generation would cost the UI thread more than the streaming does."""
        self.cards_holder.setUpdatesEnabled(False)
        try:
            while len(self._pool) < count:
                self._new_card()
            if self.current_card is not None:
                self.current_card.set_current(False)
            self.current_card = None
            for card in self.cards:
                card.commit_edit()
            self.cards = self._pool[:count]
            for position, card in enumerate(self._pool):
                if position < count:
                    card.origin = CardOrigin()
                    card.start_streaming()
                card.setVisible(position < count)
            self.empty_hint.setVisible(count == 0)
            if self.cards:
                self.set_current_card(self.cards[0])
        finally:
            self.cards_holder.setUpdatesEnabled(True)
        self._update_compare()

    def _new_card(self) -> CandidateCard:
        card = CandidateCard(len(self._pool))
        card.accept_clicked.connect(lambda card: self.decide(card, "accepted"))
        card.reject_clicked.connect(lambda card: self.decide(card, "rejected"))
        card.regenerate_clicked.connect(self.regenerate)
        card.edited.connect(self._edited)
        card.activated.connect(self.set_current_card)
        self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)
        self._pool.append(card)
        return card

    def set_current_card(self, card: CandidateCard | None) -> None:
        if self.current_card is not None and self.current_card is not card:
            self.current_card.set_current(False)
        self.current_card = card
        if card is not None:
            card.set_current(True)
            self.scroll.ensureWidgetVisible(card)

    def show_latest(self, product_id: int | None) -> None:
        """The product's latest candidates from the library, scored in the background."""
        self._shown_product = product_id
        if product_id is None:
            self._make_cards(0)
            self.cards_header.setText("")
            return
        stored = latest_candidate_set(self.context.library.candidates(product_id=product_id))
        self._make_cards(len(stored))
        self._set_header(product_id)
        for card, item in zip(self.cards, stored):
            card.origin = CardOrigin(product_id=product_id, kind=item.kind, language=item.language,
                                     style=item.style, model_id=None, settings=dict(item.details.get("settings") or {}))
            card.set_candidate(item.to_candidate(), item.id, item.decision, text=item.text)
        if stored:
            self._rescore(stored, self.cards)

    def _set_header(self, product_id: int | None) -> None:
        if product_id is None:
            self.cards_header.setText("")
            return
        try:
            title = product_title(self.context.library.get_product(product_id).product)
        except AdCopyError:
            title = f"#{product_id}"
        self.cards_header.setText(self.tr("Candidates for “{product}”").format(product=title))

    def _rescore(self, stored, cards: list[CandidateCard]) -> None:
        task = rescore_task(self.context.plugins, self.context.library, list(stored))

        def done(result: ScoredSet) -> None:
            for card, item, lines in zip(cards, result.stored, result.scores):
                if card in self.cards and card.candidate_id == item.id:
                    card.set_scores(lines)
            self._show_ranks()
            self.context.report_plugin_problems()

        self._rescore_job = self.context.run(self.tr("Scoring"), task, kind="scoring", on_success=done, owner=self)

    def _deliver_text(self, slot: int, text: str) -> None:
        if 0 <= slot < len(self.cards):
            self.cards[slot].append_text(text)

    # -- generation ------------------------------------------------------------------------------

    @property
    def generating(self) -> bool:
        return bool(self.context.jobs.running("generation")) or (
            self.generation_job is not None and self.generation_job.running)

    def generate(self) -> BackgroundJob | None:
        """Generate candidates for the product in the editor; returns the job (None if not started)."""
        if self.generating:
            return None
        product_id = self.editor.save(quiet=False)
        if product_id is None:
            self.context.error(self.tr("The product is not complete yet: {problem}").format(
                problem=self.editor.error_label.text() or self.tr("add at least one attribute")))
            return None
        choices = self.panel.choices()
        try:
            request = copy_request(self.editor.product(), choices.kind, language=choices.language,
                                   length=choices.length, tone=choices.tone)
            settings = GenerationSettings(n=choices.n, seed=self.seeds.randrange(SEED_RANGE))
        except (ProductParseError, ValueError) as exc:
            self.context.error(str(exc))
            return None
        self._shown_product = product_id
        self._make_cards(choices.n)
        self._set_header(product_id)
        origin = CardOrigin(product_id=product_id, kind=request.kind.value, language=choices.language,
                            length=choices.length, tone=choices.tone, style=choices.style,
                            model_id=choices.model_id, settings=settings.to_dict())
        for card in self.cards:
            card.origin = origin
        return self._start(product_id, request, settings, choices.style, choices.model_id,
                           list(range(choices.n)), self.tr("Generating {count} candidates…").format(count=choices.n))

    def regenerate(self, card: CandidateCard) -> BackgroundJob | None:
        """Write one card again: same request, a new seed; the card keeps its place."""
        if self.generating or card not in self.cards or card.origin.product_id is None:
            return None
        origin = card.origin
        try:
            product = self.context.library.get_product(origin.product_id).product
            request = copy_request(product, origin.kind, language=origin.language, length=origin.length,
                                   tone=origin.tone)
            base = GenerationSettings(**{**origin.settings, "stop": tuple(origin.settings.get("stop") or ())}) \
                if origin.settings else GenerationSettings()
            settings = replace(base, n=1, seed=self.seeds.randrange(SEED_RANGE))
        except (AdCopyError, ValueError, TypeError) as exc:
            self.context.error(str(exc))
            return None
        card.commit_edit()
        self._backups = {card.position: (card.candidate, card.candidate_id, card.decision, card.text, card.scores)}
        card.start_streaming()
        self.set_current_card(card)
        return self._start(origin.product_id, request, settings, origin.style, origin.model_id, [card.position],
                           self.tr("Regenerating candidate {number}…").format(number=card.position + 1))

    def _start(self, product_id, request, settings, style, model_id, slots, message) -> BackgroundJob:
        generator = self.context.generator(model_id)
        self.stream.begin({index: slot for index, slot in enumerate(slots)})
        task = generation_task(generator, self.context.plugins, self.context.library, product_id, request,
                               settings, style, slots, self.stream.push, self.context.model_lock)
        job = BackgroundJob(self.tr("Generation"), task, kind="generation")
        job.signals.progress.connect(self._progress)
        job.signals.succeeded.connect(self._generation_succeeded)
        job.signals.failed.connect(self._generation_failed)
        job.signals.finished.connect(self._generation_finished)
        self.generation_job = job
        for card in self.cards:
            card.set_generation_running(True)
        self.panel.set_busy(True, message)
        self.context.jobs.start(job)
        return job

    def stop(self) -> None:
        if self.generation_job is not None and self.generation_job.running:
            self.generation_job.cancel()
            self.panel.stop_button.setEnabled(False)
            self.panel.status.setText(self.tr("Stopping…"))

    def _progress(self, payload) -> None:
        if isinstance(payload, ProgressEvent) and payload.stage == "load":
            self.panel.status.setText(self.tr("Loading the model and writing…"))

    def _generation_succeeded(self, outcome: GenerationOutcome) -> None:
        self.stream.flush()
        self.last_outcome = outcome
        self.cards_holder.setUpdatesEnabled(False)
        try:
            self._show_outcome(outcome)
        finally:
            self.cards_holder.setUpdatesEnabled(True)
        kept = [c for c, i in zip(outcome.candidates, outcome.ids) if i is not None]
        if self.generation_job is not None and self.generation_job.cancelled:
            message = self.tr("Stopped; {count} partial candidates kept.").format(count=len(kept))
        else:
            speed = max((c.timings.tokens_per_s for c in outcome.candidates), default=0.0)
            message = self.tr("{count} candidates, {speed:.1f} tokens/s").format(count=len(kept), speed=speed)
        self.panel.status.setText(message)
        if kept:
            self.context.candidates_changed.emit()

    def _show_outcome(self, outcome: GenerationOutcome) -> None:
        for slot, candidate, candidate_id, lines in zip(outcome.slots, outcome.candidates, outcome.ids,
                                                        outcome.scores):
            if not 0 <= slot < len(self.cards):
                continue
            card = self.cards[slot]
            backup = self._backups.get(slot)
            if candidate_id is None and backup is not None:
                self._restore(card, backup)  # a regeneration stopped before writing anything
                continue
            card.set_candidate(candidate, candidate_id)
            card.set_scores(lines)
        self._backups = {}
        self._show_ranks()

    def _show_ranks(self) -> None:
        """Rank every shown card together, so a regenerated card takes its place among the others."""
        from adcopy_desktop.core import scoring

        shown = [card for card in self.cards if card.candidate is not None and card.candidate.scores]
        if not shown:
            return
        style = None
        style_name = shown[0].origin.style if shown[0].origin is not None else None
        if style_name:
            try:
                style = self.context.plugins.style(style_name)
            except AdCopyError:
                style = None
        scoring.rank([card.candidate for card in shown], style=style)
        for card in shown:
            card.show_rank(card.candidate.ranking, len(shown))

    def _restore(self, card: CandidateCard, backup) -> None:
        candidate, candidate_id, decision, text, scores = backup
        if candidate is None:
            card.set_empty()
            return
        card.set_candidate(candidate, candidate_id, decision, text=text)
        if scores is not None:
            card.set_scores(scores)

    def _generation_failed(self, message: str) -> None:
        self.context.error(message)
        for slot, backup in self._backups.items():
            if 0 <= slot < len(self.cards):
                self._restore(self.cards[slot], backup)
        self._backups = {}
        for card in self.cards:
            if card.streaming:
                card.set_empty(self.tr("failed"))
        self.panel.status.setText(message)

    def _generation_finished(self) -> None:
        self.stream.end()
        for card in self.cards:
            card.set_generation_running(False)
        self.panel.set_busy(False, self.panel.status.text())
        self._update_compare()
        self.context.report_plugin_problems()

    # -- decisions and edits ---------------------------------------------------------------------

    def decide(self, card: CandidateCard | None, decision: str, *, advance: bool = False) -> bool:
        """Accept or reject a card (the same decision again clears it)."""
        if card is None or card.candidate_id is None or card.streaming:
            return False
        card.commit_edit()
        new = None if card.decision == decision else decision
        try:
            self.context.library.decide(card.candidate_id, new)
        except AdCopyError as exc:
            self.context.error(str(exc))
            return False
        card.set_decision(new)
        self.context.candidates_changed.emit()
        if card.candidate is not None and new is not None:
            candidate = replace(card.candidate, text=card.text)
            plugins = self.context.plugins
            event = plugins.candidate_accepted if new == "accepted" else plugins.candidate_rejected
            self._notify_plugins(lambda: event(candidate))
        if advance:
            self._advance_from(card)
        return True

    def decide_current(self, decision: str) -> bool:
        """The keyboard path: decide the current card, then move to the next undecided one."""
        return self.decide(self.current_card, decision, advance=True)

    def _advance_from(self, card: CandidateCard) -> None:
        if card not in self.cards:
            return
        start = self.cards.index(card)
        for other in self.cards[start + 1:] + self.cards[:start]:
            if other.decision is None and other.candidate_id is not None:
                self.set_current_card(other)
                return

    def _edited(self, card: CandidateCard, text: str) -> None:
        if card.candidate_id is None:
            return
        previous = card.candidate.text if card.candidate else ""
        try:
            self.context.library.edit(card.candidate_id, text)
        except AdCopyError as exc:
            self.context.error(str(exc))
            return
        self.context.candidates_changed.emit()
        if card.candidate is not None:
            candidate = replace(card.candidate, text=text)
            plugins = self.context.plugins
            self._notify_plugins(lambda: plugins.candidate_edited(candidate, previous))
            stored = [c for c in self.context.library.candidates(product_id=card.origin.product_id)
                      if c.id == card.candidate_id]
            if stored:
                self._rescore(stored, [card])

    def _notify_plugins(self, call) -> None:
        self.context.run(self.tr("Notifying plugins"), lambda report, cancel: call(), kind="events",
                         on_finished=self.context.report_plugin_problems)

    def copy_current(self) -> None:
        if self.current_card is not None:
            self.current_card.copy_to_clipboard()
            self.context.notice(self.tr("Copied candidate {number} to the clipboard.").format(
                number=self.current_card.position + 1))

    def focus_card(self, position: int) -> None:
        if 0 <= position < len(self.cards):
            self.set_current_card(self.cards[position])
            self.cards[position].text_edit.setFocus()

    # -- comparison ------------------------------------------------------------------------------

    def _update_compare(self) -> None:
        self.panel.compare_button.setEnabled(sum(1 for c in self.cards if c.candidate is not None) >= 2)

    def compare(self) -> CompareDialog | None:
        cards = [card for card in self.cards if card.candidate is not None]
        if len(cards) < 2:
            return None
        dialog = CompareDialog(cards, self)
        dialog.accept_requested.connect(lambda card: card.decision != "accepted" and self.decide(card, "accepted"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- persistence -----------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        if self.editor.dirty:
            self.editor.save(quiet=True)
        settings.setValue("writer/splitter", self.splitter.saveState())
        settings.setValue("writer/left_splitter", self.left_splitter.saveState())
        settings.setValue("writer/product", self.catalog.current_id() or 0)
        self.panel.save_state(settings)

    def restore_state(self, settings: QSettings) -> None:
        for key, splitter in (("writer/splitter", self.splitter), ("writer/left_splitter", self.left_splitter)):
            state = settings.value(key)
            if state is not None:
                splitter.restoreState(state)
        self.panel.restore_state(settings)
        product_id = int(settings.value("writer/product", 0) or 0)
        if product_id and self.catalog.select(product_id):
            return
        ids = self.catalog.ids()
        if ids:
            self.catalog.select(ids[0])
