"""README.md keeps the conventions that let CI run its commands (scripts/readme_check.py runs
them against a server; these checks need none), the files it names exist, and user-facing text
(README, Postman, OpenAPI, `seed.py --help`) speaks of the product, not of its history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI

import seed
from scripts.readme_check import README, ROOT, bash_blocks, problems, script_for

TEXT = README.read_text()
# Repository paths the text names in backticks: `tests/mcp/test_x.py`, `scripts/...`, `app/...`.
PATH = re.compile(r"`((?:app|tests|scripts|migrations|bench|\.ci)/[\w./-]*\w)(?:::\w+)?`")
COLLECTION = ROOT / "OpenBankAPI.postman_collection.json"
USER_FACING = {"README.md": TEXT, COLLECTION.name: COLLECTION.read_text()}


def test_runnable_blocks_follow_the_conventions() -> None:
    blocks = bash_blocks(TEXT)
    assert problems(blocks) == []
    runnable = [block for block in blocks if block.skip_reason is None]
    assert len(runnable) >= 15
    # $BASE is set once, by the block that starts the server in the background ...
    base = [block for block in runnable if re.search(r"^BASE=", block.text, re.MULTILINE)]
    assert len(base) == 1
    assert "uvicorn app.main:app --port 8000 >openbank.log 2>&1 &" in base[0].text
    # ... and the walkthrough stops it again.
    assert runnable[-1].text.strip() == 'kill "$SERVER_PID"'
    # No runnable block starts a server in the foreground.
    for block in runnable:
        for line in block.text.splitlines():
            if "uvicorn" in line:
                assert line.rstrip().endswith("&"), line


def test_skipped_blocks_are_few_and_say_why() -> None:
    skipped = [block for block in bash_blocks(TEXT) if block.skip_reason is not None]
    assert 0 < len(skipped) <= 10
    assert all(len(block.skip_reason or "") > 10 for block in skipped)


def test_the_check_runs_on_its_own_port_and_directory(tmp_path: Path) -> None:
    script = script_for(bash_blocks(TEXT), port=45678, directory=tmp_path)
    assert script.startswith("set -euo pipefail\n")
    assert "127.0.0.1:8000" not in script
    assert "--port 45678" in script
    assert f"{tmp_path}/openbank.log" in script


def test_files_the_text_names_exist() -> None:
    for name, text in USER_FACING.items():
        missing = [path for path in set(PATH.findall(text)) if not (ROOT / path).exists()]
        assert missing == [], f"{name} names files that do not exist: {missing}"


HISTORY = re.compile(r"document 002|\(002\)|\b002:|\bissue \d+", re.IGNORECASE)


def test_user_facing_text_speaks_of_the_product_not_its_history(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in USER_FACING.items():
        assert HISTORY.findall(text) == [], name
    assert HISTORY.findall(json.dumps(app.openapi())) == []
    with pytest.raises(SystemExit):
        seed.parse_args(["--help"])
    help_text = capsys.readouterr().out
    assert "portfolio-analysis API" in help_text
    assert HISTORY.findall(help_text) == []


def test_the_collection_reads_no_hard_coded_address() -> None:
    collection = json.loads(USER_FACING[COLLECTION.name])
    scripts = json.dumps(collection["item"])
    assert "127.0.0.1" not in scripts
    assert "localhost" not in scripts
    assert 'collectionVariables.get(\\"baseUrl\\")' not in scripts
