"""Running external tools: one place for streaming output, timing and clear failures."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from datalab import DatalabError


def require(tool: str, hint: str) -> str:
    """Path of `tool` on PATH, or an error naming what to install."""
    path = shutil.which(tool)
    if not path:
        raise DatalabError(f"`{tool}` was not found on PATH. {hint}")
    return path


def run(
    argv: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = False,
    check: bool = True,
    what: str | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command. Output streams to the terminal unless `capture`; on failure the
    error names the command and, when captured, the tail of what it printed."""
    args = [str(a) for a in argv]
    try:
        result = subprocess.run(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            text=True,
            input=input_text,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise DatalabError(f"cannot run {args[0]}: {exc.strerror}") from exc
    except subprocess.TimeoutExpired as exc:
        raise DatalabError(f"{what or args[0]} did not finish within {timeout:.0f}s") from exc
    if check and result.returncode != 0:
        tail = ""
        if capture:
            out = ((result.stdout or "") + (result.stderr or "")).strip().splitlines()
            tail = "\n" + "\n".join(out[-25:])
        raise DatalabError(f"{what or ' '.join(args[:3])} failed (exit {result.returncode}){tail}")
    return result


@contextmanager
def step(title: str):
    """Print a progress line for a long step and its duration when done."""
    print(f"==> {title}", file=sys.stderr, flush=True)
    start = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - start:.1f}s", file=sys.stderr, flush=True)


def say(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)
