"""The dashboards (Perses) as a user meets them: log in as the admin (password in Vault,
`perses/admin`), list the provisioned dashboards, and run each panel's query through
Perses' proxy to its Prometheus datasource, so a check proves the whole path: Perses'
TLS and login, the datasource's TLS and basic auth to Prometheus, and data behind every
panel. Used by `datalab smoke` and the lab tests."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from datalab import DatalabError, catalog
from datalab.platform import Platform

PROJECT = "datalab"  # the role's perses_project
DATASOURCE = "prometheus"  # the provisioned GlobalDatasource


@dataclass
class Session:
    target: Platform
    base: str
    token: str

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(
            f"{self.base}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=str(self.target.ca),
            timeout=20,
        )

    def dashboards(self) -> list[dict]:
        reply = self.get(f"/api/v1/projects/{PROJECT}/dashboards")
        if reply.status_code != 200:
            raise DatalabError(
                f"Perses listed no dashboards: {reply.status_code} {reply.text[:200]}"
            )
        return reply.json()

    def query(self, promql: str) -> list[dict]:
        """An instant query through the datasource's proxy: the series it returns."""
        reply = self.get(f"/proxy/globaldatasources/{DATASOURCE}/api/v1/query", query=promql)
        if reply.status_code != 200:
            raise DatalabError(f"query {promql!r}: {reply.status_code} {reply.text[:200]}")
        return reply.json()["data"]["result"]


def base_url(target: Platform) -> str:
    _, address = target.need("perses")
    return f"https://{address}:{catalog.port('perses')}"


def login(target: Platform, password: str | None = None, user: str = "admin") -> Session:
    """A session as `user` (the admin by default, with its password from Vault)."""
    base = base_url(target)
    if password is None:
        password = target.secret("perses/admin")["password"]
    reply = requests.post(
        f"{base}/api/auth/providers/native/login",
        json={"login": user, "password": password},
        verify=str(target.ca),
        timeout=20,
    )
    if reply.status_code != 200:
        raise DatalabError(
            f"Perses refused the login of {user}: {reply.status_code} {reply.text[:200]}"
        )
    return Session(target, base, reply.json()["access_token"])


def panel_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of every panel."""
    found = []
    for panel in dashboard["spec"].get("panels", {}).values():
        title = panel["spec"].get("display", {}).get("name", "?")
        for query in panel["spec"].get("queries", []):
            found.append((title, query["spec"]["plugin"]["spec"]["query"]))
    return found


def empty_panels(session: Session) -> tuple[int, list[str]]:
    """How many dashboards there are, and 'dashboard: panel' for every query that
    returns no series."""
    boards = session.dashboards()
    empty = [
        f"{board['metadata']['name']}: {title}"
        for board in boards
        for title, promql in panel_queries(board)
        if not session.query(promql)
    ]
    return len(boards), empty
