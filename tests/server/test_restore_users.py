"""After a restore, users and tokens are as they were at the backup: a user disabled (or
a token replaced) since works again. Nothing can tell which; the admin is told so,
where a restore is noticed (the server's log) and by ``admin reset-cursors``."""

from __future__ import annotations

from server.migrate import apply_migrations

from .client import Device
from .test_admin_cli import pipetrack
from .test_restore_in_place import _dump, _restore_clean

ADVICE = (
    "users and tokens are as they were at the backup: a user disabled or a token replaced"
    " since works again, so repeat every `pipetrack admin disable-user` and `new-token`"
    " done since the backup"
)


def test_a_noticed_restore_warns_that_disabled_users_work_again(server, make_user, tmp_path):
    token = make_user("zed")
    _dump(server.database_url, tmp_path / "backup.dump")
    disabled = pipetrack("admin", "disable-user", "zed", "--database-url", server.database_url)
    assert disabled.returncode == 0, disabled.stderr
    with Device(server, token) as zed:
        assert zed.http.get("/v1/me").status_code == 401

        server.stop()
        _restore_clean(server.database_url, tmp_path / "backup.dump")
        server.start()

        assert zed.http.get("/v1/me").status_code == 200  # what the warning is about
    [line] = [x for x in server.log_text().splitlines() if "is a copy of another" in x]
    assert " WARNING " in line and line.endswith(ADVICE), line


def test_reset_cursors_says_to_repeat_disables_and_new_tokens(database_url):
    apply_migrations(database_url)
    reset = pipetrack("admin", "reset-cursors", "--database-url", database_url)
    assert reset.returncode == 0, reset.stderr
    assert reset.stderr.strip().splitlines()[-1] == f"after a restore, {ADVICE}"
