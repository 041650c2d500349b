#!/usr/bin/python
"""Idempotent operations on Vault / OpenBao through its HTTP API (hvac), run on the
controller. Secret material never enters Ansible's results: bootstrap keys and tokens
are read from and written to 0600 files by this module itself."""

from __future__ import annotations

DOCUMENTATION = r"""
module: datalab_vault
short_description: Idempotent Vault/OpenBao operations (init, unseal, mounts, policies, writes, generated secrets)
description:
  - Talks to the Vault/OpenBao HTTP API with hvac from the controller.
  - Unseal keys, the root token and the Ansible token are kept in 0600 files that only this module reads or writes.
options:
  action:
    description: What to do.
    required: true
    type: str
    choices: [status, init, unseal, bootstrap_admin, raft_voters, mount, auth, audit, policy, write, read, kv_generate, kv_read, pki_root, pki_intermediate, approle_secret_id]
  url: {description: API address of the node to talk to., required: true, type: str}
  ca_cert: {description: CA bundle to verify the node's certificate., required: true, type: path}
  token_file: {description: File holding the token to use (the Ansible admin token)., type: path}
  bootstrap_file: {description: File holding init output (unseal keys, root token)., type: path}
  path: {description: API path, mount path or policy name., type: str}
  data: {description: Data to write or options., type: dict, default: {}}
  type: {description: Engine, auth or audit type., type: str}
  rules: {description: Policy text (HCL)., type: str}
  keys: {description: "kv_generate: key -> length of the random value.", type: dict, default: {}}
  key_shares: {description: "init: number of key shares.", type: int, default: 5}
  peer_urls: {description: "init: the other nodes; if any is initialised, nothing is initialised.", type: list, elements: str, default: []}
  nodes: {description: "raft_voters: the node ids that must all be raft voters.", type: list, elements: str, default: []}
  key_threshold: {description: "init: shares needed to unseal.", type: int, default: 3}
  admin_policy: {description: "bootstrap_admin: policy text of the Ansible admin policy.", type: str}
author: DataLab
"""

EXAMPLES = r"""
- name: Generate the spark secret once
  datalab_vault:
    action: kv_generate
    url: https://control-1:8200
    ca_cert: /state/ca-bundle.pem
    token_file: /state/ansible-token
    path: spark/auth
    keys: {secret: 48}
  no_log: true
"""

RETURN = r"""
changed: {description: Whether anything was written., type: bool, returned: always}
status: {description: "status/unseal: initialized, sealed, version.", type: dict, returned: sometimes}
data: {description: "kv_generate/kv_read/write: the data (callers set no_log).", type: dict, returned: sometimes}
"""

import contextlib
import json
import os
import re
import secrets
import string
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import hvac
    import hvac.exceptions
    import requests

    HVAC_ERR = None
except ImportError:  # pragma: no cover
    HVAC_ERR = traceback.format_exc()

DURATION = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
ALPHABET = string.ascii_letters + string.digits


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def write_private(path, content):
    """Write a file readable by its owner only, atomically."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def same(desired, current):
    """Does the current value already say what the desired one says? Durations given as
    "720h" compare to Vault's seconds; lists compare as lists; others as strings."""
    if isinstance(desired, str) and isinstance(current, int):
        match = DURATION.match(desired)
        if match:
            return int(match[1]) * UNITS[match[2]] == current
    if isinstance(desired, list) and isinstance(current, list):
        # Vault shows a single-address CIDR in some fields as the bare address.
        norm = lambda values: [str(x).removesuffix("/32") for x in values]  # noqa: E731
        return norm(desired) == norm(current)
    if isinstance(desired, list) and isinstance(current, str):
        return ",".join(str(x) for x in desired) == current
    if isinstance(desired, bool) or isinstance(current, bool):
        return bool(desired) == bool(current) and str(desired).lower() == str(current).lower()
    return str(desired) == str(current)


