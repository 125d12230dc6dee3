"""A JupyterHub for a workshop on one machine: a teacher and a class, each with their own
JupyterLab and their own copy of the course, the teacher able to share their server (and so
lesson 09's chat page) with the class. The course's tests start exactly this file.

    export HTTPLAB_HUB_PASSWORD='pick-a-workshop-password'
    jupyterhub -f docs/classroom/jupyterhub_config.py     # then open http://127.0.0.1:8000

Run it from the course's virtual environment (`pip install -r requirements-dev.txt` brings
jupyterhub and nbgitpuller), with configurable-http-proxy from npm
(`npm install -g configurable-http-proxy@5.3.0`). Settings come from the environment:

| variable | meaning | default |
|---|---|---|
| HTTPLAB_HUB_PASSWORD | the one password everybody logs in with (dummy authenticator) | required |
| HTTPLAB_HUB_TEACHER | the teacher's user name | teacher |
| HTTPLAB_HUB_LEARNERS | the class, comma-separated; they form the group `class` | alice,bob |
| HTTPLAB_HUB_DIR | the hub's state: database, cookie secret, users' homes | ./hub-state |
| HTTPLAB_HUB_IP, HTTPLAB_HUB_PORT | where browsers reach the hub | 127.0.0.1, 8000 |
| HTTPLAB_HUB_API_PORT, HTTPLAB_PROXY_API_PORT | internal ports (hub API, proxy API) | 8081, 8001 |

To let a class on the same network in, set HTTPLAB_HUB_IP to the machine's LAN address.
The dummy authenticator (one shared password, any user name) suits a workshop on a trusted
network; for anything longer, use a real authenticator (OAuthenticator, NativeAuthenticator).
SimpleLocalProcessSpawner runs every user's server as the hub's own system user, each in a
home folder of its own under HTTPLAB_HUB_DIR: fine for a workshop, not an isolation boundary.
"""

import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (defined by JupyterHub when it loads this file)

COURSE = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("HTTPLAB_HUB_DIR", "hub-state")).resolve()
TEACHER = os.environ.get("HTTPLAB_HUB_TEACHER", "teacher")
LEARNERS = [n.strip() for n in os.environ.get("HTTPLAB_HUB_LEARNERS", "alice,bob").split(",")]
STATE.mkdir(parents=True, exist_ok=True)

# Where the hub listens, and the internal ports (pick free ones when several hubs share a host)
c.JupyterHub.ip = os.environ.get("HTTPLAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("HTTPLAB_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("HTTPLAB_HUB_API_PORT", "8081"))
PROXY_API_PORT = os.environ.get("HTTPLAB_PROXY_API_PORT", "8001")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# Who may log in: anybody with the workshop password; the class is a group
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ["HTTPLAB_HUB_PASSWORD"]
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {TEACHER}
c.JupyterHub.load_groups = {"class": {"users": LEARNERS}}
# Sharing (JupyterHub 5+): the teacher may share their own server and read the class group
SHARING = ["shares!user", "read:groups", "read:users:name"]
c.JupyterHub.load_roles = [{"name": "teacher-shares", "users": [TEACHER], "scopes": SHARING}]


def server_token_scopes(spawner) -> list[str]:
    """The scopes of $JUPYTERHUB_API_TOKEN in a user's server: JupyterHub's default ones, and
    for the teacher sharing too (so `httplab.classroom.share_with_group` works from a cell)."""
    default = ["users:activity!user", "access:servers!server"]
    return default + SHARING if spawner.user.name == TEACHER else default


c.Spawner.server_token_scopes = server_token_scopes

# Each user's server: JupyterLab from this environment, in a home of its own holding a copy
# of the course, opening at lesson 00
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
if os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]
c.Spawner.default_url = "/lab/tree/course/notebooks/00-start-here.ipynb"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.Spawner.environment = {"JUPYTER_PREFER_ENV_PATH": "1"}


def copy_course(spawner) -> None:
    """Give a new user their own copy of the course (kept as it is if it exists already)."""
    home = Path(spawner.home_dir_template.format(username=spawner.user.name))
    target = home / "course"
    if target.exists():
        return
    folders = ["notebooks", "exercises"] + (["solutions"] if spawner.user.name == TEACHER else [])
    for folder in folders:
        shutil.copytree(COURSE / folder, target / folder, ignore=shutil.ignore_patterns(".*"))


c.Spawner.pre_spawn_hook = copy_course
