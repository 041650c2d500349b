"""The roles' Jinja filters (ansible/filter_plugins)."""

import importlib.util
import subprocess
import sys

import pytest
from datalab import paths

spec = importlib.util.spec_from_file_location(
    "datalab_crypt", paths.ANSIBLE_DIR / "filter_plugins" / "datalab_crypt.py"
)
datalab_crypt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(datalab_crypt)


def test_bcrypt_hash_is_stable_for_a_kept_salt_and_verifies():
    salt = "abcdefghijklmnopqrstu"
    first = datalab_crypt.bcrypt_hash("s3cret", salt)
    assert first == datalab_crypt.bcrypt_hash("s3cret", salt + "ignored")
    assert first.startswith("$2b$10$abcdefghijklmnopqrstu")
    assert first != datalab_crypt.bcrypt_hash("s3cret", "bbcdefghijklmnopqrstu")
    # The hash is a real bcrypt: the C library's crypt(3) verifies it.
    check = (
        "import crypt, sys, warnings; warnings.simplefilter('ignore');"
        "print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])"
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", check, "s3cret", first],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize(("salt", "rounds"), [("short", 10), ("a" * 21, 3), ("bad salt!" * 3, 10)])
def test_bcrypt_hash_refuses_bad_input(salt, rounds):
    with pytest.raises(Exception, match="bcrypt_hash"):
        datalab_crypt.bcrypt_hash("pw", salt, rounds)


def test_jmx_password_hash_matches_what_the_exporter_computes():
    import hashlib

    # This pair's SHA-256 starts with a zero: the exporter's BigInteger hex drops it, so
    # the full hex digest would refuse the right password (Kafka's metrics answered 401).
    salt, password = "salt-8", "pw"
    full = hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()
    assert full.startswith("0")
    exporter = format(int.from_bytes(hashlib.sha256(f"{salt}:{password}".encode()).digest()), "x")
    assert datalab_crypt.jmx_password_hash(password, salt) == exporter != full
    other = "salt-1"
    assert (
        datalab_crypt.jmx_password_hash(password, other)
        == hashlib.sha256(f"{other}:{password}".encode()).hexdigest()
    )