class Vault:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.client = hvac.Client(url=self.p["url"], verify=self.p["ca_cert"], timeout=30)
        if self.p.get("token_file") and os.path.exists(self.p["token_file"]):
            with open(self.p["token_file"]) as handle:
                self.client.token = handle.read().strip()

    def fail(self, msg):
        self.module.fail_json(msg=msg)

    def need_token(self):
        if not self.client.token:
            self.fail(
                f"no Ansible token in {self.p.get('token_file')}: the vault role creates it right after "
                "init; if it was lost, follow docs/runbooks/vault.md (regenerate a root token, then rerun)."
            )

    # --- life cycle -------------------------------------------------------------
    def status(self):
        return dict(changed=False, status=self._seal_status())

    def _seal_status(self):
        raw = self.client.sys.read_seal_status()
        return {
            k: raw.get(k)
            for k in ("initialized", "sealed", "t", "n", "progress", "version", "cluster_name")
        }

    def init(self):
        path = self.p["bootstrap_file"]
        if self.client.sys.is_initialized() or self._any_peer_initialized():
            if not os.path.exists(path):
                self.fail(
                    f"Vault at {self.p['url']} is initialized but its bootstrap material {path} is "
                    "missing on this machine: restore the file (unseal keys) from where the operators keep it."
                )
            return dict(changed=False)
        if self.module.check_mode:
            return dict(changed=True)
        result = self.client.sys.initialize(self.p["key_shares"], self.p["key_threshold"])
        write_private(
            path,
            json.dumps({"keys_b64": result["keys_base64"], "root_token": result["root_token"]}),
        )
        return dict(changed=True)

    def _any_peer_initialized(self):
        """A replaced (empty) first node must join the existing cluster, never start a new one."""
        for url in self.p["peer_urls"]:
            peer = hvac.Client(url=url, verify=self.p["ca_cert"], timeout=10)
            # An unreachable peer says nothing either way.
            with contextlib.suppress(
                requests.exceptions.RequestException, hvac.exceptions.VaultError
            ):
                if peer.sys.is_initialized():
                    return True
        return False

    def unseal(self):
        status = self._seal_status()
        if not status["sealed"]:
            return dict(changed=False, status=status)
        path = self.p["bootstrap_file"]
        if not os.path.exists(path):
            self.fail(
                f"Vault at {self.p['url']} is sealed and no unseal keys are at {path}: "
                "run `datalab vault unseal` with the key shares (docs/runbooks/vault.md)."
            )
        if self.module.check_mode:
            return dict(changed=True, status=status)
        keys = read_json(path)["keys_b64"]
        # A node that joins an existing raft cluster (new or replaced) unseals only once
        # the leader answered its join challenge: submit the keys, give it time, repeat.
        for _attempt in range(8):
            for key in keys[: status["t"]]:
                raw = self.client.sys.submit_unseal_key(key)
                if not raw["sealed"]:
                    break
            for _wait in range(10):
                status = self._seal_status()
                if not status["sealed"]:
                    return dict(changed=True, status=status)
                time.sleep(1)
        self.fail(
            f"Vault at {self.p['url']} is still sealed after submitting {status['t']} keys: "
            "the keys in the bootstrap file do not belong to this cluster."
        )

    def bootstrap_admin(self):
        """Create the Ansible admin policy and token with the root token, then revoke root.
        A root token found in the bootstrap file later (`datalab vault generate-root`) is
        used the same way and revoked: it never outlives a converge."""
        token_file = self.p["token_file"]
        boot = read_json(self.p["bootstrap_file"])
        root = boot.get("root_token")
        admin_valid = False
        if self.client.token:
            try:
                self.client.auth.token.lookup_self()
                admin_valid = True
            except hvac.exceptions.Forbidden:
                pass
        if admin_valid and not root:
            self._renew_if_needed()
            return dict(changed=False)
        if not root:
            self.fail(
                f"the Ansible token in {token_file} is missing or invalid and the root token was already "
                "revoked: regenerate a root token (docs/runbooks/vault.md, 'Regenerate a root token') "
                "and put it in the bootstrap file as root_token, then rerun."
            )
        if self.module.check_mode:
            return dict(changed=True)
        admin_token = self.client.token
        self.client.token = root
        self.client.sys.create_or_update_acl_policy("datalab-admin", self.p["admin_policy"])
        if not admin_valid:
            created = self.client.auth.token.create(
                policies=["datalab-admin"],
                no_parent=True,
                period="768h",
                display_name="ansible",
                meta={"purpose": "datalab ansible converge"},
            )
            admin_token = created["auth"]["client_token"]
            write_private(token_file, admin_token)
        self.client.auth.token.revoke_self()
        self.client.token = admin_token
        boot.pop("root_token", None)
        write_private(self.p["bootstrap_file"], json.dumps(boot))
        return dict(changed=True)

    def raft_voters(self):
        """Wait until the raft cluster has every expected node as a voter. Autopilot
        promotes a joined node only after it has been healthy for a while (about 10 s):
        until then losing one node of three can cost quorum, so a converge waits."""
        self.need_token()
        expected = set(self.p["nodes"])
        servers = []
        for _attempt in range(60):
            servers = self.client.sys.read_raft_config()["data"]["config"]["servers"]
            voters = {s["node_id"] for s in servers if s["voter"]}
            # Check mode reports what it sees; it does not wait on a cluster it did not change.
            if expected <= voters or self.module.check_mode:
                return dict(changed=False, voters=sorted(voters))
            time.sleep(1)
        self.fail(
            f"raft peers {[(s['node_id'], s['voter']) for s in servers]} do not include every node "
            f"of {sorted(expected)} as a voter: see `datalab vault status` and docs/runbooks/vault.md."
        )

    def _renew_if_needed(self):
        info = self.client.auth.token.lookup_self()["data"]
        if info.get("period") and info.get("ttl", 0) < info["period"] // 2:
            self.client.auth.token.renew_self()

    # --- configuration ----------------------------------------------------------
    def mount(self):
        self.need_token()
        path = self.p["path"].strip("/") + "/"
        mounts = self.client.sys.list_mounted_secrets_engines()["data"]
        config = self.p["data"].get("config", {})
        options = self.p["data"].get("options")
        if path in mounts:
            if mounts[path]["type"] != self.p["type"]:
                self.fail(f"{path} is mounted as {mounts[path]['type']}, not {self.p['type']}")
            current = mounts[path].get("config", {})
            drift = {k: v for k, v in config.items() if not same(v, current.get(k))}
            if not drift:
                return dict(changed=False)
            if not self.module.check_mode:
                self.client.sys.tune_mount_configuration(path, **drift)
            return dict(changed=True)
        if not self.module.check_mode:
            self.client.sys.enable_secrets_engine(
                self.p["type"], path=path, config=config, options=options
            )
        return dict(changed=True)

    def auth(self):
        self.need_token()
        path = self.p["path"].strip("/") + "/"
        if path in self.client.sys.list_auth_methods()["data"]:
            return dict(changed=False)
        if not self.module.check_mode:
            self.client.sys.enable_auth_method(self.p["type"], path=path)
        return dict(changed=True)

    def audit(self):
        self.need_token()
        path = self.p["path"].strip("/") + "/"
        if path in self.client.sys.list_enabled_audit_devices()["data"]:
            return dict(changed=False)
        if not self.module.check_mode:
            self.client.sys.enable_audit_device(self.p["type"], path=path, options=self.p["data"])
        return dict(changed=True)

    def policy(self):
        self.need_token()
        name, rules = self.p["path"], self.p["rules"].strip()
        try:
            current = self.client.sys.read_acl_policy(name)["data"]["policy"].strip()
        except hvac.exceptions.InvalidPath:
            current = None
        if current == rules:
            return dict(changed=False)
        if not self.module.check_mode:
            self.client.sys.create_or_update_acl_policy(name, rules)
        return dict(changed=True)

    def write(self):
        """Write data to a path unless reading the path shows the same values already."""
        self.need_token()
        path, desired = self.p["path"], self.p["data"]
        try:
            current = (self.client.read(path) or {}).get("data") or {}
        except (hvac.exceptions.InvalidPath, hvac.exceptions.UnsupportedOperation):
            current = {}
        if current and all(k in current and same(v, current[k]) for k, v in desired.items()):
            return dict(changed=False)
        if not self.module.check_mode:
            self.client.write(path, **desired)
        return dict(changed=True)

    def _kv(self):
        mount, _, path = self.p["path"].partition("/")
        return mount, path

    def read(self):
        self.need_token()
        try:
            data = (self.client.read(self.p["path"]) or {}).get("data") or {}
        except hvac.exceptions.InvalidPath:
            data = {}
        if not data:
            self.fail(f"nothing at {self.p['path']}")
        return dict(changed=False, data=data)

    def kv_read(self):
        self.need_token()
        mount, path = self._kv()
        try:
            data = self.client.secrets.kv.v2.read_secret_version(
                path, mount_point=mount, raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            self.fail(f"no secret at {mount}/{path}")
        return dict(changed=False, data=data["data"]["data"])

    def kv_generate(self):
        """Random values for the given keys, generated once; later runs return them."""
        self.need_token()
        mount, path = self._kv()
        try:
            current = self.client.secrets.kv.v2.read_secret_version(
                path, mount_point=mount, raise_on_deleted_version=True
            )["data"]["data"]
        except hvac.exceptions.InvalidPath:
            current = {}
        missing = {k: n for k, n in self.p["keys"].items() if k not in current}
        if not missing:
            return dict(changed=False, data=current)
        data = dict(current)
        for key, length in missing.items():
            data[key] = "".join(secrets.choice(ALPHABET) for _ in range(int(length)))
        if not self.module.check_mode:
            self.client.secrets.kv.v2.create_or_update_secret(path, secret=data, mount_point=mount)
        return dict(changed=True, data=data)

    def pki_root(self):
        self.need_token()
        mount = self.p["path"].strip("/")
        if self._ca_pem(mount):
            return dict(changed=False, data={"certificate": self._ca_pem(mount)})
        if self.module.check_mode:
            return dict(changed=True, data={"certificate": ""})
        self.client.write(f"{mount}/root/generate/internal", **self.p["data"])
        return dict(changed=True, data={"certificate": self._ca_pem(mount)})

    def pki_intermediate(self):
        """Intermediate CA at path, signed by the root mount given as data.root."""
        self.need_token()
        mount = self.p["path"].strip("/")
        root = self.p["data"]["root"]
        if self._ca_pem(mount):
            return dict(changed=False)
        if self.module.check_mode:
            return dict(changed=True)
        params = {k: v for k, v in self.p["data"].items() if k != "root"}
        csr = self.client.write(f"{mount}/intermediate/generate/internal", **params)["data"]["csr"]
        signed = self.client.write(
            f"{root}/root/sign-intermediate",
            csr=csr,
            format="pem_bundle",
            ttl=params.get("ttl", "43800h"),
            common_name=params["common_name"],
        )["data"]
        chain = (
            signed["certificate"] + "\n" + "\n".join(signed.get("ca_chain", [signed["issuing_ca"]]))
        )
        self.client.write(f"{mount}/intermediate/set-signed", certificate=chain)
        return dict(changed=True)

    def _ca_pem(self, mount):
        response = self.client.adapter.get(f"/v1/{mount}/ca/pem", raise_exception=False)
        text = response.text if hasattr(response, "text") else ""
        return text if "BEGIN CERTIFICATE" in text else ""

    def approle_secret_id(self):
        """A secret ID for the role at path, created when `data.current` is not a valid one."""
        self.need_token()
        role, current = self.p["path"], self.p["data"].get("current", "")
        if current:
            try:
                found = self.client.auth.approle.read_secret_id(role, current)
                if found and found.get("data"):
                    return dict(changed=False, data={"secret_id": current})
            except (hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest):
                pass
        if self.module.check_mode:
            return dict(changed=True, data={"secret_id": current})
        created = self.client.auth.approle.generate_secret_id(
            role, cidr_list=self.p["data"].get("cidr_list")
        )["data"]["secret_id"]
        return dict(changed=True, data={"secret_id": created})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(
                type="str",
                required=True,
                choices=[
                    "status",
                    "init",
                    "unseal",
                    "bootstrap_admin",
                    "raft_voters",
                    "mount",
                    "auth",
                    "audit",
                    "policy",
                    "write",
                    "read",
                    "kv_generate",
                    "kv_read",
                    "pki_root",
                    "pki_intermediate",
                    "approle_secret_id",
                ],
            ),
            url=dict(type="str", required=True),
            ca_cert=dict(type="path", required=True),
            token_file=dict(type="path", no_log=False),
            bootstrap_file=dict(type="path"),
            path=dict(type="str"),
            data=dict(type="dict", default={}),
            type=dict(type="str"),
            rules=dict(type="str"),
            keys=dict(type="dict", default={}, no_log=False),
            key_shares=dict(type="int", default=5),
            peer_urls=dict(type="list", elements="str", default=[]),
            nodes=dict(type="list", elements="str", default=[]),
            key_threshold=dict(type="int", default=3),
            admin_policy=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if HVAC_ERR:
        module.fail_json(msg=missing_required_lib("hvac"), exception=HVAC_ERR)
    vault = Vault(module)
    try:
        result = getattr(vault, module.params["action"])()
    except hvac.exceptions.Forbidden as exc:
        module.fail_json(
            msg=f"Vault refused {module.params['action']} on {module.params.get('path')}: "
            f"permission denied ({exc}). Is the Ansible token valid? "
            "See docs/runbooks/vault.md."
        )
    except hvac.exceptions.VaultError as exc:
        module.fail_json(
            msg=f"Vault error during {module.params['action']} on {module.params.get('path')}: {exc}"
        )
    except Exception as exc:  # connection and TLS errors
        module.fail_json(msg=f"cannot reach Vault at {module.params['url']}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
