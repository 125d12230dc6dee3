"""The demo authorization server of lesson 15: client credentials in, a verifiable JWT out,
RFC 6749 errors for everything else."""

from __future__ import annotations

import jwt
import pytest
import requests

import httplab
from httplab import authserver

CLIENTS = {"reporting": "s3cret"}


@pytest.fixture(scope="module")
def auth():
    app = authserver.create_app(CLIENTS, lifetime=60)
    server = httplab.serve_aiohttp(app, name="test-authserver")
    yield app, server.url
    server.stop()


def post_token(url, **kwargs):
    return requests.post(f"{url}/token", timeout=5, **kwargs)


def test_basic_credentials_get_a_verifiable_jwt(auth):
    app, url = auth
    before = authserver.issued(app)
    response = post_token(
        url, data={"grant_type": "client_credentials"}, auth=("reporting", "s3cret")
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    claims = jwt.decode(
        body["access_token"],
        authserver.public_pem(app),
        algorithms=["RS256"],
        audience=authserver.AUDIENCE,
        issuer=url,
    )
    assert claims["sub"] == "reporting" and claims["exp"] - claims["iat"] == 60
    assert authserver.issued(app) == before + 1


def test_form_credentials_work_too(auth):
    _, url = auth
    form = {"grant_type": "client_credentials", "client_id": "reporting", "client_secret": "s3cret"}
    assert post_token(url, data=form).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        (
            {"data": {"grant_type": "client_credentials"}, "auth": ("reporting", "nope")},
            401,
            "invalid_client",
        ),
        ({"data": {"grant_type": "client_credentials"}}, 401, "invalid_client"),
        (
            {"data": {"grant_type": "password"}, "auth": ("reporting", "s3cret")},
            400,
            "unsupported_grant_type",
        ),
        ({"json": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
        (
            {
                "data": {"grant_type": "client_credentials"},
                "headers": {"Authorization": "Basic !!"},
            },
            401,
            "invalid_client",
        ),
    ],
)
def test_bad_requests_get_oauth_errors(auth, kwargs, status, error):
    _, url = auth
    response = post_token(url, **kwargs)
    assert response.status_code == status
    assert response.json()["error"] == error
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_jwks_publishes_the_public_key(auth):
    app, url = auth
    keys = requests.get(f"{url}/.well-known/jwks.json", timeout=5).json()["keys"]
    public = jwt.PyJWK(keys[0]).key
    token = post_token(url, data={"grant_type": "client_credentials"}, auth=("reporting", "s3cret"))
    claims = jwt.decode(
        token.json()["access_token"], public, algorithms=["RS256"], audience=authserver.AUDIENCE
    )
    assert claims["sub"] == "reporting"
