"""A device talking to a real server over HTTP the way the sync daemon does, and
builders of wire changes (dicts, exactly as JSON goes on the wire)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from tests.support.server import TLS, ServerProcess


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def change(uid, op: str, **parts: Any) -> dict:
    """A wire change with a fresh change_id, made now."""
    return {
        "change_id": str(uuid.uuid4()),
        "target": str(uid),
        "op": op,
        "changed_at": now_iso(),
        **parts,
    }


def create(uid: uuid.UUID | None = None, name: str = "Acme", status=None, **fields) -> dict:
    return change(uid or uuid.uuid4(), "create", status=status, fields={"name": name, **fields})


def set_status(uid, status, base: int, note: str | None = None) -> dict:
    return change(uid, "set_status", base_version=base, status=status, note=note)


def edit(uid, base: int, **fields) -> dict:
    return change(uid, "edit", base_version=base, fields=fields)


class Device:
    """One device (its own device_id) of one user."""

    def __init__(self, server: ServerProcess, token: str, device_id: str | None = None) -> None:
        self.device_id = device_id or f"dev-{uuid.uuid4().hex[:8]}"
        self.http = httpx.Client(
            base_url=server.url, headers=server.auth(token), timeout=90.0, verify=TLS
        )

    def push(self, *changes: dict) -> list[dict[str, Any]]:
        response = self.http.post(
            "/v1/push", json={"device_id": self.device_id, "changes": list(changes)}
        )
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["change_id"] for r in results] == [c["change_id"] for c in changes]
        return results

    def push_one(self, change: dict) -> dict[str, Any]:
        return self.push(change)[0]

    def pull(self, cursor: str | None = None, **params: Any) -> dict[str, Any]:
        if cursor is not None:
            params["cursor"] = cursor
        response = self.http.get("/v1/pull", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def history(self, uid) -> dict[str, Any]:
        response = self.http.get(f"/v1/targets/{uid}/history")
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count(database_url: str, query: str, *params: Any) -> int:
    """One number from the server's database (to check what was written)."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchone()[0]
