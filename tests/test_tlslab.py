"""The TLS lab (httplab.tlslab): each case fails verification for its own reason, SNI picks
the certificate, mutual TLS demands a client certificate, tls12 stops at TLS 1.2."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

import httpx
import pytest

from httplab import servers, tls, tlslab

VERIFY_CODES = {"wrong-host": 64, "expired": 10, "unknown-ca": 20, "self-signed": 18}


@pytest.fixture(scope="module")
def lab() -> tlslab.TLSLab:
    return tlslab.start()


def verify_code(url: str) -> int | None:
    """OpenSSL's verdict on the server's certificate, trusting the lab's CA (None: fine)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as raw:
        try:
            with tls.client_context().wrap_socket(raw, server_hostname=parts.hostname):
                return None
        except ssl.SSLCertVerificationError as exc:
            return exc.verify_code


def test_start_is_idempotent_and_lists_every_case(lab):
    assert tlslab.start() == lab
    assert sorted(lab.urls) == sorted(tlslab.CASES)
    assert len({urlsplit(url).port for url in lab.urls.values()}) == len(tlslab.CASES)


@pytest.mark.parametrize("case", sorted(VERIFY_CODES))
def test_each_broken_case_fails_for_its_reason(lab, case):
    assert verify_code(lab[case]) == VERIFY_CODES[case]


@pytest.mark.parametrize("case", ["valid", "sni", "tls12"])
def test_good_cases_verify(lab, case):
    assert verify_code(lab[case]) is None


def test_wrong_host_by_name_is_a_hostname_mismatch(lab):
    assert verify_code(lab["wrong-host"].replace("127.0.0.1", "localhost")) == 62


def test_unknown_ca_is_fine_for_whoever_trusts_the_other_ca(lab):
    context = ssl.create_default_context(cafile=tlslab.other_ca_file())
    assert httpx.get(lab["unknown-ca"], verify=context, timeout=5).json()["case"] == "unknown-ca"


def test_the_server_reports_the_connection(lab):
    seen = httpx.get(lab["valid"], verify=tls.client_context(), timeout=5).json()
    assert seen == {
        "case": "valid",
        "sni": None,
        "tls_version": "TLSv1.3",
        "cipher": seen["cipher"],
        "alpn": "http/1.1",
        "client_cert": None,
    }


def test_sni_chooses_the_certificate(lab):
    with httpx.Client(verify=tls.client_context(), timeout=5) as client:
        shop = client.get(lab["sni"], extensions={"sni_hostname": tlslab.SNI_NAME}).json()
    by_name = httpx.get(
        lab["sni"].replace("127.0.0.1", "localhost"), verify=tls.client_context(), timeout=5
    ).json()
    assert (shop["sni"], by_name["sni"]) == (tlslab.SNI_NAME, "localhost")


def test_mtls_requires_a_client_certificate(lab):
    with pytest.raises(httpx.TransportError):
        httpx.get(lab["mtls"], verify=tls.client_context(), timeout=5)
    context = tls.client_context()
    context.load_cert_chain(*tlslab.client_cert_files())
    seen = httpx.get(lab["mtls"], verify=context, timeout=5).json()
    assert seen["client_cert"] == tlslab.CLIENT_NAME


def test_tls12_stops_at_tls_1_2(lab):
    seen = httpx.get(lab["tls12"], verify=tls.client_context(), timeout=5).json()
    assert seen["tls_version"] == "TLSv1.2"
    only_13 = tls.client_context()
    only_13.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(httpx.ConnectError):
        httpx.get(lab["tls12"], verify=only_13, timeout=5)


def test_lab_ca_issues_certificates_the_clients_trust():
    cert = tls.lab_ca().issue_cert("extra.test")
    assert cert.cert_chain_pems  # issued by the same CA as ca_file()
    assert tls.lab_ca() is tls.lab_ca()


def test_stop_frees_the_servers_and_start_brings_them_back():
    tlslab.stop()
    assert servers.get(tlslab.NAME) is None
    again = tlslab.start()
    assert verify_code(again["valid"]) is None
