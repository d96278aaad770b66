"""Who this profile's user is to the server, learnt once (``GET /v1/me``).

The server records every change under the authenticated user's name; the device records
its own changes under the same name from then on, instead of the OS login, so its
history and ``activity --by`` show one name for one person before and after a sync.
``login`` learns it; a daemon or ``sync --once`` of a profile logged in before asks once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from storage import Store

from .client import ApiError

log = logging.getLogger("syncd")


def learn_user_name(store: Store, me: Callable[[], str | None]) -> bool:
    """Ask the server (``me``: :meth:`ApiClient.me`) unless the store knows already;
    whether it is settled (a server without ``/v1/me`` settles it too: the OS login
    stays). A failure is left for the next round: the name is nothing the sync needs."""
    if store.user_name is not None:
        return True
    try:
        name = me()
    except ApiError as err:
        log.debug("could not ask the server who we are: %s", err)
        return False
    if name:
        store.set_user_name(name)
        log.info("the server knows this profile's user as %s", name)
    return True
