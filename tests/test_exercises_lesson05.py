"""Lesson 05's checks: each fails on the stub and on known-wrong answers, passes on the
solution and on correct alternatives."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest
import requests
from nbcode import load
from requests.adapters import HTTPAdapter

from httplab.checks import Outcome
from httplab.exercises.lesson05 import q1, q2, q3

NOTEBOOK = "05-sessions.ipynb"
EXERCISES = [(q1, "get_users"), (q2, "whoami"), (q3, "fetch_concurrently")]


@pytest.mark.parametrize(("exercise", "name"), EXERCISES)
def test_solution_passes(exercise, name):
    result = exercise.check(load("solutions", NOTEBOOK, name))
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(("exercise", "name"), EXERCISES)
def test_stub_is_not_attempted(exercise, name):
    result = exercise.check(load("exercises", NOTEBOOK, name))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


def assert_incorrect(result, message):
    assert result.outcome is Outcome.INCORRECT, result.message
    assert message in result.message


# --- exercise 1 -------------------------------------------------------------------------------


def without_session(base_url, ids, client_id):
    headers = {"X-Client-Id": client_id}
    return [
        requests.get(f"{base_url}/api/users/{i}", headers=headers, timeout=5).json() for i in ids
    ]


def without_client_id(base_url, ids, client_id):
    with requests.Session() as session:
        return [session.get(f"{base_url}/api/users/{i}", timeout=5).json() for i in ids]


def header_on_each_call(base_url, ids, client_id):
    headers = {"X-Client-Id": client_id}
    with requests.Session() as session:
        return [
            session.get(f"{base_url}/api/users/{i}", headers=headers, timeout=5).json() for i in ids
        ]


def never_closed(base_url, ids, client_id):
    session = requests.Session()
    session.headers["X-Client-Id"] = client_id
    return [session.get(f"{base_url}/api/users/{i}", timeout=5).json() for i in ids]


def deduplicated(base_url, ids, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        return [session.get(f"{base_url}/api/users/{i}", timeout=5).json() for i in set(ids)]


def sorted_ids(base_url, ids, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        return [session.get(f"{base_url}/api/users/{i}", timeout=5).json() for i in sorted(ids)]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (without_session, "your 5 requests used 5 connections"),
        (without_client_id, "the course API saw no request with your client_id"),
        (header_on_each_call, "send X-Client-Id as a default header of the session"),
        (never_closed, "your function left 1 requests.Session open"),
        (deduplicated, "requests with your client id for 5 ids"),
        (sorted_ids, "in the order of ids"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


# --- exercise 2 -------------------------------------------------------------------------------


def login_without_session(base_url, username, password, client_id):
    headers = {"X-Client-Id": client_id}
    body = {"username": username, "password": password}
    requests.post(f"{base_url}/api/login", json=body, headers=headers, timeout=5).raise_for_status()
    me = requests.get(f"{base_url}/api/me", headers=headers, timeout=5)
    me.raise_for_status()
    requests.post(f"{base_url}/api/logout", headers=headers, timeout=5)
    return me.json()


def cookie_by_hand(base_url, username, password, client_id):
    headers = {"X-Client-Id": client_id}
    body = {"username": username, "password": password}
    login = requests.post(f"{base_url}/api/login", json=body, headers=headers, timeout=5)
    login.raise_for_status()
    me = requests.get(f"{base_url}/api/me", headers=headers, cookies=login.cookies, timeout=5)
    requests.post(f"{base_url}/api/logout", headers=headers, cookies=login.cookies, timeout=5)
    return me.json()


def flow(base_url, username, password, client_id, *, logout=True, raise_login=True, body="json"):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        credentials = {"username": username, "password": password}
        if body == "json":
            login = session.post(f"{base_url}/api/login", json=credentials, timeout=5)
        else:
            login = session.post(f"{base_url}/api/login", params=credentials, timeout=5)
        if raise_login:
            login.raise_for_status()
        me = session.get(f"{base_url}/api/me", timeout=5)
        if logout:
            session.post(f"{base_url}/api/logout", timeout=5)
        return me.json()


def no_logout(base_url, username, password, client_id):
    return flow(base_url, username, password, client_id, logout=False)


def no_raise_on_login(base_url, username, password, client_id):
    return flow(base_url, username, password, client_id, raise_login=False)


def credentials_in_query(base_url, username, password, client_id):
    return flow(base_url, username, password, client_id, body="query")


def me_before_checking_login(base_url, username, password, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        credentials = {"username": username, "password": password}
        login = session.post(f"{base_url}/api/login", json=credentials, timeout=5)
        me = session.get(f"{base_url}/api/me", timeout=5)
        login.raise_for_status()
        session.post(f"{base_url}/api/logout", timeout=5)
        return me.json()


def logout_first(base_url, username, password, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        credentials = {"username": username, "password": password}
        session.post(f"{base_url}/api/login", json=credentials, timeout=5).raise_for_status()
        session.post(f"{base_url}/api/logout", timeout=5)
        me = session.get(f"{base_url}/api/me", timeout=5)
        return me.json()


def username_only(base_url, username, password, client_id):
    return flow(base_url, username, password, client_id)["username"]


def session_left_open(base_url, username, password, client_id):
    session = requests.Session()
    session.headers["X-Client-Id"] = client_id
    credentials = {"username": username, "password": password}
    session.post(f"{base_url}/api/login", json=credentials, timeout=5).raise_for_status()
    me = session.get(f"{base_url}/api/me", timeout=5).json()
    session.post(f"{base_url}/api/logout", timeout=5)
    return me


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (login_without_session, "GET /api/me answered 401: the session cookie"),
        (cookie_by_hand, "your 3 requests used 3 connections"),
        (no_logout, "log out at the end: POST /api/logout"),
        (no_raise_on_login, "with a wrong password /api/login answers 401, but your function"),
        (me_before_checking_login, "after a failed login send nothing more"),
        (credentials_in_query, "POST /api/login answered 400"),
        (logout_first, "GET /api/me answered 401"),
        (username_only, "for 'alice' you returned 'alice'"),
        (session_left_open, "your function left 1 requests.Session open"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def logout_in_finally(base_url, username, password, client_id):
    """Correct too: the logout in a finally, and an HTTPError raised by hand."""
    with requests.Session() as session:
        session.headers.update({"X-Client-Id": client_id})
        credentials = {"username": username, "password": password}
        login = session.post(f"{base_url}/api/login", json=credentials, timeout=5)
        if login.status_code != 200:
            raise requests.HTTPError(f"login failed: {login.status_code}")  # no response attached
        try:
            return session.get(f"{base_url}/api/me", timeout=5).json()
        finally:
            session.post(f"{base_url}/api/logout", timeout=5)


def test_q2_accepts_a_finally_and_a_hand_made_http_error():
    result = q2.check(logout_in_finally)
    assert result.outcome is Outcome.CORRECT, result.message


# --- exercise 3 -------------------------------------------------------------------------------


def fetcher(session, base_url):
    def fetch(path):
        response = session.get(base_url + path, timeout=5)
        response.raise_for_status()
        return response.json()

    return fetch


def sequential(base_url, paths, client_id, workers):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        return [fetcher(session, base_url)(path) for path in paths]


def default_pool(base_url, paths, client_id, workers):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        with ThreadPoolExecutor(max_workers=workers) as executor:
            return list(executor.map(fetcher(session, base_url), paths))


def too_many_threads(base_url, paths, client_id, workers):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.mount("http://", HTTPAdapter(pool_maxsize=len(paths)))
        with ThreadPoolExecutor(max_workers=len(paths)) as executor:
            return list(executor.map(fetcher(session, base_url), paths))


def completion_order(base_url, paths, client_id, workers):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.mount("http://", HTTPAdapter(pool_maxsize=workers))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = [executor.submit(fetcher(session, base_url), path) for path in paths]
            return [future.result() for future in as_completed(futures)]


def session_per_request(base_url, paths, client_id, workers):
    def fetch(path):
        with requests.Session() as session:
            session.headers["X-Client-Id"] = client_id
            return fetcher(session, base_url)(path)

    with ThreadPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(fetch, paths))


def plain_requests_get(base_url, paths, client_id, workers):
    def fetch(path):
        headers = {"X-Client-Id": client_id}
        return requests.get(base_url + path, headers=headers, timeout=5).json()

    with ThreadPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(fetch, paths))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (sequential, "at most 1 request(s) were in flight at once"),
        (default_pool, "connection(s) because the pool was full: the default pool keeps 10"),
        (too_many_threads, "more than workers=12"),
        (completion_order, "the right bodies in the wrong order"),
        (session_per_request, "share one session among the threads"),
        (plain_requests_get, "share one session among the threads"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def threads_by_hand(base_url, paths, client_id, workers):
    """Correct too: threads of its own, a blocking pool mounted on the base URL."""
    results = [None] * len(paths)
    todo = list(enumerate(paths))
    lock = threading.Lock()
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.mount(base_url, HTTPAdapter(pool_maxsize=workers, pool_block=True))

        def work():
            while True:
                with lock:
                    if not todo:
                        return
                    index, path = todo.pop(0)
                results[index] = fetcher(session, base_url)(path)

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return results


def test_q3_accepts_threads_by_hand():
    result = q3.check(threads_by_hand)
    assert result.outcome is Outcome.CORRECT, result.message
