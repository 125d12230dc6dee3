"""Lesson 14's checks reject the classic mistakes: verification turned off, every SSLError
called "expired", the default store trusted instead of (or as well as) the given CA, no
timeout, a server-side context, the key and certificate swapped, hosts compared without
ports, an http to https upgrade treated as the same origin, credentials dropped everywhere
or not at all."""

from __future__ import annotations

import socket
import ssl
import warnings
from urllib.parse import urlparse, urlsplit

import certifi
import httpx
import pytest
import requests
import truststore
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson14 import q1, q2, q3

# --- 14.1 diagnose ---------------------------------------------------------------------------


def verification_off(url, cafile):
    httpx.get(url, verify=False, timeout=5)
    return "fine"


def every_ssl_error_is_expired(url, cafile):
    try:
        requests.get(url, verify=cafile, timeout=5)
    except requests.exceptions.SSLError:
        return "expired"
    return "fine"


def default_store(url, cafile):
    try:
        httpx.get(url, timeout=5)
    except httpx.ConnectError as exc:
        text = str(exc)
        if "expired" in text:
            return "expired"
        if "mismatch" in text:
            return "hostname mismatch"
        return "unknown CA"
    return "fine"


def hostname_only_for_names(url, cafile):
    try:
        requests.get(url, verify=cafile, timeout=5)
    except requests.exceptions.SSLError as exc:
        text = str(exc)
        if "certificate has expired" in text:
            return "expired"
        if "Hostname mismatch" in text:
            return "hostname mismatch"
        return "unknown CA"
    return "fine"


def self_signed_is_special(url, cafile):
    try:
        requests.get(url, verify=cafile, timeout=5)
    except requests.exceptions.SSLError as exc:
        text = str(exc)
        if "self-signed" in text:
            return "self-signed"
        if "expired" in text:
            return "expired"
        if "mismatch" in text:
            return "hostname mismatch"
        return "unknown CA"
    return "fine"


def always_the_lab_ca(url, cafile):
    from httplab import tls

    try:
        requests.get(url, verify=tls.ca_file(), timeout=5)
    except requests.exceptions.SSLError as exc:
        text = str(exc)
        if "expired" in text:
            return "expired"
        if "mismatch" in text:
            return "hostname mismatch"
        return "unknown CA"
    return "fine"


def no_timeout(url, cafile):
    try:
        requests.get(url, verify=cafile)  # noqa: S113 (the mistake under test)
    except requests.exceptions.SSLError as exc:
        error = exc
        while not isinstance(error, ssl.SSLCertVerificationError):
            error = error.__context__
        return {10: "expired", 62: "hostname mismatch", 64: "hostname mismatch"}.get(
            error.verify_code, "unknown CA"
        )
    return "fine"


def only_expired_handled(url, cafile):
    try:
        requests.get(url, verify=cafile, timeout=5)
    except requests.exceptions.SSLError as exc:
        if "certificate has expired" in str(exc):
            return "expired"
        raise  # "the other errors will show up on their own"
    return "fine"


