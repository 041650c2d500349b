"""Shared test settings: tests that need the lab are marked `lab` and skip with the
command to run when the lab is not prepared (CI always prepares it first)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from datalab import lab, terraform

# Tools of this interpreter's venv (ansible-inventory, used by testinfra) come first.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def lab_missing() -> str | None:
    if not lab.docker_running():
        return "Docker engine not running"
    if not terraform.cli_config().exists() or not lab.provider_binary().exists():
        return "Terraform provider mirror missing"
    return None


@pytest.fixture(scope="session")
def prepared_lab():
    reason = lab_missing()
    if reason:
        pytest.skip(f"{reason}: run `datalab lab prepare` (make test does)")
