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
        # a mistyped name said "no changes recorded that match", as for a user who changed
        # nothing
        (("--user", "nosuchuser"), "no user named 'nosuchuser'"),
    ]:
        run = cli("admin", "changes", "--database-url", url, *args)
        assert run.exit_code == 2, run.stdout
        assert said in run.stderr and len(run.stderr.splitlines()) == 1, run.stderr


def test_a_target_is_found_as_the_laptop_finds_it_and_the_list_says_when_cut(server, make_user):
    """Accents optional, part of a name when only one has it; ``____`` is no wildcard; a
    3-character prefix says why it matches nothing; a list cut at --limit says so."""
    tag = uuid.uuid4().hex[:6]
    with Device(server, make_user("ada")) as ada:
        uid = ada.push_one(create(name=f"Société Générale {tag}", status="Cold"))["target"]["uid"]
        ada.push_one(set_status(uid, "Hot", base=1))
    url = server.database_url
    for ref in (f"societe generale {tag}", f"generale {tag}", uid[:6].upper()):
        assert {c["target"] for c in changes(url, "--target", ref)} == {uid}, ref
    for ref, said in [("____", "no target matches '____'"), (uid[:3], "needs 4 characters")]:
        run = cli("admin", "changes", "--database-url", url, "--target", ref)
        assert run.exit_code == 2 and said in run.stderr, run.stderr
    cut = cli("admin", "changes", "--database-url", url, "--target", uid, "--limit", "1")
    assert cut.exit_code == 0 and "the newest 1 shown; more with --limit" in cut.stderr
    huge = cli("admin", "changes", "--database-url", url, "--limit", "99999999999999999999")
    assert huge.exit_code == 2 and "Traceback" not in huge.stderr + huge.stdout


def test_changes_are_newest_first_as_their_devices_dated_them(server, make_user):
    """A change made offline and received later is listed by when it was made (WHEN),
    below a newer one received before it."""
    user = make_user("ada")
    with Device(server, user) as ada:
        newer = create(name=f"Newer {uuid.uuid4().hex[:6]}", status="Cold")
        newer["changed_at"] = "2026-01-01T10:00:00Z"
        ada.push_one(newer)
        offline = create(name=f"Offline {uuid.uuid4().hex[:6]}", status="Cold")
        offline["changed_at"] = "2026-01-01T09:00:00Z"  # made first, received after
        ada.push_one(offline)
        name = ada.http.get("/v1/me").json()["user"]
    listed = changes(server.database_url, "--user", name, "--since", "2025-12-31")
    assert [c["name"] for c in listed] == [newer["fields"]["name"], offline["fields"]["name"]]
    assert listed[0]["recorded_at"] < listed[1]["recorded_at"]
