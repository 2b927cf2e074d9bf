"""A rich progress bar on stderr for people at a terminal (the engine only calls back)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .run import PageOutcome
from .run import Progress as ProgressCallbacks


class RichProgress(ProgressCallbacks):
    def __init__(self) -> None:
        self._bar = Progress(
            TextColumn("[bold]checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[new]} new · {task.fields[errors]} errors"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = None
        self._new = self._errors = 0

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("check", total=total, new=0, errors=0, rate="")

    def advance(self, outcome: PageOutcome) -> None:
        self._new += outcome.outcome == "new_version"
        self._errors += outcome.outcome == "error"
        task = self._bar.tasks[0]
        elapsed = task.elapsed or 0
        rate = f"{(task.completed + 1) / elapsed:.1f}/s" if elapsed > 0 else ""
        self._bar.update(self._task, advance=1, new=self._new, errors=self._errors, rate=rate)
        if task.completed >= (task.total or 0):
            self._bar.stop()
