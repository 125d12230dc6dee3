"""The classroom on a real JupyterHub: the example configuration of docs/classroom, a real
configurable-http-proxy, three users logging in through the hub in Chromium.

- alice and bob each run lesson 09 in their own JupyterLab and see its chat page through
  jupyter-server-proxy;
- the teacher runs lesson 09 and shares their server with the group `class`: alice and bob
  open the teacher's chat page (confirming the hub's authorize page), and each sees the
  other's message; eve, outside the group, gets 403;
- the README's nbgitpuller link pulls the course from a local git repository.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from browser import (
    CHROMIUM,
    assert_clean,
    check_chat_page_in_the_notebook,
    execute_in_kernel,
    finish_run_all,
    start_run_all,
)
from jupyterlab_server import wait_until_answering, write_settings

from httplab.misbehaving import closed_port

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "docs" / "classroom" / "jupyterhub_config.py"
PROXY = shutil.which("configurable-http-proxy")
LESSON = "course/notebooks/09-websockets.ipynb"
SHARE_WITH_CLASS = """
from httplab import classroom
assert classroom.share_with_group("class") == ["alice", "bob", "carol"]
"""
USERS = ("alice", "bob", "teacher", "carol", "eve")
EXPOSE_APP = json.dumps({"LabApp": {"expose_app_in_browser": True}})

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or PROXY is None,
    reason="needs Chromium (`apt-get install chromium`) and configurable-http-proxy "
    "(`npm install -g configurable-http-proxy@5.3.0`); .ci/run installs both",
)


class Hub:
    def __init__(self, url: str, password: str, state: Path) -> None:
        self.url, self.password, self.state = url, password, state

    def home(self, user: str) -> Path:
        return self.state / "home" / user

    def login(self, browser, user: str, then: str):
        """A browser page logged in as `user` that has gone on to `then` (a path)."""
        page = self.start_login(browser, user, then)
        self.finish_login(page, then)
        return page

    def start_login(self, browser, user: str, then: str):
        """Submit the hub's login form as `user` in a new browser context, to go on to `then`
        (under /user/, through /hub/spawn, which starts the user's server); do not wait."""
        config = self.home(user) / ".jupyter"
        write_settings(config)  # no news pop-up, no autosave, every cell in the DOM
        (config / "jupyter_server_config.json").write_text(EXPOSE_APP)  # window.jupyterapp
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if then.startswith("/user/"):
            then = f"/hub/spawn?next={quote(then, safe='')}"
        page.goto(f"{self.url}hub/login?next={quote(then, safe='')}", timeout=30_000)
        page.fill("#username_input", user)
        page.fill("#password_input", self.password)
        page.click("#login_submit", no_wait_after=True)
        return page

    def finish_login(self, page, then: str) -> None:
        """Wait until the browser has arrived at `then`."""
        path = then.split("?")[0]
        page.wait_for_url(lambda url: urlsplit(url).path == path, timeout=60_000)

    def xsrf_headers(self, page) -> dict[str, str]:
        cookies = page.context.cookies(f"{self.url}hub/")
        return {"X-XSRFToken": next(c["value"] for c in cookies if c["name"] == "_xsrf")}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    state = tmp_path_factory.mktemp("hub")
    port, api_port, proxy_port = closed_port(), closed_port(), closed_port()
    password = secrets.token_hex(8)
    env = dict(
        os.environ,
        HTTPLAB_HUB_DIR=str(state),
        HTTPLAB_HUB_PASSWORD=password,
        HTTPLAB_HUB_PORT=str(port),
        HTTPLAB_HUB_API_PORT=str(api_port),
        HTTPLAB_PROXY_API_PORT=str(proxy_port),
        HTTPLAB_HUB_LEARNERS="alice,bob,carol",
    )
    env.pop("HTTPLAB_PROGRESS_FILE", None)  # each user keeps progress in their own home
    log = state / "jupyterhub.log"
    command = [str(Path(sys.executable).with_name("jupyterhub")), "-f", str(CONFIG)]
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=state, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_answering(process, f"{url}hub/api/", "JupyterHub", log)
        yield Hub(url, password, state)
    finally:
        process.terminate()  # the hub stops the users' servers and its proxy
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def chat_port(page) -> str:
    src = page.locator('iframe[src*="?name=screen"]').get_attribute("src")
    return re.search(r"/proxy/(\d+)/", src)[1]


def share(hub: Hub, teacher, whom: dict[str, str]) -> None:
    """The teacher shares their server through the hub's API (JupyterHub 5+ sharing)."""
    url = f"{hub.url}hub/api/shares/teacher/"
    response = teacher.request.post(url, data=whom, headers=hub.xsrf_headers(teacher))
    assert response.status == 200, response.text()


def join_shared_chat(hub: Hub, page, port: str, name: str) -> None:
    """Open the teacher's chat page as a class member: confirm the hub's authorize page on
    the first visit, then wait for the page to join the chat."""
    page.goto(f"{hub.url}user/teacher/proxy/{port}/?name={name}", timeout=30_000)
    authorize = page.locator("form button[type=submit], form input[type=submit]")
    if "/hub/api/oauth2/authorize" in page.url:
        authorize.first.click()
    page.locator("#status").filter(has_text=f"Connected as {name}.").wait_for(timeout=20_000)


def say(page, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#text").press("Enter")


def test_learners_run_lesson_09_and_join_the_teachers_shared_chat(hub, browser):
    # everybody logs in at once, as in a classroom; carol and eve need no server of their own
    lesson = {user: f"/user/{user}/lab/tree/{LESSON}" for user in ("alice", "bob", "teacher")}
    then = {**lesson, "carol": "/hub/home", "eve": "/hub/home"}
    pages = {user: hub.start_login(browser, user, then[user]) for user in then}
    for user, page in pages.items():
        hub.finish_login(page, then[user])
    for user in lesson:
        start_run_all(pages[user])
    for user in lesson:
        page = pages[user]
        state = finish_run_all(page, timeout_s=180)
        assert_clean(state, "09-websockets.ipynb")
        check_chat_page_in_the_notebook(page, f"/user/{user}/proxy/")
    teacher = pages["teacher"]
    learners = {user: pages[user] for user in ("alice", "bob")}
    port = chat_port(teacher)
    share(hub, teacher, {"group": "class"})
    # JupyterHub 6.1.1 leaves group shares out of the scopes of the token it issues for the
    # shared server (scopes.get_scopes_for counts owner.shared_with_me, not the groups'), so
    # the teacher's server still refuses a class member. If this starts to fail, upstream
    # fixed it: drop the per-member shares below and the note in docs/teachers-guide.md.
    # (carol shows it: the server would remember her refusal for minutes)
    refused = pages["carol"]
    refused.goto(f"{hub.url}user/teacher/proxy/{port}/?name=carol", timeout=30_000)
    refused.locator("form button[type=submit]").click()  # the hub's authorize page
    refused.get_by_text("user carol is not allowed").wait_for(timeout=10_000)
    # What the teacher's guide says to do instead, from a cell of the teacher's notebook
    execute_in_kernel(teacher, SHARE_WITH_CLASS)

    for user, page in learners.items():
        join_shared_chat(hub, page, port, user)
    say(learners["alice"], "hello from alice")
    learners["bob"].locator("#log").filter(has_text="hello from alice").wait_for(timeout=10_000)
    say(learners["bob"], "hello from bob")
    learners["alice"].locator("#log").filter(has_text="hello from bob").wait_for(timeout=10_000)

    outsider = pages["eve"]
    response = outsider.goto(f"{hub.url}user/teacher/proxy/{port}/?name=eve", timeout=30_000)
    assert response.status == 403, (response.status, outsider.url)


def test_the_readme_nbgitpuller_link_pulls_the_course(hub, browser, tmp_path):
    repo = tmp_path / "course-repo"
    shutil.copytree(ROOT / "notebooks", repo / "notebooks", ignore=shutil.ignore_patterns(".*"))
    git = ["git", "-C", str(repo), "-c", "user.name=Teacher", "-c", "user.email=t@example.com"]
    subprocess.run([*git[:3], "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "course"], check=True)
    lesson = "course-repo/notebooks/00-start-here.ipynb"
    link = f"/hub/user-redirect/git-pull?repo=file://{repo}&branch=main&urlpath=lab/tree/{lesson}"
    page = hub.start_login(browser, "alice", link)
    page.wait_for_url(re.compile(rf"/user/alice/lab/tree/{re.escape(lesson)}"), timeout=60_000)
    assert (hub.home("alice") / lesson).is_file()
