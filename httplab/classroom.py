"""The classroom on a JupyterHub: the teacher shares their server with the class.

    from httplab import classroom
    classroom.share_with_group("class")     # in a cell of the teacher's notebook on the hub

Each member of the group can then open `<hub>/user/<teacher>/proxy/<port>/`, for example the
chat page of lesson 09 (they confirm the hub's "Authorize access" page once). The shares are
made member by member: JupyterHub 6.1.1 honours a share with a whole group in the hub's own
pages but leaves it out of the token it issues for the shared server, which then refuses the
member. The server's own API token must hold `shares!user`, `read:groups` and
`read:users:name` (the example configuration, docs/classroom/jupyterhub_config.py, gives them
to the teacher's server).
"""

from __future__ import annotations

import os

import requests


def share_with_group(group: str, timeout: float = 5) -> list[str]:
    """Share this user's server with every member of `group`; return their names."""
    try:
        api, token = os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"]
        me, server = os.environ["JUPYTERHUB_USER"], os.environ.get("JUPYTERHUB_SERVER_NAME", "")
    except KeyError as missing:
        raise RuntimeError(f"not running on a JupyterHub ({missing} is not set)") from None
    with requests.Session() as hub:
        hub.headers["Authorization"] = f"token {token}"
        members = hub.get(f"{api}/groups/{group}", timeout=timeout)
        members.raise_for_status()
        names = [name for name in members.json()["users"] if name != me]
        for name in names:
            shared = hub.post(f"{api}/shares/{me}/{server}", json={"user": name}, timeout=timeout)
            shared.raise_for_status()
    return names
