"""The plugin manager: every plugin with its version, source, status, error and provenance (the
wheel's sha256, where it was installed from and when); enable, disable, install from a wheel file
(asking first: wheels are unsigned), remove; a banner in safe mode; and the safe-mode offer after
the app died during plugin work."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.plugins import ACTIVE, DISABLED, FAILED, SOURCE_FOLDER, PluginInfo, canonical_name
from adcopy_desktop.core.settings import Settings
from adcopy_desktop.gui.tables import read_only_table
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import source_label

STATUS_COLORS = {ACTIVE: "#137333", DISABLED: "#5f6368", FAILED: "#a50e0e"}


class SafeModeBanner(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setText(self.tr("Safe mode: third-party plugins are not loaded. Start AdCopy without "
                             "--safe-mode (and without ADCOPY_SAFE_MODE=1) to use them."))
        self.setWordWrap(True)
        self.setStyleSheet("background:#fff4e5; color:#663c00; border:1px solid #ffd8a8; "
                           "border-radius:4px; padding:6px;")


class PluginManagerPage(QWidget):
    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.infos: list[PluginInfo] = []
        self.banner = SafeModeBanner()
        self.banner.hide()
        self.table = read_only_table([
            self.tr("Name"), self.tr("Version"), self.tr("Source"), self.tr("Status"), self.tr("Error / provides"),
            self.tr("Installed from"),
        ], single_selection=True)
        self.enable_button = QPushButton(self.tr("Enable"))
        self.disable_button = QPushButton(self.tr("Disable"))
        self.install_button = QPushButton(self.tr("Install from wheel…"))
        self.remove_button = QPushButton(self.tr("Remove"))
        self.reload_button = QPushButton(self.tr("Reload plugins"))
        self.hint = QLabel(self.tr("Changes apply at once; plugins that fail are disabled for the session and "
                                   "the rest of the app goes on."))
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:palette(mid);")

        buttons = QHBoxLayout()
        for button in (self.enable_button, self.disable_button, self.install_button, self.remove_button,
                       self.reload_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)

        self.enable_button.clicked.connect(lambda: self.set_enabled(self.selected_name(), True))
        self.disable_button.clicked.connect(lambda: self.set_enabled(self.selected_name(), False))
        self.install_button.clicked.connect(self.choose_wheel)
        self.remove_button.clicked.connect(self.remove_selected)
        self.reload_button.clicked.connect(self.reload)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        context.plugins_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected_name()
        manager = self.context.plugins
        self.banner.setVisible(manager.safe_mode)
        self.infos = manager.plugins()
        self.table.setRowCount(len(self.infos))
        for row, info in enumerate(self.infos):
            provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in info.registered.items())
            detail = info.reason or provides or ", ".join(info.hooks)
            origin, origin_details = self._provenance_texts(info)
            values = (info.name, info.version or "-", source_label(info.source),
                      self._status_label(info.status), detail, origin)
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column == 3:
                    cell.setData(Qt.ItemDataRole.ForegroundRole, _color(STATUS_COLORS.get(info.status, "#000")))
                if column == 4:
                    cell.setToolTip(detail)
                if column == 5:
                    cell.setToolTip(origin_details)
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        if selected:
            self.select(selected)
        self._update_buttons()

    def _provenance_texts(self, info: PluginInfo) -> tuple[str, str]:
        """The cell (file name, short sha256) and its tooltip (everything known)."""
        provenance = info.provenance
        if info.builtin or not provenance:
            return self.tr("part of AdCopy"), ""
        source = str(provenance.get("source") or "")
        sha = str(provenance.get("sha256") or "")
        cell = Path(source).name or source
        if sha:
            cell += f" · {sha[:12]}…"
        lines = [self.tr("Source: {source}").format(source=source or "-"),
                 self.tr("sha256: {sha}").format(sha=sha or self.tr("not recorded (installed with pip)")),
                 self.tr("Installed: {time}").format(time=provenance.get("installed") or "-"),
                 self._signed_text(provenance),
                 self.tr("Runs in: its own plugin host process") if info.runs_in == "plugin host"
                 else self.tr("Runs in: the app's process")]
        return cell, "\n".join(lines)

    def _signed_text(self, provenance: dict) -> str:
        if not provenance.get("signed"):
            return self.tr("Signed: no")
        if provenance.get("signer"):
            return self.tr("Signed: yes, by {signer} (key {key})").format(signer=provenance["signer"],
                                                                       key=provenance.get("key") or "-")
        return self.tr("Signed: yes")

    def _status_label(self, status: str) -> str:
        return {ACTIVE: self.tr("active"), DISABLED: self.tr("disabled"), FAILED: self.tr("failed")}.get(status, status)

    def info(self, name: str) -> PluginInfo | None:
        return next((info for info in self.infos if info.name == name), None)

    def select(self, name: str) -> bool:
        for row, info in enumerate(self.infos):
            if info.name == name:
                self.table.selectRow(row)
                return True
        return False

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.infos):
            return None
        return self.infos[rows[0].row()].name

    def row_texts(self, name: str) -> list[str]:
        for row, info in enumerate(self.infos):
            if info.name == name:
                return [self.table.item(row, column).text() for column in range(self.table.columnCount())]
        return []

    def jobs_changed(self, *job) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        info = self.info(self.selected_name() or "")
        busy = bool(self.context.jobs.running("generation"))
        can_reload = self.context.can_reload_plugins and not busy
        disabled_by_settings = info is not None and info.matches(self.context.settings.disabled_plugins)
        self.enable_button.setEnabled(info is not None and disabled_by_settings and can_reload)
        self.disable_button.setEnabled(info is not None and not info.required and not disabled_by_settings
                                       and can_reload)
        self.remove_button.setEnabled(info is not None and info.source == SOURCE_FOLDER and can_reload)
        self.install_button.setEnabled(can_reload)
        self.reload_button.setEnabled(can_reload)

    # -- actions ---------------------------------------------------------------------------------

    def set_enabled(self, name: str | None, enabled: bool) -> bool:
        """Add or remove ``name`` in the settings' disabled_plugins, then load the plugins again."""
        info = self.info(name or "")
        if info is None:
            return False
        current = self.context.settings
        names = [n for n in current.disabled_plugins if not info.matches([n])]
        if not enabled:
            names.append(info.name)
        settings = Settings(**{**vars(current), "disabled_plugins": names})
        self.context.save_settings(settings)
        return self.reload(select=info.name)

    def reload(self, select: str | None = None) -> bool:
        try:
            self.context.reload_plugins()
        except RuntimeError as exc:
            self.context.error(str(exc))
            return False
        if select:
            self.select(select)
        return True

    def choose_wheel(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Install a plugin"), "",
                                              self.tr("Plugin wheels (*.whl)"))
        if path and self.confirm_unsigned(Path(path)):
            self.install(Path(path))

    def confirm_unsigned(self, path: Path, ask=None) -> bool:
        """A wheel signed by a trusted key (``FILE.whl.sig``, core/plugins/signing.py) installs;
        one whose signature does not verify is refused; for an unsigned one, show the sha256 and
        ask before installing. ``ask`` (tests) receives the dialog and returns the button pressed."""
        from adcopy_desktop.core.errors import PluginError
        from adcopy_desktop.core.plugins.provenance import wheel_sha256
        from adcopy_desktop.core.plugins.signing import check_signature
        from adcopy_desktop.core.plugins.wheels import inspect_wheel

        try:
            checked = inspect_wheel(path)
            signature = check_signature(path)
        except PluginError as exc:
            self.context.error(str(exc))
            return False
        if signature.signed:
            return True
        dialog = QMessageBox(QMessageBox.Icon.Warning, self.tr("Install an unsigned plugin?"),
                             self.tr("{file} ({name} {version}) is not signed, so AdCopy cannot tell who built it.")
                             .format(file=path.name, name=checked.project_name, version=checked.version),
                             parent=self)
        dialog.setInformativeText(self.tr(
            "sha256: {sha}\nCompare it with the one the plugin's author published. The plugin runs in its own "
            "process without your shop keys, but with your user's rights: it can read and change your files "
            "and use the network.").format(sha=wheel_sha256(path)))
        install = dialog.addButton(self.tr("Install"), QMessageBox.ButtonRole.AcceptRole)
        dialog.addButton(QMessageBox.StandardButton.Cancel)
        dialog.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if ask is not None:
            return ask(dialog) is install
        dialog.exec()
        return dialog.clickedButton() is install

    def install(self, path: Path):
        """Check and unpack a wheel into the plugin folder (off the UI thread), then reload."""
        from adcopy_desktop.core.plugins.wheels import install_wheel

        def done(installed) -> None:
            self.reload()
            info = next((i for i in self.infos if i.source == SOURCE_FOLDER
                         and canonical_name(i.name) == canonical_name(installed.name)), None)
            if info is not None and info.status == ACTIVE:
                self.context.notice(self.tr("Installed {name} {version}.").format(
                    name=installed.name, version=installed.version))
                self.select(info.name)
            else:
                reason = info.reason if info is not None else self.tr("it was not found after unpacking")
                self.context.error(self.tr("{name} is installed but does not load: {reason}").format(
                    name=installed.name, reason=reason))

        return self.context.run(self.tr("Installing {file}").format(file=Path(path).name),
                                lambda report, cancel: install_wheel(Path(path)), kind="plugins", on_success=done,
                                owner=self)

    def remove_selected(self) -> bool:
        from adcopy_desktop.core.errors import PluginError
        from adcopy_desktop.core.plugins.wheels import remove_plugin

        info = self.info(self.selected_name() or "")
        if info is None or info.source != SOURCE_FOLDER:
            return False
        try:
            remove_plugin(Path(info.location).name)
        except PluginError as exc:
            self.context.error(str(exc))
            return False
        return self.reload()


