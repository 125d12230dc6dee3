"""Lesson 04's checks: known-wrong answers are incorrect, with a message that names the fix;
correct answers written differently from the solutions pass."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import httpx
import pytest
import requests
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson04 import q1, q2, q3

# --- exercise 1 -------------------------------------------------------------------------------


def basic_on_private(base_url, username, password):
    response = requests.get(f"{base_url}/api/private", auth=(username, password), timeout=5)
    response.raise_for_status()
    return response.json()["username"]


def token_scheme(base_url, username, password):
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    issued.raise_for_status()
    token = issued.json()["access_token"]
    headers = {"Authorization": f"Token {token}"}
    response = requests.get(f"{base_url}/api/private", headers=headers, timeout=5)
    response.raise_for_status()
    return response.json()["username"]


def token_with_get(base_url, username, password):
    issued = requests.get(f"{base_url}/api/token", auth=(username, password), timeout=5)
    issued.raise_for_status()
    return issued.json()["access_token"]


def credentials_as_json(base_url, username, password):
    body = {"username": username, "password": password}
    issued = requests.post(f"{base_url}/api/token", json=body, timeout=5)
    issued.raise_for_status()
    return issued.json()["access_token"]


def cookie_login(base_url, username, password):
    body = {"username": username, "password": password}
    login = requests.post(f"{base_url}/api/login", json=body, timeout=5)
    login.raise_for_status()
    me = requests.get(f"{base_url}/api/me", cookies=login.cookies, timeout=5)
    return me.json()["username"]


def returns_none_on_failure(base_url, username, password):
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    if not issued.ok:
        return None
    token = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{base_url}/api/private", headers=headers, timeout=5).json()["username"]


def never_raises_for_status(base_url, username, password):
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    token = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{base_url}/api/private", headers=headers, timeout=5).json()["username"]


def returns_the_json(base_url, username, password):
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    issued.raise_for_status()
    headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    return requests.get(f"{base_url}/api/private", headers=headers, timeout=5).json()


def token_then(base_url, username, password, use):
    """Gets a token correctly, then reads /api/private with `use(base_url, token)`."""
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    issued.raise_for_status()
    private = use(base_url, issued.json()["access_token"])
    private.raise_for_status()
    return private.json()["username"]


def token_in_the_query(base_url, username, password):
    def use(base, token):
        return requests.get(f"{base}/api/private", params={"access_token": token}, timeout=5)

    return token_then(base_url, username, password, use)


def token_without_scheme(base_url, username, password):
    def use(base, token):
        return requests.get(f"{base}/api/private", headers={"Authorization": token}, timeout=5)

    return token_then(base_url, username, password, use)


def token_as_basic_password(base_url, username, password):
    def use(base, token):
        return requests.get(f"{base}/api/private", auth=(username, token), timeout=5)

    return token_then(base_url, username, password, use)


def post_to_private(base_url, username, password):
    def use(base, token):
        headers = {"Authorization": f"Bearer {token}"}
        return requests.post(f"{base}/api/private", headers=headers, timeout=5)

    return token_then(base_url, username, password, use)


def wrong_key(base_url, username, password):
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    issued.raise_for_status()
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    return requests.get(f"{base_url}/api/private", headers=headers, timeout=5).json()["username"]


def unchecked_token(base_url, username, password):
    issued = requests.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
    token = issued.json().get("access_token")
    headers = {"Authorization": f"Bearer {token}"}
    private = requests.get(f"{base_url}/api/private", headers=headers, timeout=5)
    private.raise_for_status()
    return private.json()["username"]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (unchecked_token, "after the 401 of `POST /api/token` your function still called"),
        (unchecked_token, "call `raise_for_status()` on the token response before reading"),
        (token_in_the_query, "send the token in the header `Authorization: Bearer <token>`"),
        (token_without_scheme, "send the token in the header `Authorization: Bearer <token>`"),
        (token_as_basic_password, "GET /api/private answered 401: send the token in the header"),
        (post_to_private, "your function sent POST /api/private: read it with GET"),
        (wrong_key, "raised KeyError: 'token': the token endpoint answers"),
        (wrong_key, "read the token with `response.json()['access_token']`"),
        (basic_on_private, "your function never asked for a token"),
        (cookie_login, "your function never asked for a token"),
        (token_with_get, "a token is issued by POST /api/token, your function sent GET"),
        (credentials_as_json, "POST /api/token answered 401: send the username and password"),
        (token_scheme, "send the token in the header `Authorization: Bearer <token>`"),
        (returns_none_on_failure, "but your function returned None"),
        (never_raises_for_status, "with a wrong password your function raised KeyError"),
        (returns_the_json, "for 'alice' you returned {'username': 'alice'}"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def session_with_auth_object(base_url, username, password):
    """Correct too: a Session, an auth object, and an HTTPError raised by hand."""
    with requests.Session() as session:
        issued = session.post(f"{base_url}/api/token", auth=(username, password), timeout=5)
        if issued.status_code != 200:
            raise requests.HTTPError(f"no token: {issued.status_code}")  # no response attached
        session.auth = BearerAuth(issued.json()["access_token"])
        private = session.get(f"{base_url}/api/private", timeout=5)
        private.raise_for_status()
        return private.json()["username"]


def test_q1_accepts_a_session_and_a_hand_made_http_error():
    result = q1.check(session_with_auth_object)
    assert result.outcome is Outcome.CORRECT, result.message


# --- exercise 2 -------------------------------------------------------------------------------


def as_json(url, title, csv_text):
    body = {"title": title, "report": csv_text}
    response = requests.post(url, params={"version": 2}, json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def as_form(url, title, csv_text):
    body = {"title": title, "report": csv_text}
    response = requests.post(url, params={"version": 2}, data=body, timeout=10)
    response.raise_for_status()
    return response.json()


def with_put(url, title, csv_text):
    files = {"report": ("report.csv", csv_text, "text/csv")}
    response = requests.put(
        url, params={"version": 2}, data={"title": title}, files=files, timeout=10
    )
    response.raise_for_status()
    return response.json()


def upload(url, data, files, params=None):
    params = {"version": 2} if params is None else params
    response = requests.post(url, params=params, data=data, files=files, timeout=10)
    response.raise_for_status()
    return response.json()


def no_version(url, title, csv_text):
    return upload(url, {"title": title}, {"report": ("report.csv", csv_text, "text/csv")}, {})


def bare_file(url, title, csv_text):
    return upload(url, {"title": title}, {"report": csv_text})


def octet_stream(url, title, csv_text):
    files = {"report": ("report.csv", csv_text, "application/octet-stream")}
    return upload(url, {"title": title}, files)


def title_as_file(url, title, csv_text):
    files = {"title": ("title.txt", title), "report": ("report.csv", csv_text, "text/csv")}
    return upload(url, None, files)


def latin1_content(url, title, csv_text):
    files = {"report": ("report.csv", csv_text.encode("latin-1"), "text/csv")}
    return upload(url, {"title": title}, files)


def returns_status(url, title, csv_text):
    files = {"report": ("report.csv", csv_text, "text/csv")}
    response = requests.post(
        url, params={"version": 2}, data={"title": title}, files=files, timeout=10
    )
    return response.status_code


def no_content_type(url, title, csv_text):
    return upload(url, {"title": title}, {"report": ("report.csv", csv_text)})


def version_in_the_body(url, title, csv_text):
    files = {"report": ("report.csv", csv_text, "text/csv")}
    return upload(url, {"title": title, "version": 2}, files, {})


def content_type_by_hand(url, title, csv_text):
    response = requests.post(
        url,
        params={"version": 2},
        data={"title": title},
        files={"report": ("report.csv", csv_text, "text/csv")},
        headers={"Content-Type": "multipart/form-data"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def field_named_after_the_file(url, title, csv_text):
    return upload(url, {"title": title}, {"report.csv": ("report.csv", csv_text, "text/csv")})


def returns_the_text(url, title, csv_text):
    files = {"report": ("report.csv", csv_text, "text/csv")}
    response = requests.post(
        url, params={"version": 2}, data={"title": title}, files=files, timeout=10
    )
    response.raise_for_status()
    return response.text


def title_as_unnamed_part(url, title, csv_text):
    """Correct too: a part without a filename is a plain text field."""
    files = {"title": (None, title), "report": ("report.csv", csv_text, "text/csv")}
    return upload(url, None, files)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_content_type, "the file part's Content-Type was None: give 'text/csv' as the third"),
        (version_in_the_body, "the query parameter version was missing: add `params="),
        (content_type_by_hand, "do not set Content-Type yourself; with `files=` requests"),
        (field_named_after_the_file, "no file field named 'report' arrived (file fields:"),
        (returns_the_text, "return `response.json()`, the server's answer"),
        (as_json, "the body arrived as JSON"),
        (as_form, "the body arrived as an urlencoded form"),
        (with_put, "the server received a PUT request: an upload is a POST"),
        (no_version, "the query parameter version was missing"),
        (bare_file, "the file part's filename was 'report'"),
        (octet_stream, "the file part's Content-Type was 'application/octet-stream'"),
        (title_as_file, "title arrived as a file part"),
        (latin1_content, "the file's content differs from csv_text"),
        (returns_status, "the upload arrived, but you returned 201"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def test_q2_accepts_a_title_sent_as_a_part_without_filename():
    result = q2.check(title_as_unnamed_part)
    assert result.outcome is Outcome.CORRECT, result.message


def with_httpx(url, title, csv_text):
    """Correct too: httpx builds the same multipart body (bytes content, query in the URL)."""
    files = {"report": ("report.csv", csv_text.encode(), "text/csv")}
    response = httpx.post(f"{url}?version=2", data={"title": title}, files=files, timeout=10)
    response.raise_for_status()
    return response.json()


def test_q2_accepts_httpx():
    result = q2.check(with_httpx)
    assert result.outcome is Outcome.CORRECT, result.message


# --- exercise 3 -------------------------------------------------------------------------------


def whole_body(url, path):
    response = requests.get(url, timeout=(3, 30))
    response.raise_for_status()
    digest = hashlib.sha256(response.content).hexdigest()
    if digest != response.headers["X-Checksum-SHA256"]:
        raise ValueError("checksum mismatch")
    Path(path).write_bytes(response.content)
    return digest


def streamed(url, path, *, checksum, delete=True, check_status_first=True, hexdigest=True):
    """A streamed download with one of its duties switched off."""
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        if check_status_first:
            response.raise_for_status()
        with open(path, "wb") as file:
            response.raise_for_status()
            for chunk in response.iter_content(chunk_size=64 * 1024):
                file.write(chunk)
                digest.update(chunk)
        expected = response.headers["X-Checksum-SHA256"]
    if checksum == "assert":
        assert digest.hexdigest() == expected
    elif checksum and digest.hexdigest() != expected:
        if delete:
            Path(path).unlink()
        raise ValueError("checksum mismatch")
    return digest.hexdigest() if hexdigest else digest.digest()


def no_verification(url, path):
    return streamed(url, path, checksum=False)


def assert_instead_of_raise(url, path):
    return streamed(url, path, checksum="assert")


def keeps_corrupted_file(url, path):
    return streamed(url, path, checksum=True, delete=False)


def opens_file_before_status(url, path):
    return streamed(url, path, checksum=True, check_status_first=False)


def returns_raw_digest(url, path):
    return streamed(url, path, checksum=True, hexdigest=False)


def ignores_status(url, path):
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        if not response.ok:
            return None
    return streamed(url, path, checksum=True)


def header_before_status(url, path):
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.headers["X-Checksum-SHA256"]
    return streamed(url, path, checksum=True)


def drops_last_chunk(url, path):
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.raise_for_status()
        chunks = response.iter_content(chunk_size=64 * 1024)
        digest = hashlib.sha256()
        with open(path, "wb") as file:
            previous = None
            for chunk in chunks:
                if previous is not None:
                    file.write(previous)
                digest.update(chunk)
                previous = chunk
        return digest.hexdigest()


def chunk_size_none(url, path):
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.raise_for_status()
        expected = response.headers["X-Checksum-SHA256"]
        with open(path, "wb") as file:
            for chunk in response.iter_content(chunk_size=None):
                file.write(chunk)
                digest.update(chunk)
    if digest.hexdigest() != expected:
        Path(path).unlink()
        raise ValueError("checksum mismatch")
    return digest.hexdigest()


def verified(data, expected, path):
    """Checks data against the expected digest, then writes it: right, given all the data."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ValueError("checksum mismatch")
    Path(path).write_bytes(data)
    return digest


