"""`uvicorn app.main:app --workers 4` on a fresh database: one signing key, one migration,
tokens (access and refresh) that every worker honours, an MCP endpoint that any worker answers,
and concurrent transfers across the workers that stay exact. Runs scripts/multiworker_check.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.utils.databases import empty_database, on_postgres

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "multiworker_check.py"


def test_four_workers_behave_as_one_service(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        command = [sys.executable, str(SCRIPT), "--workers", "4", "--transfers"]
        if on_postgres():  # on SQLite the script makes its own fresh file
            command += ["--database-url", url]
        result = subprocess.run(  # noqa: S603 - fixed command line
            command, capture_output=True, text=True, timeout=180, check=False
        )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "worker processes: [" in result.stdout
    answered = re.search(r"workers that answered: \[[\d, ]+\] \((\d) of 4\)", result.stdout)
    assert answered is not None, result.stdout
    assert int(answered.group(1)) >= 2
    assert "reuse of the old one detected" in result.stdout
    mcp = re.search(r"MCP: .* answered by workers \[([\d, ]+)\], no session", result.stdout)
    assert mcp is not None, result.stdout
    assert len(mcp.group(1).split(", ")) >= 2
    assert "60 concurrent transfers across workers: 40 accepted, balances exact" in result.stdout
    assert result.stdout.rstrip().endswith("multi-worker check passed")
