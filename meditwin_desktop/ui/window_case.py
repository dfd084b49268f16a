"""The main window's case: switching cases (every panel and view starts again), whose data
is on screen (banner and title), whether results are out of date, saving, history,
reports and exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from meditwin_desktop import APP_NAME
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.case_images import load_case_image
from meditwin_desktop.core.freshness import check_runs
from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.result_plots import overlay_rgba
from meditwin_desktop.ui.case_dialogs import HistoryDialog, ReportDialog, show_library_problem
from meditwin_desktop.ui.window_imaging import SURFACES_MODE


class CaseMixin:
    """The open case on screen (mixed into `MainWindow`)."""

    def _build_case_wiring(self) -> None:
        self.cases.replaced.connect(self._case_replaced)
        self.cases.changed.connect(self._case_changed)
        self.cases.loading_changed.connect(lambda _: self._show_identity())
        self.cases.saved.connect(self.message.setText)
        self.stale: dict[str, str] = {}
        self._freshness_timer = QTimer(self, singleShot=True, interval=300)
        self._freshness_timer.timeout.connect(self._check_freshness)
        self._labels_timer = QTimer(self, singleShot=True, interval=800)
        self._labels_timer.timeout.connect(self._labels_changed_for_case)
        self._labels_just_shown = False
        self.scene.labels_replaced.connect(self._labels_replaced)
        self.scene.labels_changed.connect(self._labels_edited)
        self.twin_panel.case_changed.connect(lambda: self.session.touch("scenarios"))
        self.twin_panel.run_finished.connect(self.session.add_run)
        self.twin_panel.runs_changed.connect(self._runs_changed)
        self.twin_panel.runs_started.connect(lambda _: self._show_comparison())
        # where the results will appear opens with the Twins tab (the views shrink then, at
        # the user's click, not at Run all while the simulations start)
        self.twins_dock.visibilityChanged.connect(self._twins_shown)
        self.view3d.busy = self.twin_panel.running  # 3D stays light while twins run
        self.twin_panel.point_requested.connect(
            lambda name: self.twin_panel.set_point(name, self.scene.cursor)
        )
        self.twin_panel.photo_point_requested.connect(self._photo_point_requested)
        self.comparison.refresh_requested.connect(self.twin_panel.run_all)
        self.comparison.images_page.on_photo_changed.connect(self._overlay_on_photo)
        self.comparison.unit_system_changed.connect(self._unit_system_changed)
        self.clinical.changed.connect(lambda: self.session.touch("clinical"))

    def _overlay_on_photo(self, overlays) -> None:
        """The first of the runs' maps that lies on the photograph on screen, over it (none:
        the status line says why)."""
        study = self.cases.case.study if self.cases.case is not None else None
        here = [o for o in overlays or () if study is not None and o.study in ("", study.id)]
        self.photo_view.show_overlay(overlay_rgba(here[0]) if here else None,
                                     here[0].label if here else "")  # fmt: skip
        if overlays and not here:
            self.message.setText(
                tr(
                    "No scenario was run on the photograph on screen: choose its study, or a "
                    "scenario of this visit, to see its map here."
                )
            )

    def _photo_point_requested(self, name: str) -> None:
        """A scenario's point on the photograph: the pixel last clicked on it."""
        if self.photo_view.photo is None or self.photo_view.last_click is None:
            self.twin_panel.warn_user(
                tr(
                    "Show the photograph and click on it (the vessel to use) first, then press "
                    "this button again."
                )
            )
            return
        self.twin_panel.set_point(name, self.photo_view.last_click)

    def _unit_system_changed(self, system: str) -> None:
        """The clinical form and the case overview follow the unit system chosen."""
        self.clinical.set_unit_system(system)
        case = self.cases.case
        if case is not None and not case.studies:
            self.overview.show_case(case, self.session.identity())

    # -- switching ---------------------------------------------------------------------------
    def switch_case(self, case: Case | None) -> None:
        """Save the case on screen (with label edits not yet handed over), then show `case`.
        A series still loading for the case left no longer reaches the screen."""
        if self._labels_timer.isActive():
            self._labels_timer.stop()
            self._labels_changed_for_case()
        self._loading = None
        self.cases.switch_to(case)

    def _case_replaced(self, case: Case | None) -> None:
        """A different case (or none): every panel, view and measurement starts again."""
        if case is None:  # a case closed: "Opened <that patient>" no longer holds
            self.message.setText("")
        self._first_pick = None
        self.stale = {}
        self.pseudonym_action.setChecked(False)
        self.patients.set_identity_hidden(False)
        self.scene.clear_rulers()
        if case is None or not isinstance(case.image, Volume):
            self._surfaces = {}
            self.scene.set_volume(None)
            self.view3d.clear()
            self.status.set_warnings([])
        if case is not None and not self.patients.holds(case.image_reference.get("series_uid", "")):
            self.patients.clear()  # the browser listed another patient's folder
        self.photo_view.show_photo(None)
        if case is None:
            self.show_welcome()
        elif not case.studies:
            self.overview.show_case(case, self.session.identity())
            self.centre.setCurrentWidget(self.overview)
        else:
            self.centre.setCurrentIndex(0)
        self._show_study()
        self.clinical.set_case(case)
        self.twin_panel.set_case(case)
        self.comparison.show_runs(None, None)
        self.comparison_dock.hide()
        self._runs_changed(self.twin_panel.twin.id if self.twin_panel.twin else "")
        self._show_identity()
        if case is not None and case.problems:
            self._warn_problems(case)
        self._freshness_timer.start()

    def _case_changed(self, what: str) -> None:
        case = self.cases.case
        if case is None:
            return
        if what == "clinical":
            self._show_identity()  # the date of birth is a clinical value too
            self._show_marks()  # artery/vein marks typed in the clinical form
        if what == "identity":
            self._show_identity()
            self.patients.set_identity_hidden(self.session.pseudonym is not None)
            if not case.studies:
                self.overview.show_case(case, self.session.identity())
            self.message.setText("")  # it may name the patient
            return
        if what == "studies":
            self._show_study()
            self.twin_panel.refresh_case(case)  # another study: other labels and image
        if what in ("clinical", "labels", "measurements", "events", "medications",
                    "recordings"):  # fmt: skip
            if not case.studies:  # the overview lists them too
                self.overview.show_case(case, self.session.identity())
            self.twin_panel.refresh_case(case)  # personalise again (and refit the twins)
        if what == "runs":
            self._runs_changed(self.twin_panel.twin.id if self.twin_panel.twin else "")
        self._freshness_timer.start()

    def _labels_replaced(self) -> None:
        """A label map was set: the case's own (just shown: nothing changed) or another."""
        case = self.cases.case
        self._labels_just_shown = case is not None and self.scene.labels is case.labels
        if case is not None and self.scene.labels is not case.labels:
            self._labels_timer.start()  # imported or new labels: the case takes them

    def _labels_edited(self) -> None:
        if self._labels_just_shown:  # the signal that came with showing them
            self._labels_just_shown = False
            return
        self._labels_timer.start()

    def _labels_changed_for_case(self) -> None:
        case = self.cases.case
        if case is None or (case.labels is None and self.scene.labels is None):
            return  # e.g. the views emptied for a case without images: nothing changed
        if case.image is None or self.scene.volume is not case.image:
            return  # labels of another image (another study or case is being shown)
        if self.scene.labels is None and case.labels is not None:
            # the volume is shown and its labels not yet (surfaces slower than the timer):
            # nothing in the views removes a case's labels, so this is never an edit
            return
        self.session.set_labels(self.scene.labels)

    def _show_identity(self) -> None:
        self.banner.refresh()
        identity = self.session.identity()
        if identity is None:
            self.setWindowTitle(APP_NAME)
        elif identity.pseudonymised:
            self.setWindowTitle(
                tr("{name} (pseudonymised) — {app}").format(name=identity.name, app=APP_NAME)
            )
        else:
            shown = f" ({identity.patient_id})" if identity.patient_id else ""
            self.setWindowTitle(f"{identity.name}{shown} — {APP_NAME}")

    def _warn_problems(self, case: Case) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            tr("Part of the case could not be read"),
            "\n\n".join(case.problems),
            parent=self,
        )
        box.setObjectName("case_problems")
        box.open()

    # -- results on screen --------------------------------------------------------------------
    def _twins_shown(self, visible: bool) -> None:
        if visible and self.cases.case is not None and self.twin_panel.twin is not None:
            self._show_comparison()

    def _show_comparison(self) -> None:
        """Open the comparison below the views, a third of the window high (the views keep
        the rest: its table would otherwise take half); half of it for a case without images
        (a diary, a clinical form: the summary above needs little room, the curves more) or
        with photographs only (the results are drawn on the photograph: the Images tab needs
        the room)."""
        if self.comparison_dock.isVisible():
            return
        self.comparison_dock.show()
        case = self.cases.case
        volumes = case is not None and any(not s.reference.get("file") for s in case.studies)
        share = 3 if volumes else 2
        self.resizeDocks([self.comparison_dock], [self.height() // share],
                         Qt.Orientation.Vertical)  # fmt: skip

    def _runs_changed(self, twin_id: str) -> None:
        case, twin = self.cases.case, self.twin_panel.twin
        if case is None or twin is None:
            self.comparison.show_runs(None, None)
            return
        labels = self.scene.labels
        anatomy = [  # the comparison keeps what lies near each result
            (mesh, labels.labels[v].color)
            for v, mesh in self._surfaces.items()
            if labels is not None
            and v in labels.labels
            and labels.labels[v].name.lower() not in ("body", "skin")
        ]
        self.comparison.set_anatomy(anatomy)
        self.comparison.show_runs(twin, case, self.stale)
        if case.runs.get(twin.id):
            self._show_comparison()
        self._freshness_timer.start()

    def _check_freshness(self) -> None:
        """Find the runs whose inputs changed, in the background (preparing a twin's inputs
        on a large CT takes a second)."""
        case, twin, generation = self.cases.case, self.twin_panel.twin, self.session.generation
        if case is None or twin is None or not case.runs.get(twin.id):
            self._show_stale({})
            return
        if self.twin_panel.running():
            self._freshness_timer.start()  # the case changes under the runs: check after
            return

        def work(*, progress, cancelled) -> dict[str, str]:
            return check_runs(twin, case)

        def done(stale: dict[str, str]) -> None:
            if self.session.generation == generation and self.twin_panel.twin is twin:
                self._show_stale(stale)

        def failed(error: BaseException) -> None:  # never leave results looking fresh
            why = tr("whether it is up to date could not be checked ({reason})").format(
                reason=type(error).__name__
            )
            done({r.scenario: why for r in case.runs.get(twin.id, [])})

        self._start(N_("Checking the results"), work, on_done=done, on_failed=failed, quiet=True)

    def _show_stale(self, stale: dict[str, str]) -> None:
        if stale == self.stale:
            return
        self.stale = stale
        self.twin_panel.set_stale(stale)
        self._runs_changed(self.twin_panel.twin.id if self.twin_panel.twin else "")

    # -- the library ------------------------------------------------------------------------------
    def cases_save(self) -> None:
        """Save the open case to the local library."""
        if self.cases.case is None:
            self.message.setText(tr("There is no case to save: open a series first."))
            return
        self.cases.save(N_("saved by the user"))  # kept in English, shown translated

    def _ask_case(self) -> None:
        library = self.session.library
        if library is None:
            show_library_problem(self)
            return
        cases = library.cases()
        if not cases:
            QMessageBox.information(self, tr("Open case"), tr("The case library is empty."))
            return
        labels = [f"{c.name}  [{c.patient_id}]  {c.modified}" for c in cases]
        choice, ok = QInputDialog.getItem(self, tr("Open case"), tr("Case:"), labels, 0, False)
        if ok:
            self.open_case(cases[labels.index(choice)].id)

    def open_case(self, case_id: str) -> None:
        """Save and close the case on screen; load a saved case and its image."""
        library = self.session.library
        if library is None:
            show_library_problem(self)
            return
        self.switch_case(None)
        self.session.set_loading(tr("Opening a saved case…"))
        generation = self.session.generation

        def work(*, progress, cancelled) -> Case:
            return load_case_image(library.load(case_id), progress=progress, cancelled=cancelled)

        def done(case: Case) -> None:
            if self.session.generation == generation:  # nothing else was opened meanwhile
                self.switch_case(case)
                self.message.setText(
                    tr("Opened {name} from the library.").format(
                        name=self.session.identity().name
                    )
                )

        def failed(_error) -> None:
            if self.session.generation == generation:
                self.session.set_loading("")

        def load() -> None:
            self._start(N_("Opening the case"), work, on_done=done, on_failed=failed)

        self.cases.after_saving(case_id, load)  # the case just left: read what was saved

    def _ask_history(self) -> None:
        case, library = self.cases.case, self.session.library
        if case is None or library is None or not library.exists(case.id):
            QMessageBox.information(self, tr("Case history"), tr("Open a case first.")
                                    if case is None else
                                    tr("This case has not been saved yet: its history starts "
                                       "with its first save (File > Save case)."))  # fmt: skip
            return
        self.cases.save_if_dirty()
        dialog = HistoryDialog(library, case.id, self)
        dialog.restore_requested.connect(self._restore_revision)
        dialog.open()

    def _restore_revision(self, revision: int) -> None:
        """Restore after every save of the case has ended (else a save still running would
        become the newest revision), in the background, then reopen the case."""
        case_id, library = self.cases.case.id, self.session.library
        self.switch_case(None)
        self.session.set_loading(tr("Restoring revision {revision}…").format(revision=revision))

        def restored(new: int) -> None:
            self.open_case(case_id)
            self.message.setText(
                tr("Revision {revision} restored as revision {new}.").format(
                    revision=revision, new=new
                )
            )

        def restore() -> None:
            self._start(
                tr("Restoring revision {revision}").format(revision=revision),
                lambda *, progress, cancelled: library.restore(case_id, revision),
                on_done=restored,
                on_failed=lambda _: self.session.set_loading(""),
            )

        self.cases.after_saving(case_id, restore)

    def _ask_pseudonym_display(self, on: bool) -> None:
        if not on:
            self.session.set_pseudonym(None)
            return
        text, ok = QInputDialog.getText(
            self,
            tr("Hide the patient's identity"),
            tr("Pseudonym shown instead (e.g. MDT-2024-017):"),
        )
        self.session.set_pseudonym(text if ok else None)
        self.pseudonym_action.setChecked(self.session.pseudonym is not None)

    # -- reports and exports ---------------------------------------------------------------------
    def _ask_report(self) -> None:
        case, twin = self.cases.case, self.twin_panel.twin
        if case is None or twin is None or not case.runs.get(twin.id):
            QMessageBox.information(
                self, tr("Export report"), tr("Run the scenarios of a twin first.")
            )
            return
        dialog = ReportDialog(case, self.session.pseudonym, self.stale, self)
        if dialog.exec() and dialog.path is not None:
            self.export_report(dialog.path, pseudonym=dialog.pseudonym)

    def export_report(self, path: Path, pseudonym: str | None = None) -> None:
        """Write the board report for the open case and twin (in the background)."""
        from meditwin_desktop.core.report import write_report

        case, twin = self.cases.case, self.twin_panel.twin
        snapshot = self.report_snapshot()
        self._start(
            N_("Writing the report"),
            lambda *, progress, cancelled: write_report(
                case, twin, path, snapshot=snapshot, pseudonym=pseudonym
            ),
            on_done=lambda _: self.message.setText(
                tr("Report written to {path}").format(path=path)
            ),
        )

    def report_snapshot(self) -> np.ndarray | None:
        """The 3D view as the report prints it: None unless it shows label surfaces (an
        empty scene, e.g. surfaces still being made after File > Open case, would print
        as a bare orientation cube)."""
        view = self.view3d
        if not (view.isVisible() and self.render_mode.currentText() == SURFACES_MODE):
            return None
        if view.mode != "surfaces" or not view.structures:
            return None
        view.plotter.render()  # frames are drawn when painted: the last may be old
        return view.plotter.screenshot(return_img=True)

    def _ask_deidentified_export(self) -> None:
        from meditwin_desktop.core.deidentify import export_deidentified
        from meditwin_desktop.core.pseudonym import check_pseudonym

        case = self.cases.case
        if case is None:
            QMessageBox.information(self, tr("De-identified export"), tr("Open a case first."))
            return
        folder = QFileDialog.getExistingDirectory(self, tr("Export de-identified case into"))
        if not folder:
            return
        pseudonym, ok = QInputDialog.getText(
            self, tr("De-identified export"), tr("Pseudonym (the export's folder name):")
        )
        if not ok:
            return
        try:
            pseudonym = check_pseudonym(pseudonym, case)
        except Exception as error:
            QMessageBox.warning(self, tr("De-identified export"), str(error))
            return
        snapshot = self.session.snapshot()
        self._start(
            N_("De-identified export"),
            lambda *, progress, cancelled: export_deidentified(
                snapshot,
                Path(folder) / pseudonym,
                pseudonym=pseudonym,
                progress=progress,
                cancelled=cancelled,
            ),
            on_done=lambda path: self.message.setText(
                tr("De-identified case in {path}").format(path=path)
            ),
        )
