"""A fresh profile's first pull, loaded without its secondary indexes.

A new device pulls the team's whole history (100,000 targets and their audit rows take
tens of pages). Inserting them while every sort index of the target list and the audit's
target index are kept up to date costs about a quarter of it: each page touches pages
of every index all over the file. So when a profile that holds nothing yet (no target,
no audit row, no change, no pull cursor) pulls a first page that says more follows, the
page's transaction also sets the secondary indexes aside (drops them and records their
``CREATE`` statements in ``meta``); the transaction of the page that says nothing more
follows builds them again, which is several times cheaper than keeping them.

Both steps ride on a page's own transaction, so a crash anywhere leaves either the
indexes or the record of them: the next pull carries on and builds them at its end.
In between everything works, only the list's sorts are slower. Unique indexes (the
constraints) and the name search (FTS, kept by its triggers) are never set aside.
"""

from __future__ import annotations

import json

from .context import Ctx

#: meta key: the ``CREATE INDEX`` statements set aside while a catch-up runs.
SET_ASIDE = "catchup_indexes"

_TABLES = ("targets", "audit", "target_markets")
_SECONDARY = f"""
SELECT name, sql FROM sqlite_master
WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
  AND tbl_name IN ({", ".join(f"'{t}'" for t in _TABLES)})
ORDER BY name
"""
_HOLDS_NOTHING = """
SELECT NOT EXISTS (SELECT 1 FROM targets) AND NOT EXISTS (SELECT 1 FROM audit)
   AND NOT EXISTS (SELECT 1 FROM outbox)
"""


def begin(ctx: Ctx, cursor_key: str) -> None:
    """Inside a pull page's write transaction, before it is applied: set the secondary
    indexes aside if this profile holds nothing yet and has never pulled."""
    if ctx.get_meta(cursor_key) is not None or ctx.get_meta(SET_ASIDE) is not None:
        return
    cursor = ctx.db.cursor()
    [(empty,)] = cursor.execute(_HOLDS_NOTHING).fetchall()
    if not empty:
        return
    indexes = cursor.execute(_SECONDARY).fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    ctx.set_meta(SET_ASIDE, json.dumps([sql for _, sql in indexes]))


def finish(ctx: Ctx) -> None:
    """Inside a write transaction: build the indexes set aside again (if any)."""
    statements = ctx.get_meta(SET_ASIDE)
    if statements is None:
        return
    cursor = ctx.db.cursor()
    for sql in json.loads(statements):
        cursor.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    ctx.m.meta.delete().where(ctx.m.meta.key == SET_ASIDE).execute()
