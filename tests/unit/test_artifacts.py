import hashlib
import os
import re
import tarfile

import pytest
from datalab import DatalabError, artifacts


def test_manifest_pins_every_artifact():
    manifest = artifacts.load_manifest()
    assert {a.name for a in manifest} >= {"openbao", "seaweedfs", "vault"}
    for artifact in manifest:
        assert re.fullmatch(r"[0-9a-f]{64}", artifact.sha256), artifact.name
        assert artifact.version in artifact.file, "store paths carry the version"
        assert artifact.source["kind"] in artifacts.SOURCES, artifact.name
        if artifact.source["kind"] == "pypi-wheel":
            assert re.fullmatch(r"[0-9a-f]{64}", artifact.source["wheel_sha256"])
        if artifact.source["kind"] == "go-build":
            assert (artifacts.BUILDS_DIR / artifact.source["script"]).is_file()


def test_on_demand_artifacts_only_for_environments_that_select_them():
    vault = next(a for a in artifacts.load_manifest() if a.name == "vault")
    assert not artifacts.needed(vault, artifacts.environment_settings("dev"))
    assert artifacts.needed(vault, {"vault_flavour": "vault"})
    openbao = next(a for a in artifacts.load_manifest() if a.name == "openbao")
    assert artifacts.needed(openbao, {})


def test_verify_skips_on_demand_artifacts_not_built(tmp_path):
    problems = artifacts.verify(tmp_path)
    assert not any(p.startswith("vault ") for p in problems)
    assert any(p.startswith("openbao ") and "missing" in p for p in problems)


def test_checksum_mismatch_names_the_file_and_the_fix(tmp_path):
    blob = tmp_path / "bao"
    blob.write_bytes(b"not the pinned release")
    expected = "0" * 64
    with pytest.raises(DatalabError) as err:
        artifacts.check_sha256(blob, expected, "openbao 2.7.2")
    message = str(err.value)
    assert "checksum mismatch for openbao 2.7.2" in message
    assert hashlib.sha256(b"not the pinned release").hexdigest() in message
    assert "datalab lab prepare" in message


def test_verify_reports_missing_and_corrupt_files(tmp_path):
    manifest = artifacts.load_manifest()
    first = manifest[0]
    corrupt = tmp_path / first.file
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"corrupt")
    problems = artifacts.verify(tmp_path)
    assert any(p.startswith(f"{first.name} ") and "checksum mismatch" in p for p in problems)
    assert any("missing" in p for p in problems)


def test_maven_set_tar_is_reproducible(tmp_path):
    """Same jars, other mtimes and order: the same bytes, so one sha256 can be pinned."""
    files = {}
    for name in ("b.jar", "a.jar"):
        jar = tmp_path / "src" / name
        jar.parent.mkdir(exist_ok=True)
        jar.write_bytes(name.encode() * 1000)
        files[f"jars/{name}"] = jar
    first, second = tmp_path / "one.tar", tmp_path / "two.tar"
    artifacts.pack_tar(files, first)
    for jar in files.values():
        os.utime(jar, (1_700_000_000, 1_700_000_000))
        jar.chmod(0o600)
    artifacts.pack_tar(dict(reversed(files.items())), second)
    assert artifacts.sha256_file(first) == artifacts.sha256_file(second)
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["jars", "jars/a.jar", "jars/b.jar"]
    assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}
    assert not any(m.pax_headers for m in members)


def test_maven_coordinates_map_to_repository_paths():
    assert (
        artifacts.maven_path("io.delta:delta-storage:4.4.0")
        == "io/delta/delta-storage/4.4.0/delta-storage-4.4.0.jar"
    )
    with pytest.raises(DatalabError):
        artifacts.maven_path("io.delta:delta-storage")


def test_archives_name_a_file_that_proves_the_unpack():
    for artifact in artifacts.load_manifest():
        if artifact.unpack:
            assert artifact.unpack in ("zip", "tar"), artifact.name
            assert artifact.check, f"{artifact.name}: an archive needs `check`"
        if artifact.source["kind"] == "maven-set":
            for jar in artifact.source["jars"]:
                assert re.fullmatch(r"[0-9a-f]{64}", jar["sha256"]), jar["coordinate"]
                artifacts.maven_path(jar["coordinate"])


def test_wheelhouse_pin_is_the_repo_lock():
    for artifact in artifacts.load_manifest():
        if artifact.source["kind"] == "pypi-wheelhouse":
            lock = artifacts.lock_path(artifact)
            assert artifacts.sha256_file(lock) == artifact.sha256, artifact.name
            assert len(artifacts.read_lock(lock)) > 50


def test_wheelhouse_verify_checks_every_wheel_by_its_locked_hash(tmp_path):
    wheel = b"not really a wheel"
    lock = tmp_path / "svc" / "1.0" / "requirements.lock.txt"
    lock.parent.mkdir(parents=True)
    lock.write_text(
        "Foo.Bar==1.0 \\\n"
        f"    --hash=sha256:{hashlib.sha256(wheel).hexdigest()}\n"
        "    # via svc\n"
        "baz==2.0 \\\n"
        f"    --hash=sha256:{'0' * 64}\n"
    )
    (lock.parent / "foo_bar-1.0-py3-none-any.whl").write_bytes(wheel)
    (lock.parent / "baz-2.0-py3-none-any.whl").write_bytes(b"tampered")
    assert artifacts.wheelhouse_problems(lock) == ["baz==2.0: no wheel with a locked hash"]
    (lock.parent / "baz-2.0-py3-none-any.whl").unlink()
    assert artifacts.wheelhouse_problems(lock) == ["baz==2.0: no wheel"]


def test_a_lock_without_hashes_is_refused(tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text("foo==1.0\n")
    with pytest.raises(DatalabError, match="not a hash-locked"):
        artifacts.read_lock(lock)


def test_go_build_names_the_other_commands_its_script_needs(tmp_path, monkeypatch):
    prometheus = next(a for a in artifacts.load_manifest() if a.name == "prometheus")
    assert {"node", "npm"} <= set(prometheus.source["needs"])
    monkeypatch.setattr(
        artifacts.shutil, "which", lambda tool: None if tool in ("node", "npm") else "/bin/x"
    )
    with pytest.raises(DatalabError, match="also needs node, npm on PATH"):
        artifacts._from_go_build(prometheus, tmp_path / "prometheus")