def _color(hex_color: str):
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(hex_color))


class SafeModeOffer(QMessageBox):
    """After the app died while a plugin worked: name it and offer a run without third-party plugins."""

    def __init__(self, report, parent=None):
        super().__init__(QMessageBox.Icon.Warning, self.tr("AdCopy stopped unexpectedly"), "", parent=parent)
        version = f" {report.version}" if report.version else ""
        self.setText(self.tr("AdCopy stopped unexpectedly last time while the plugin '{name}'{version} was "
                             "working ({hook}).").format(name=report.plugin, version=version, hook=report.hook))
        self.setInformativeText(self.tr("Start in safe mode? No third-party plugin is loaded for this run; you "
                                        "can disable or remove the plugin in the Plugins tab."))
        self.safe_button = self.addButton(self.tr("Start in safe mode"), QMessageBox.ButtonRole.AcceptRole)
        self.normal_button = self.addButton(self.tr("Start normally"), QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.safe_button)


def offer_safe_mode_after_crash(parent=None, ask=None) -> bool:
    """At start: when the last run died during plugin work, ask whether to start in safe mode
    (``configure_plugins(safe_mode=True)``). ``ask`` (tests) gets the dialog and returns the
    button pressed. Returns True when this run is in safe mode because of it."""
    from adcopy_desktop.core.plugins import configure_plugins
    from adcopy_desktop.core.plugins.safe_mode import take_crash_report

    report = take_crash_report()
    if report is None:
        return False
    dialog = SafeModeOffer(report, parent)
    if ask is not None:
        pressed = ask(dialog)
    else:
        dialog.exec()
        pressed = dialog.clickedButton()
    if pressed is dialog.safe_button:
        configure_plugins(safe_mode=True)
        return True
    return False
