"""Lesson 05's checks: known-wrong answers are incorrect, with a message that names the fix;
correct answers written differently from the solutions pass."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest
import requests
from exercise_testing import assert_incorrect
from requests.adapters import HTTPAdapter

from httplab.checks import Outcome
from httplab.exercises.lesson05 import q1, q2, q3

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


def in_a_session(base_url, ids, client_id, read):
    """A right session; `read(session, url)` gives what is collected for each id."""
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        return [read(session, f"{base_url}/api/users/{i}") for i in ids]


def a_generator(base_url, ids, client_id):
    users = in_a_session(base_url, ids, client_id, lambda s, url: s.get(url, timeout=5).json())
    return (user for user in users)


def a_dict_by_id(base_url, ids, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        return {i: session.get(f"{base_url}/api/users/{i}", timeout=5).json() for i in ids}


def the_texts(base_url, ids, client_id):
    return in_a_session(base_url, ids, client_id, lambda s, url: s.get(url, timeout=5).text)


def one_listing(base_url, ids, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        listing = session.get(f"{base_url}/api/users", params={"per_page": 100}, timeout=5)
        users = {user["id"]: user for user in listing.json()["data"]}
    return [users[i] for i in ids]


def session_per_id(base_url, ids, client_id):
    users = []
    for user_id in ids:
        with requests.Session() as session:
            session.headers["X-Client-Id"] = client_id
            users.append(session.get(f"{base_url}/api/users/{user_id}", timeout=5).json())
    return users


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (session_per_id, "your 5 requests used 5 connections"),
        (a_generator, "you returned a generator: return a list of the users' JSON objects"),
        (a_dict_by_id, "you returned a dict: return a list"),
        (the_texts, "return a list of the users' JSON objects (`response.json()`)"),
        (one_listing, "the course API saw 1 request with your client id for 5 ids"),
        (without_session, "your 5 requests used 5 connections"),
        (without_client_id, "the course API saw no request with your client_id"),
        (header_on_each_call, "send X-Client-Id as a default header of the session"),
        (never_closed, "your function left 1 `requests.Session` open"),
        (deduplicated, "requests with your client id for 5 ids"),
        (sorted_ids, "in the order of ids"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def session_closed_by_hand(base_url, ids, client_id):
    """Correct too: close() in a finally, and update() for the default header."""
    session = requests.Session()
    try:
        session.headers.update({"X-Client-Id": client_id})
        return [session.get(f"{base_url}/api/users/{i}", timeout=(3, 5)).json() for i in ids]
    finally:
        session.close()


def test_q1_accepts_close_in_a_finally():
    result = q1.check(session_closed_by_hand)
    assert result.outcome is Outcome.CORRECT, result.message


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


def basic_auth_login(base_url, username, password, client_id):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.post(f"{base_url}/api/login", auth=(username, password), timeout=5)
        me = session.get(f"{base_url}/api/me", timeout=5)
        session.post(f"{base_url}/api/logout", timeout=5)
        return me.json()


def then(base_url, username, password, client_id, finish):
    """Logs in and reads /api/me rightly, then calls `finish(session, base_url, me)`."""
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        credentials = {"username": username, "password": password}
        session.post(f"{base_url}/api/login", json=credentials, timeout=5).raise_for_status()
        me = session.get(f"{base_url}/api/me", timeout=5)
        me.raise_for_status()
        return finish(session, base_url, me)


def logout_with_get(base_url, username, password, client_id):
    def finish(session, base, me):
        session.get(f"{base}/api/logout", timeout=5)
        return me.json()

    return then(base_url, username, password, client_id, finish)


def the_text(base_url, username, password, client_id):
    def finish(session, base, me):
        session.post(f"{base}/api/logout", timeout=5)
        return me.text

    return then(base_url, username, password, client_id, finish)


def me_twice(base_url, username, password, client_id):
    def finish(session, base, me):
        again = session.get(f"{base}/api/me", timeout=5).json()
        session.post(f"{base}/api/logout", timeout=5)
        return again

    return then(base_url, username, password, client_id, finish)


def clears_the_cookies(base_url, username, password, client_id):
    def finish(session, base, me):
        session.cookies.clear()
        return me.json()

    return then(base_url, username, password, client_id, finish)


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
        (no_logout, "log out at the end: `session.post(f'{base_url}/api/logout', timeout=5)`"),
        (basic_auth_login, "POST /api/login answered 400: send `json={'username': username"),
        (logout_with_get, "log out with POST, `session.post(f'{base_url}/api/logout'"),
        (the_text, 'for \'alice\' you returned \'{"username": "alice", "role": "user"}\''),
        (me_twice, "GET /api/me -> 200, GET /api/me -> 200, POST /api/logout -> 204; expected"),
        (clears_the_cookies, "log out at the end"),
        (no_raise_on_login, "with a wrong password /api/login answers 401, but your function"),
        (me_before_checking_login, "after a failed login send nothing more"),
        (me_before_checking_login, "call `raise_for_status()` on the login response"),
        (credentials_in_query, "POST /api/login answered 400"),
        (logout_first, "GET /api/me answered 401"),
        (username_only, "for 'alice' you returned 'alice'"),
        (session_left_open, "your function left 1 `requests.Session` open"),
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


def session_per_thread(base_url, paths, client_id, workers):
    local = threading.local()

    def fetch(path):
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["X-Client-Id"] = client_id
        return fetcher(local.session, base_url)(path)

    with ThreadPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(fetch, paths))


def pooled(base_url, paths, client_id, workers, adapter, executor, fetch=fetcher):
    """One session with `adapter` mounted, its requests run by `executor`."""
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.mount("http://", adapter)
        with executor:
            return list(executor.map(fetch(session, base_url), paths))


def the_responses(base_url, paths, client_id, workers):
    def fetch(session, base):
        return lambda path: session.get(base + path, timeout=5)

    adapter, executor = HTTPAdapter(pool_maxsize=workers), ThreadPoolExecutor(workers)
    return pooled(base_url, paths, client_id, workers, adapter, executor, fetch)


def blocking_default_pool(base_url, paths, client_id, workers):
    adapter, executor = HTTPAdapter(pool_block=True), ThreadPoolExecutor(workers)
    return pooled(base_url, paths, client_id, workers, adapter, executor)


def default_max_workers(base_url, paths, client_id, workers):
    adapter, executor = HTTPAdapter(pool_maxsize=workers), ThreadPoolExecutor()
    return pooled(base_url, paths, client_id, workers, adapter, executor)


def pool_connections_instead(base_url, paths, client_id, workers):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.mount("http://", HTTPAdapter(pool_connections=workers))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            return list(executor.map(fetcher(session, base_url), paths))


def mounted_for_https_only(base_url, paths, client_id, workers):
    with requests.Session() as session:
        session.headers["X-Client-Id"] = client_id
        session.mount("https://", HTTPAdapter(pool_maxsize=workers))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            return list(executor.map(fetcher(session, base_url), paths))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (pool_connections_instead, "your adapter has `pool_connections=12` but `pool_maxsize=10`"),
        (pool_connections_instead, "`pool_connections` is the number of pools, one per host"),
        (mounted_for_https_only, "the default adapter keeps 10 connections per host"),
        (session_per_thread, "your function opened 12 `requests.Session` objects: share one"),
        (the_responses, "you returned [<Response [200]>, <Response [200]>"),
        (blocking_default_pool, "no connection was thrown away, but the pool is smaller"),
        (default_max_workers, "for 12 threads: run them in `ThreadPoolExecutor(max_workers="),
        (sequential, "at most 1 request in flight at once"),
        (default_pool, "because the pool was full: the default adapter keeps 10 connections"),
        (too_many_threads, "more than `workers=12`"),
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
