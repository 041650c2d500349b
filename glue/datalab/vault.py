"""Talking to an environment's Vault (OpenBao) from the operator's machine: status,
init, unseal. Bootstrap material lives in the environment's state dir (0600 files) and
is never printed."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

import hvac
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID

from datalab import DatalabError, catalog, hosts, paths

PORT = catalog.port("vault")


@dataclass
class Env:
    name: str
    state: Path
    nodes: dict[str, str]  # inventory name -> API URL
    flavour: str = "openbao"  # or "vault" (HashiCorp)

    @property
    def ca_bundle(self) -> Path:
        return self.state / "ca-bundle.pem"

    @property
    def bootstrap_file(self) -> Path:
        return self.state / "vault-bootstrap.json"

    @property
    def token_file(self) -> Path:
        return self.state / "vault-ansible-token"


def environment(env: str) -> Env:
    contract = hosts.contract(env)
    members = contract["groups"].get("vault", [])
    if not members:
        raise DatalabError(f"environment {env} has no hosts in the vault group")
    return Env(
        name=env,
        state=paths.state_dir(env),
        nodes={n: f"https://{contract['hosts'][n]['address']}:{PORT}" for n in members},
        flavour=contract["vars"].get("datalab_vault_flavour", "openbao"),
    )


def client(e: Env, url: str | None = None, token: str | None = None) -> hvac.Client:
    if not e.ca_bundle.exists():
        raise DatalabError(
            f"no CA bundle at {e.ca_bundle}: Vault has not been set up for {e.name} yet "
            "(run `ansible-playbook site.yml` or `datalab up`)"
        )
    c = hvac.Client(url=url or next(iter(e.nodes.values())), verify=str(e.ca_bundle), timeout=15)
    if token:
        c.token = token
    elif e.token_file.exists():
        c.token = e.token_file.read_text().strip()
    return c


def _call(what: str, fn):
    try:
        return fn()
    except requests.exceptions.SSLError as exc:
        raise DatalabError(
            f"{what}: the server's TLS certificate does not verify against the platform CA "
            f"(expired, or not issued by this environment's PKI): {exc}"
        ) from exc
    except requests.exceptions.ConnectionError as exc:
        raise DatalabError(f"{what}: cannot connect ({exc.__class__.__name__})") from exc
    except hvac.exceptions.Forbidden as exc:
        raise DatalabError(
            f"{what}: permission denied. The token is wrong, expired or lacks the policy; "
            "see docs/runbooks/vault.md"
        ) from exc


def status(e: Env) -> list[dict]:
    rows = []
    for name, url in e.nodes.items():
        c = client(e, url)
        try:
            seal = c.sys.read_seal_status()
            health = c.sys.read_health_status(
                method="GET", standby_ok=True, sealed_code=200, uninit_code=200
            )
            health = health.json() if hasattr(health, "json") else health
            role = (
                "sealed" if seal["sealed"] else ("standby" if health.get("standby") else "active")
            )
            rows.append(
                {
                    "node": name,
                    "url": url,
                    "initialized": seal["initialized"],
                    "sealed": seal["sealed"],
                    "role": role,
                    "version": seal.get("version"),
                }
            )
        except (requests.exceptions.RequestException, hvac.exceptions.VaultError) as exc:
            rows.append(
                {
                    "node": name,
                    "url": url,
                    "initialized": None,
                    "sealed": None,
                    "role": f"unreachable ({exc.__class__.__name__})",
                    "version": None,
                }
            )
    return rows


def write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    path.chmod(0o600)


def init(e: Env, shares: int = 5, threshold: int = 3) -> str:
    c = client(e)
    if _call("init", c.sys.is_initialized):
        return "already initialised"
    result = _call("init", lambda: c.sys.initialize(shares, threshold))
    write_private(
        e.bootstrap_file,
        json.dumps({"keys_b64": result["keys_base64"], "root_token": result["root_token"]}),
    )
    return (
        f"initialised with {shares} key shares (threshold {threshold}); kept in {e.bootstrap_file}"
    )


def unseal(e: Env, keys: list[str] | None = None) -> list[str]:
    """Unseal every sealed node, with the given key shares or the bootstrap file's."""
    if keys is None:
        if not e.bootstrap_file.exists():
            raise DatalabError(
                f"no unseal keys: {e.bootstrap_file} is missing. Pass the key shares with "
                "--key (repeat it threshold times), as the operators hold them"
            )
        keys = json.loads(e.bootstrap_file.read_text())["keys_b64"]
    done = []
    for name, url in e.nodes.items():
        c = client(e, url)
        seal = _call(f"unseal {name}", c.sys.read_seal_status)
        if not seal["sealed"]:
            done.append(f"{name}: unsealed already")
            continue
        for key in keys:
            seal = _call(f"unseal {name}", lambda key=key, c=c: c.sys.submit_unseal_key(key))
            if not seal["sealed"]:
                break
        if seal["sealed"]:
            raise DatalabError(
                f"{name} is still sealed after {len(keys)} key shares (progress "
                f"{seal['progress']}/{seal['t']}): the keys are wrong or too few"
            )
        done.append(f"{name}: unsealed")
    return done


