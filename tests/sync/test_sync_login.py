"""``pipetrack login URL --token T``: checked against the real server before anything
is saved; the token lands in a 0600 file and is never printed."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable

import pytest

from pipetrack.sync_cmd import cleartext
from tests.support.fixtures import server_on_new_database
from tests.support.pg import PgCluster
from tests.support.server import ServerProcess, free_port
from tests.sync.portal import TO_HTTPS, Portal
from tests.sync.synchelp import Device


@pytest.fixture
def c(devices: Callable[[str], Device]) -> Device:
    return devices("c")


def saved(device: Device) -> tuple[str | None, str | None]:
    return device.profile.load_config().server, device.profile.read_token()


def test_a_good_token_is_saved_privately_and_never_printed(
    c: Device, server: ServerProcess, token: str
):
    result = c.run("login", server.url + "/", "--token", token)
    assert result.returncode == 0, result.stderr
    assert saved(c) == (server.url, token)
    assert stat.S_IMODE(c.profile.token_path.stat().st_mode) == 0o600
    assert token not in result.stdout + result.stderr
    assert "logged in to" in result.stderr and "unencrypted" not in result.stderr  # loopback
    # no daemon runs yet; the hint names the profile (without --home it reached another)
    assert result.stderr.rstrip().endswith(f"Run 'pipetrack --home {c.profile.home} sync'.")
    assert token not in c.profile.config_path.read_text()


def test_login_works_while_a_threshold_in_the_config_is_wrong(
    c: Device, server: ServerProcess, token: str
):
    """A mistake in [stagnation] is the list's business: logging in (saving the server
    beside it) still works and keeps the rest of the file as it is."""
    c.profile.ensure()
    c.profile.config_path.write_text('[stagnation]\nHot = 0\n\n[keys]\nundo = "z"\n')
    result = c.run("login", server.url, "--token", token)
    assert result.returncode == 0, result.stderr
    raw = tomllib.loads(c.profile.config_path.read_text())
    assert raw == {"stagnation": {"Hot": 0}, "keys": {"undo": "z"}, "sync": {"server": server.url}}
    listed = c.run("list")
    assert listed.returncode == 2
    assert str(c.profile.config_path) in listed.stderr and "Hot = 0" in listed.stderr


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://pipetrack.example.com", True),
        ("http://10.1.2.3:8787", True),
        ("https://pipetrack.example.com", False),
        ("http://127.0.0.1:8787", False),
        ("http://[::1]:8787", False),
        ("http://localhost:8787", False),
    ],
)
def test_plain_http_to_another_machine_is_warned_about(url: str, warned: bool):
    assert cleartext(url) is warned


def test_the_token_can_be_typed_at_a_hidden_prompt(c: Device, server: ServerProcess, token: str):
    result = c.run("login", server.url, stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    assert saved(c) == (server.url, token)
    assert token not in result.stdout + result.stderr


def test_a_refused_token_exits_2_and_saves_nothing(c: Device, server: ServerProcess):
    result = c.run("login", server.url, "--token", "not-a-real-token")
    assert result.returncode == 2
    assert result.stderr == (
        f"pipetrack: error: {server.url} refused the token (mistyped, disabled or replaced):"
        f" ask your admin for a new token, then run pipetrack login {server.url} --token NEW\n"
    )
    assert "not-a-real-token" not in result.stdout + result.stderr
    assert saved(c) == (None, None)


def test_an_unreachable_server_exits_1_with_one_plain_line(c: Device):
    """Not bad input (2): the server cannot be used (1), said in words, not errno."""
    url = f"http://127.0.0.1:{free_port()}"
    result = c.run("login", url, "--token", "whatever")
    assert result.returncode == 1
    assert result.stderr == (
        f"pipetrack: error: cannot reach {url}: connection refused;"
        " check the URL and your network\n"
    )
    assert saved(c) == (None, None)


def test_an_unknown_host_name_is_said_so(c: Device):
    result = c.run("login", "http://pipetrack.invalid", "--token", "whatever")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("pipetrack: error: cannot reach http://pipetrack.invalid: unknown host")
    assert "Errno" not in line and line.endswith("check the URL and your network")


def test_a_plain_http_address_that_redirects_to_https_says_which_to_use(c: Device):
    with Portal(TO_HTTPS) as balancer:
        result = c.run("login", balancer.url, "--token", "whatever")
    https = balancer.url.replace("http://", "https://")
    assert result.returncode == 2
    assert result.stderr == (
        f"pipetrack: error: {balancer.url} redirects to https: log in with {https}\n"
    )
    assert saved(c) == (None, None)


@pytest.mark.parametrize("answer", ["page", "redirect", "511"])
def test_a_wifi_sign_in_page_says_the_login_did_not_happen(c: Device, answer: str):
    """Behind a hotel's sign-in page nothing "carries on": nothing was saved, and the
    user must sign in to the network, then log in again (exit 1: the server cannot be
    reached, as when unreachable)."""
    with Portal(answer) as portal:
        result = c.run("login", portal.url, "--token", "whatever")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"pipetrack: error: not logged in: something other than the pipetrack API answered"
        f" at {portal.url} (HTTP "
    )
    assert "sign in to the network, then run pipetrack login again" in line
    assert "or check the URL" in line and "carries on" not in line
    assert saved(c) == (None, None)


@pytest.mark.parametrize("url", ["ftp://example.com", "example.com", "http://"])
def test_a_url_that_is_not_http_exits_2(c: Device, url: str):
    result = c.run("login", url, "--token", "t")
    assert result.returncode == 2
    assert "is not an http:// or https:// URL" in result.stderr


def test_sync_without_login_exits_2(c: Device):
    for args in (("sync",), ("sync", "--once")):
        result = c.run(*args)
        assert result.returncode == 2
        assert result.stderr == (
            "pipetrack: error: not logged in - run pipetrack login URL --token T\n"
        )


def test_login_to_a_server_without_the_profiles_targets_is_refused(
    c: Device, server: ServerProcess, token: str, pg_cluster: PgCluster
):
    """A profile that synced with one team's server is not pointed at another's: its
    targets would mix with theirs and its queued changes would go to a server that does
    not have those targets. The same server under another URL has them, and passes."""
    assert c.run("login", server.url, "--token", token).returncode == 0
    assert c.run("add", "Acme Robotics").returncode == 0
    c.sync_once()
    assert c.run("set", "Acme Robotics", "Hot").returncode == 0  # queued, not pushed

    with server_on_new_database(pg_cluster) as other:
        result = c.run("login", other.url, "--token", other.add_user("carl"))

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"pipetrack: error: {other.url} does not hold this profile's")
    assert f"came from {server.url}" in line and "--home" in line
    assert saved(c) == (server.url, token)
    assert c.pending() == 1
    same = server.url.replace("127.0.0.1", "localhost")
    moved = c.run("login", same, "--token", token)
    assert moved.returncode == 0, moved.stderr
    assert saved(c) == (same, token)
