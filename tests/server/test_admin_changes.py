"""``pipetrack admin changes``: who changed what and when, as the server recorded it,
for the admin (the API's history needs a user's token; the push log gives counts)."""

from __future__ import annotations

import json
import uuid

from .client import Device, create, edit, set_status
from .test_admin_cli import cli


def changes(url: str, *args: str) -> list[dict]:
    run = cli("admin", "changes", "--database-url", url, "--json", *args)
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def test_the_admin_sees_who_changed_what_newest_first(server, make_user):
    name = f"Acme {uuid.uuid4().hex[:6]}"
    with Device(server, make_user("ada")) as ada, Device(server, make_user("bob")) as bob:
        uid = ada.push_one(create(name=name, status="Cold"))["target"]["uid"]
        bob.push_one(set_status(uid, "Passed", base=1, note="lost to a rival"))
        ada.push_one(edit(uid, base=2, description="rival won"))
        ada_device, bob_device = ada.device_id, bob.device_id
    url = server.database_url
    mine = [c for c in changes(url, "--target", name.upper())]  # a name, any case
    assert [(c["op"], c["user"].split("-")[0], c["new_status"], c["note"]) for c in mine] == [
        ("edit", "ada", "Passed", None),
        ("set_status", "bob", "Passed", "lost to a rival"),
        ("create", "ada", "Cold", None),
    ]
    assert [c["device"] for c in mine] == [ada_device, bob_device, ada_device]
    assert {c["target"] for c in mine} == {uid} and mine[1]["old_status"] == "Cold"
    bobs = changes(url, "--target", uid[:8], "--user", mine[1]["user"].upper())
    assert [c["op"] for c in bobs] == ["set_status"]
    table = cli("admin", "changes", "--database-url", url, "--target", uid)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["WHEN", "TARGET", "CHANGE", "BY", "DEVICE", "NOTE"]
    assert "Cold → Passed" in lines[2] and "lost to a rival" in lines[2]
    assert "created, Cold" in lines[3] and "edited details" in lines[1]


def test_bad_options_are_one_line_and_exit_2(server):
    url = server.database_url
    for args, said in [
        (("--target", "no such target at all"), "no target matches 'no such target at all'"),
        (("--since", "yesterday"), "bad span 'yesterday'"),
        (("--user", " "), "--user ' ': give a value"),
    ]:
        run = cli("admin", "changes", "--database-url", url, *args)
        assert run.exit_code == 2, run.stdout
        assert said in run.stderr and len(run.stderr.splitlines()) == 1, run.stderr