def default_store_and_cafile(url, cafile):
    context = ssl.create_default_context()  # the system's CAs...
    context.load_verify_locations(cafile)  # ...and the one I was given
    try:
        httpx.get(url, verify=context, timeout=5)
    except httpx.ConnectError as exc:
        message = str(exc)
        if "expired" in message:
            return "expired"
        if "mismatch" in message:
            return "hostname mismatch"
        return "unknown CA"
    return "fine"


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (verification_off, "never turn verification off (`verify=False`"),
        (every_ssl_error_is_expired, "instead of giving one answer to every `SSLError`"),
        (default_store, "trust exactly the CA file you were given: `verify=cafile`"),
        (hostname_only_for_names, "for an IP address OpenSSL says 'IP address mismatch'"),
        (self_signed_is_special, "a self-signed certificate is its own unknown CA"),
        (always_the_lab_ca, "trust exactly the CA file you were given"),
        (no_timeout, "Give the request a timeout: `requests.get(url, verify=cafile, timeout=5)`"),
        (default_store_and_cafile, "your function trusts more than `cafile`"),
        (only_expired_handled, "(host='127.0.0.1', port=PORT)"),  # stable: no port, no path
        (only_expired_handled, "catch the client's exception"),
    ],
)
def test_diagnose_rejects(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def diagnose_with_httpx_words(url, cafile):
    """Correct too: httpx with an explicit context, reading the verify_message."""
    context = ssl.create_default_context(cafile=cafile)
    try:
        httpx.get(url, verify=context, timeout=5)
    except httpx.ConnectError as exc:
        error = exc.__cause__
        while error is not None and not isinstance(error, ssl.SSLCertVerificationError):
            error = error.__cause__ or error.__context__
        message = error.verify_message
        if "expired" in message:
            return "expired"
        if "mismatch" in message:
            return "hostname mismatch"
        return "unknown CA"
    return "fine"


def diagnose_on_a_socket(url, cafile):
    """Correct too: the handshake on a plain socket, no HTTP client at all."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=cafile)
    try:
        with (
            socket.create_connection((parts.hostname, parts.port or 443), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=parts.hostname),
        ):
            pass
    except ssl.SSLCertVerificationError as exc:
        names = {10: "expired", 62: "hostname mismatch", 64: "hostname mismatch"}
        return names.get(exc.verify_code, "unknown CA")
    return "fine"


@pytest.mark.parametrize("answer", [diagnose_with_httpx_words, diagnose_on_a_socket])
def test_diagnose_correct_alternative(answer):
    result = q1.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 14.2 mtls_context ----------------------------------------------------------------------


def no_client_certificate(cafile, certfile, keyfile):
    return ssl.create_default_context(cafile=cafile)


def system_store_too(cafile, certfile, keyfile):
    context = ssl.create_default_context()
    context.load_verify_locations(cafile)
    context.load_cert_chain(certfile, keyfile)
    return context


def verification_off_context(cafile, certfile, keyfile):
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(certfile, keyfile)
    return context


def server_purpose(cafile, certfile, keyfile):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=cafile)
    context.load_cert_chain(certfile, keyfile)
    return context


def old_versions_too(cafile, certfile, keyfile):
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1  # "for compatibility"
    context.load_cert_chain(certfile, keyfile)
    return context


def with_truststore(cafile, certfile, keyfile):
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    context.load_cert_chain(certfile, keyfile)
    return context


def no_host_names(cafile, certfile, keyfile):
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    context.load_cert_chain(certfile, keyfile)
    return context


def certifi_too(cafile, certfile, keyfile):
    context = ssl.create_default_context(cafile=certifi.where())  # "the usual CAs"
    context.load_verify_locations(cafile)
    context.load_cert_chain(certfile, keyfile)
    return context


def key_before_certificate(cafile, certfile, keyfile):
    context = ssl.create_default_context(cafile=cafile)
    context.load_cert_chain(keyfile, certfile)
    return context


def ca_as_client_certificate(cafile, certfile, keyfile):
    context = ssl.create_default_context(cafile=cafile)
    context.load_cert_chain(cafile, keyfile)
    return context


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_client_certificate, "context.load_cert_chain(certfile, keyfile)"),
        (system_store_too, "trust exactly that CA"),
        (verification_off_context, "never turn verification off"),
        (server_purpose, "your context is for a server (`ssl.Purpose.CLIENT_AUTH`"),
        (old_versions_too, "minimum_version = ssl.TLSVersion.TLSv1_2"),
        (with_truststore, "truststore trusts the operating system's store"),
        (no_host_names, "`check_hostname` True"),
        (certifi_too, "(the system's store, or certifi's bundle): trust exactly that CA"),
        (key_before_certificate, "the client certificate, then its key"),
        (ca_as_client_certificate, "`context.load_cert_chain(certfile, keyfile)`"),
    ],
)
def test_mtls_context_rejects(wrong, message):
    with warnings.catch_warnings():  # TLSv1 is deprecated: a notebook shows it and goes on
        warnings.simplefilter("ignore", DeprecationWarning)
        assert_incorrect(q2.check(wrong), message)


def explicit_context(cafile, certfile, keyfile):
    """Correct too: built by hand (PROTOCOL_TLS_CLIENT verifies and checks host names)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_verify_locations(cafile=cafile)
    context.load_cert_chain(certfile=certfile, keyfile=keyfile)
    return context


def test_mtls_context_correct_alternative():
    result = q2.check(explicit_context)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 14.3 SafeSession -----------------------------------------------------------------------


class PlainSession(requests.Session):
    pass


class HostsOnly(requests.Session):
    def rebuild_auth(self, prepared_request, response):
        if urlsplit(prepared_request.url).hostname != urlsplit(response.request.url).hostname:
            for name in ("Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key"):
                prepared_request.headers.pop(name, None)
        else:
            super().rebuild_auth(prepared_request, response)


class AlwaysStrip(requests.Session):
    def rebuild_auth(self, prepared_request, response):
        for name in ("Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key"):
            prepared_request.headers.pop(name, None)


class ForgetsCookies(requests.Session):
    def rebuild_auth(self, prepared_request, response):
        old, new = urlsplit(response.request.url), urlsplit(prepared_request.url)
        if (old.scheme, old.netloc) != (new.scheme, new.netloc):
            prepared_request.headers.pop("Authorization", None)
            prepared_request.headers.pop("X-Api-Key", None)


class NoRedirects(requests.Session):
    def request(self, method, url, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(method, url, **kwargs)


class OnlyAuthorization(requests.Session):
    def should_strip_auth(self, old_url, new_url):
        return urlsplit(old_url).netloc != urlsplit(new_url).netloc


SECRET_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key")


class RequestsOwnRule(requests.Session):
    """requests' should_strip_auth keeps credentials on an http -> https upgrade."""

    def rebuild_auth(self, prepared_request, response):
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in SECRET_HEADERS:
                prepared_request.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)


class NetlocOnly(requests.Session):
    def rebuild_auth(self, prepared_request, response):
        if urlsplit(response.request.url).netloc != urlsplit(prepared_request.url).netloc:
            for name in SECRET_HEADERS:
                prepared_request.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)