def remove_peer(e: Env, node: str) -> str:
    """Remove a (failed) node from the raft configuration, through a healthy node."""
    for name, url in e.nodes.items():
        if name == node:
            continue
        c = client(e, url)
        try:
            peers = c.sys.read_raft_config()["data"]["config"]["servers"]
        except (requests.exceptions.RequestException, hvac.exceptions.VaultError):
            continue
        if node not in {p["node_id"] for p in peers}:
            return f"{node} is not a raft peer"
        _call("remove-peer", lambda c=c: c.sys.remove_raft_node(node))
        return f"{node} removed from the raft cluster"
    raise DatalabError(f"no healthy Vault node other than {node} answered")


def _bootstrap_keys(e: Env, keys: list[str] | None) -> list[str]:
    if keys:
        return keys
    if not e.bootstrap_file.exists():
        raise DatalabError(
            f"no key shares: {e.bootstrap_file} is missing. Pass the shares with --key "
            "(repeat it threshold times), as the operators hold them"
        )
    return json.loads(e.bootstrap_file.read_text())["keys_b64"]


def generate_root(e: Env, keys: list[str] | None = None, unauthenticated: bool = False) -> str:
    """A new root token through the authenticated sys/generate-root-token endpoints
    (OpenBao >= 2.6): the admin token starts the attempt, the key shares complete it.
    `unauthenticated` uses sys/generate-root instead (no token: for a lost admin token,
    with the endpoints switched on in the listener for the ceremony). HashiCorp Vault has
    only sys/generate-root, always on: the key shares are the protection. The token is
    written into the bootstrap file (0600), never printed; the next converge uses it
    and revokes it."""
    keys = _bootstrap_keys(e, keys)
    c = client(e)
    unauthenticated = unauthenticated or e.flavour == "vault"
    if unauthenticated:
        c.token = None
    base = "/v1/sys/generate-root" if unauthenticated else "/v1/sys/generate-root-token"
    _call("generate-root", lambda: c.adapter.delete(f"{base}/attempt"))
    start = _call("generate-root", lambda: c.adapter.post(f"{base}/attempt"))
    start = start.get("data") or start
    otp, nonce = start["otp"], start["nonce"]
    result: dict = {}
    for key in keys:
        result = _call(
            "generate-root",
            lambda key=key: c.adapter.post(f"{base}/update", json={"key": key, "nonce": nonce}),
        )
        result = result.get("data") or result
        if result.get("complete"):
            break
    if not result.get("complete"):
        raise DatalabError(
            f"root token generation incomplete after {len(keys)} key shares (progress "
            f"{result.get('progress')}/{result.get('required')}): the keys are wrong or too few"
        )
    raw = base64.b64decode(result["encoded_token"] + "=" * (-len(result["encoded_token"]) % 4))
    token = bytes(a ^ b for a, b in zip(raw, otp.encode(), strict=True)).decode()
    material = json.loads(e.bootstrap_file.read_text()) if e.bootstrap_file.exists() else {}
    material["root_token"] = token
    write_private(e.bootstrap_file, json.dumps(material))
    return f"new root token written to {e.bootstrap_file} (0600)"


def rotate_intermediate(e: Env, mount: str = "pki_int", root: str = "pki") -> tuple[str, str]:
    """A new intermediate CA in the same mount (a second issuer, signed by the root),
    made the default: certificates issued from now on chain to it; the old issuer
    stays to verify certificates still in use. Returns (old, new) issuer ids."""
    c = client(e)

    def rotate() -> tuple[str, str]:
        old_id = c.read(f"{mount}/config/issuers")["data"]["default"]
        old = x509.load_pem_x509_certificate(
            c.read(f"{mount}/issuer/{old_id}")["data"]["certificate"].encode()
        )
        name = old.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        lifetime = old.not_valid_after_utc - old.not_valid_before_utc
        key = old.public_key()
        key_type, bits = (
            ("ec", key.curve.key_size) if hasattr(key, "curve") else ("rsa", key.key_size)
        )
        generated = c.write(
            f"{mount}/intermediate/generate/internal",
            common_name=name,
            key_type=key_type,
            key_bits=bits,
        )["data"]
        signed = c.write(
            f"{root}/root/sign-intermediate",
            csr=generated["csr"],
            format="pem_bundle",
            common_name=name,
            ttl=f"{int(lifetime.total_seconds())}s",
        )["data"]
        chain = "\n".join([signed["certificate"], *signed.get("ca_chain", [signed["issuing_ca"]])])
        c.write(f"{mount}/intermediate/set-signed", certificate=chain)
        # The new issuer is the one holding the key generated above.
        new_id = next(
            i
            for i in c.list(f"{mount}/issuers")["data"]["keys"]
            if c.read(f"{mount}/issuer/{i}")["data"].get("key_id") == generated["key_id"]
        )
        c.write(f"{mount}/config/issuers", default=new_id)
        return old_id, new_id

    return _call("rotate-intermediate", rotate)
