"""Run every ```bash block of README.md, in order, in one bash session, against a fresh server.

    uv run python scripts/readme_check.py                 # a temporary directory, then removed
    uv run python scripts/readme_check.py --keep DIR      # DIR keeps the database and the log
    uv run python scripts/readme_check.py --list          # show the blocks and what is skipped
    uv run python scripts/readme_check.py --verbose       # and show what the commands printed

The README's commands build on each other (the walkthrough starts the server in the
background, registers Jane and John, moves money, seeds the sample data, reads portfolios, makes
an API key, calls MCP and stops the server), so they run as one script with `set -euo pipefail`:
the first command that fails stops the check, which then shows the block it was in and its
output. `curl` runs with `--fail-with-body`, so an HTTP error fails too, unless the command
prints the status itself (`-w '%{http_code}'`, to show an expected 401 or 404).

Conventions the README follows so that this works:

- a block is skipped only when the line just before it is a comment
  `<!-- readme-check: skip (reason) -->`, for commands that install things, run in the
  foreground until Ctrl+C, take minutes or need tools beyond curl and python3;
- commands reach the server only through `$BASE`, set once by `BASE=http://127.0.0.1:8000`;
  the server is started with `--port 8000` and logs to `openbank.log`.

The check runs in the repository (for `uv run`), with the database, the signing key and the
server's log in its own directory (`DATABASE_URL`, `SECRET_KEY_FILE`), on a free loopback port:
it replaces `127.0.0.1:8000`, `--port 8000` and `openbank.log` in the blocks it runs. Whatever is
still running when the script ends (the server, if a block failed before stopping it) is stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SKIP = re.compile(r"^<!--\s*readme-check:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
DEFAULT_ADDRESS = "127.0.0.1:8000"
MARKER = "### readme-check block"
TIMEOUT_SECONDS = 600


@dataclass
class Block:
    number: int
    line: int  # 1-based line of the opening fence
    text: str
    skip_reason: str | None


def bash_blocks(markdown: str) -> list[Block]:
    """The ```bash blocks of a Markdown text, each with its skip marker's reason (if any)."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        end = start + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if fence["lang"] == "bash":
            previous = lines[start - 1] if start > 0 else ""
            marker = SKIP.match(previous.strip())
            blocks.append(
                Block(
                    number=len(blocks) + 1,
                    line=start + 1,
                    text="\n".join(lines[start + 1 : end]),
                    skip_reason=marker["reason"] if marker else None,
                )
            )
        index = end + 1
    return blocks


def problems(blocks: list[Block]) -> list[str]:
    """README conventions a runnable block breaks (see the module docstring)."""
    found = []
    for block in blocks:
        if block.skip_reason is not None:
            continue
        for number, line in enumerate(block.text.splitlines(), start=block.line + 1):
            if "…" in line and not line.lstrip().startswith("#"):
                found.append(f"README.md:{number}: a placeholder (…) in a command")
            if DEFAULT_ADDRESS in line and not line.startswith("BASE="):
                found.append(f"README.md:{number}: use $BASE instead of {DEFAULT_ADDRESS}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def script_for(blocks: list[Block], *, port: int, directory: Path) -> str:
    parts = [
        "set -euo pipefail",
        # An HTTP error is a failed command, with the body shown; a command that prints the
        # status itself (`-w '%{http_code}'`) shows an expected 401 or 404 and is not stopped.
        'curl() { case " $* " in *http_code*) command curl --show-error "$@" ;; '
        '*) command curl --fail-with-body --show-error "$@" ;; esac; }',
    ]
    for block in blocks:
        if block.skip_reason is not None:
            continue
        text = (
            block.text.replace(DEFAULT_ADDRESS, f"127.0.0.1:{port}")
            .replace("--port 8000", f"--port {port}")
            .replace("openbank.log", str(directory / "openbank.log"))
        )
        parts.append(f"printf '\\n%s\\n' '{MARKER} {block.number}'")
        parts.append(text)
    parts.append(f"printf '\\n%s\\n' '{MARKER} done'")
    return "\n".join(parts) + "\n"


def run(blocks: list[Block], directory: Path, *, verbose: bool = False) -> int:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{directory / 'openbank.db'}",
        SECRET_KEY_FILE=str(directory / "openbank_secret"),
        BCRYPT_ROUNDS="4",
    )
    for name in ("ADMIN_USERNAME", "ADMIN_PASSWORD", "BASE"):
        env.pop(name, None)
    script = directory / "readme.sh"
    script.write_text(script_for(blocks, port=port, directory=directory))
    runnable = [block for block in blocks if block.skip_reason is None]
    print(f"README check: {len(runnable)} of {len(blocks)} bash blocks, server on port {port}")
    bash = shutil.which("bash") or "bash"
    process = subprocess.Popen(  # noqa: S603 - our own script of the README's blocks
        [bash, str(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output += f"\n(timed out after {TIMEOUT_SECONDS} s)"
    finally:
        # The background server of the walkthrough, if a block failed before stopping it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)

    sections = re.split(rf"^{re.escape(MARKER)} (\S+)$", output, flags=re.MULTILINE)
    # sections: [before, "1", output of block 1, "2", output of block 2, ..., "done", ""]
    finished = process.returncode == 0 and len(sections) >= 2 and sections[-2] == "done"
    if verbose:
        print(output)
    if finished:
        print(f"README check passed: {len(runnable)} blocks ran")
        return 0
    last = sections[-2] if len(sections) >= 3 else None
    block = next((b for b in blocks if str(b.number) == last), None)
    print(f"README check FAILED (exit status {process.returncode})")
    if block is not None:
        print(f"--- block {block.number}, README.md line {block.line}:")
        print(block.text)
        print("--- its output:")
        print(sections[-1].rstrip())
    else:
        print(output)
    log = directory / "openbank.log"
    if log.exists():
        print("--- the server's log (last 40 lines):")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="keep the database and the log in this directory")
    parser.add_argument("--list", action="store_true", help="list the blocks, run nothing")
    parser.add_argument("--verbose", action="store_true", help="show the commands' output")
    args = parser.parse_args(argv)

    blocks = bash_blocks(README.read_text())
    if args.list:
        for block in blocks:
            state = f"skip ({block.skip_reason})" if block.skip_reason else "run"
            first = block.text.splitlines()[0] if block.text else ""
            print(f"{block.number:3} line {block.line:4}  {state}: {first}")
        return 0
    found = problems(blocks)
    if found:
        print("\n".join(found))
        return 1
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(blocks, args.keep.resolve(), verbose=args.verbose)
    directory = Path(tempfile.mkdtemp(prefix="openbank-readme-"))
    try:
        return run(blocks, directory, verbose=args.verbose)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