class StripsSessionHeaders(requests.Session):
    def rebuild_auth(self, prepared_request, response):
        old, new = urlsplit(response.request.url), urlsplit(prepared_request.url)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            for name in SECRET_HEADERS:
                self.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (PlainSession, "override `rebuild_auth(prepared_request, response)`"),
        (HostsOnly, "an origin is scheme, host AND port; compare all three"),
        (AlwaysStrip, "keep credentials when scheme, host and port stay the same"),
        (ForgetsCookies, "drop the Cookie header too"),
        (NoRedirects, "your session must still follow redirects"),
        (OnlyAuthorization, "your session still sent"),
        (RequestsOwnRule, "Compare `(scheme, host, port)`, the scheme included"),
        (NetlocOnly, "the scheme changed (and the default port, 80 to 443)"),
        (StripsSessionHeaders, "remove credentials from `prepared_request.headers`"),
    ],
)
def test_safe_session_rejects(wrong, message):
    assert_incorrect(q3.check(wrong), message)


class NetlocSession(requests.Session):
    """Correct too: compares scheme and netloc, drops credentials with a set difference."""

    SECRETS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}

    def rebuild_auth(self, prepared_request, response):
        before, after = urlsplit(response.request.url), urlsplit(prepared_request.url)
        if (before.scheme, before.netloc.lower()) == (after.scheme, after.netloc.lower()):
            return super().rebuild_auth(prepared_request, response)
        for name in [n for n in prepared_request.headers if n.lower() in self.SECRETS]:
            del prepared_request.headers[name]
        return None


class ParsedOrigins(requests.Session):
    """Correct too: urlparse, `response.url`, default ports filled in, names matched case-blind."""

    def rebuild_auth(self, prepared_request, response):
        def origin(url):
            parts = urlparse(url)
            port = parts.port or {"https": 443, "http": 80}[parts.scheme]
            return parts.scheme.lower(), (parts.hostname or "").lower(), port

        if origin(response.url) == origin(prepared_request.url):
            return super().rebuild_auth(prepared_request, response)
        secret = {name.lower() for name in SECRET_HEADERS}
        for name in [name for name in prepared_request.headers if name.lower() in secret]:
            del prepared_request.headers[name]
        return None


@pytest.mark.parametrize("answer", [NetlocSession, ParsedOrigins])
def test_safe_session_correct_alternative(answer):
    result = q3.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message
