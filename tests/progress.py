"""Progress of a test run by file, not as hundreds of dots.

At the start: how many tests in how many files, and about how long that takes. Then one line per
finished file: its counts, its time, how far the run is. Failures are listed in pytest's summary
as usual. With `-vv` (the default options include `-q`) pytest's own per-test lines are shown.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

# Measured on the reference machine (2 cores): the whole suite, 1100 tests, takes about 15
# minutes on SQLite with coverage, about 17 on PostgreSQL. Most of the time is spent in a few
# slow tests (concurrency, processes, migrations), so this is a rough average.
SECONDS_PER_TEST = {"SQLite": 0.8, "PostgreSQL": 0.95}


@dataclass
class FileProgress:
    total: int
    started: float | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    finished_items: set[str] = field(default_factory=set)


class ProgressByFile:
    def __init__(self, config: pytest.Config, database: str) -> None:
        self.config = config
        self.database = database
        self.files: dict[str, FileProgress] = {}
        self.item_file: dict[str, str] = {}
        self.item_outcome: dict[str, str] = {}
        self.files_done = 0
        self.started = time.monotonic()

    @property
    def reporter(self) -> pytest.TerminalReporter | None:
        return self.config.pluginmanager.get_plugin("terminalreporter")  # type: ignore[no-any-return]

    def write(self, line: str) -> None:
        if self.reporter is not None:
            self.reporter.ensure_newline()
            self.reporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            path = item.nodeid.split("::", 1)[0]
            self.item_file[item.nodeid] = path
            self.files.setdefault(path, FileProgress(total=0)).total += 1
        count = len(session.items)
        if count == 0:
            return
        minutes = count * SECONDS_PER_TEST[self.database] / 60
        estimate = f"about {round(minutes)} minutes" if minutes >= 1.5 else "under 2 minutes"
        files = f"{len(self.files)} file{'' if len(self.files) == 1 else 's'}"
        self.write(
            f"{count} tests in {files}: {estimate} on {self.database}; one line per finished file"
        )

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        path = self.item_file.get(nodeid)
        if path is not None and self.files[path].started is None:
            self.files[path].started = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.item_outcome.get(report.nodeid)
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped and outcome is None:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call" and report.passed and outcome is None:
            outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
        if outcome is not None:
            self.item_outcome[report.nodeid] = outcome
        if report.when == "teardown":
            self.finish_item(report.nodeid)

    def finish_item(self, nodeid: str) -> None:
        path = self.item_file.get(nodeid)
        if path is None:
            return
        progress = self.files[path]
        progress.finished_items.add(nodeid)
        progress.outcomes[self.item_outcome.get(nodeid, "passed")] += 1
        if len(progress.finished_items) < progress.total:
            return
        self.files_done += 1
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(progress.outcomes.items()))
        seconds = time.monotonic() - (progress.started or self.started)
        elapsed = int(time.monotonic() - self.started)
        self.write(
            f"{path}: {counts} in {seconds:.1f} s "
            f"[{self.files_done}/{len(self.files)} files, {elapsed // 60}:{elapsed % 60:02d}]"
        )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    from tests.utils.databases import on_postgres

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.get_verbosity() > 0 or config.option.collectonly:
        return
    plugin = ProgressByFile(config, "PostgreSQL" if on_postgres() else "SQLite")
    config.pluginmanager.register(plugin, "progress-by-file")
    reporter._show_progress_info = False  # the "[ 10%]" column belongs to the dots
    reporter.showfspath = False


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """pytest's own status (category and word), but no letter: no line of dots."""
    if config.pluginmanager.get_plugin("progress-by-file") is None:
        return None
    if report.when == "call" or (report.when == "setup" and not report.passed):
        category, _letter, word = _default_status(report)
        return category, "", word
    return None


def _default_status(report: pytest.TestReport) -> tuple[str, str, str]:
    from _pytest.terminal import pytest_report_teststatus as default

    category, letter, word = default(report)
    if hasattr(report, "wasxfail"):
        category = "xfailed" if report.skipped else "xpassed"
    return category, letter, word if isinstance(word, str) else word[0]