def streamed_then_content(url, path):
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.raise_for_status()
        return verified(response.content, response.headers["X-Checksum-SHA256"], path)


def raw_read_at_once(url, path):
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.raise_for_status()
        return verified(response.raw.read(), response.headers["X-Checksum-SHA256"], path)


def upper_case_digest(url, path):
    return streamed(url, path, checksum=True).upper()


def raises_exception(url, path):
    try:
        return streamed(url, path, checksum=True)
    except ValueError:
        raise Exception("checksum mismatch") from None


def text_mode(url, path):
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.raise_for_status()
        with open(path, "w") as file:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                file.write(chunk)
                digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (streamed_then_content, "held at least half of the 6 MiB body in memory at once"),
        (raw_read_at_once, "(never `response.content` or `response.text`)"),
        (upper_case_digest, "you returned the SHA-256 in upper case: return it as `digest."),
        (raises_exception, "on a checksum mismatch raise ValueError, not Exception"),
        (text_mode, "open the file in binary mode, `open(path, 'wb')`; the chunks are bytes"),
        (chunk_size_none, "with `chunk_size=None`, `iter_content` returns the whole body as one"),
        (whole_body, "held at least half of the 6 MiB body in memory at once"),
        (no_verification, "a corrupted body did not match its X-Checksum-SHA256"),
        (assert_instead_of_raise, "raise ValueError, not AssertionError (assert statements"),
        (keeps_corrupted_file, "the corrupted file is still there"),
        (opens_file_before_status, "your function created the file anyway"),
        (returns_raw_digest, "return the SHA-256 as a hex string"),
        (ignores_status, "the server answered 400 Bad Request, but your function returned None"),
        (header_before_status, "for a 400 response your function raised KeyError"),
        (drops_last_chunk, "the file has 6291456 bytes, the body has 6303801"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def copy_raw_then_hash_the_file(url, path):
    """Correct too: shutil.copyfileobj from the raw stream, then the file hashed from disk."""
    with requests.get(url, stream=True, timeout=(3, 30)) as response:
        response.raise_for_status()
        expected = response.headers["X-Checksum-SHA256"]
        response.raw.decode_content = True
        with open(path, "wb") as file:
            shutil.copyfileobj(response.raw, file)
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if digest != expected:
        Path(path).unlink()
        raise ValueError("checksum mismatch")
    return digest


def test_q3_accepts_copyfileobj_and_hashing_the_file():
    result = q3.check(copy_raw_then_hash_the_file)
    assert result.outcome is Outcome.CORRECT, result.message
