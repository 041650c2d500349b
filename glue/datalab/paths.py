"""Where things live: the repository, caches (rebuildable) and state (per environment)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
ANSIBLE_DIR = REPO / "ansible"
ENVIRONMENTS_DIR = REPO / "environments"
ARTIFACT_MANIFEST = ANSIBLE_DIR / "artifacts.yml"

# Stack per host driver; every stack emits the same inventory contract.
STACKS = {"docker": TERRAFORM_DIR / "local"}


def cache_dir() -> Path:
    """Rebuildable artifacts (provider builds, host image, artifact store), kept across runs."""
    base = os.environ.get("DATALAB_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "datalab"
    )
    return Path(base)


def state_dir(env: str | None = None) -> Path:
    """Bootstrap material (SSH keys, rendered inventories); outside git, mode 0700."""
    base = os.environ.get("DATALAB_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME", os.path.expanduser("~/.local/state")), "datalab"
    )
    path = Path(base)
    return path / env if env else path


def env_file(env: str) -> Path:
    return ENVIRONMENTS_DIR / f"{env}.tfvars"


def private_dir(path: Path) -> Path:
    """Create a directory readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path
