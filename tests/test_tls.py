"""The client verifies CoinGlass's certificate: against a real TLS server on loopback."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import trustme
from helpers import MAP_PATH

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.payloads import PairMapPayload
from coinglass_liquidation_map.retry import RetryPolicy
from coinglass_liquidation_map.tls import tls_context
from coinglass_liquidation_map.transport import AsyncioTransport

BODY = json.dumps({"code": "0", "data": {"data": {"48935": [[48935, 1.5, 25, None]]}}}).encode()


class _MapHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_url(authority: trustme.CA) -> Iterator[str]:
    """An https server on loopback whose certificate, for localhost, ``authority`` signed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MapHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_certificate_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


async def fetch(url: str) -> PairMapPayload:
    async with CoinGlassClient("key", base_url=url, retry=RetryPolicy(max_retries=0)) as client:
        return await client.get(MAP_PATH, {}, PairMapPayload)


async def test_a_certificate_from_a_ca_in_ssl_cert_file_is_accepted(
    tls_url: str, authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    assert (await fetch(tls_url)).data == {"48935": [(48935, 1.5, 25, None)]}


async def test_a_certificate_from_a_ca_in_ssl_cert_dir_is_accepted(
    tls_url: str, authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to name the CA by its subject hash")
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    subprocess.run([openssl, "rehash", str(tmp_path)], check=True)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert tls_context().cert_store_stats()["x509_ca"] == 0  # read at the handshake, not before
    assert (await fetch(tls_url)).data == {"48935": [(48935, 1.5, 25, None)]}


async def test_a_certificate_from_an_unknown_ca_is_refused(tls_url: str) -> None:
    with pytest.raises(errors.NetworkError):
        await fetch(tls_url)


def test_without_a_ca_directory_the_certifi_bundle_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = ssl.get_default_verify_paths()._replace(openssl_capath=str(tmp_path))  # no CA in it
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)
    context = tls_context()
    assert context.cert_store_stats()["x509_ca"] > 100
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_the_system_ca_directory_is_read_only_when_a_handshake_needs_it() -> None:
    if not Path(ssl.get_default_verify_paths().openssl_capath).is_dir():
        pytest.skip("this system has no CA directory")
    assert tls_context().cert_store_stats()["x509_ca"] == 0


async def test_a_ca_directory_the_user_names_is_the_only_trust(
    tls_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # holds no CA: nothing is trusted
    with pytest.raises(errors.NetworkError):
        await fetch(tls_url)


class _KeepAliveHandler(_MapHandler):
    """HTTP/1.1, so a connection serves request after request; counts the connections."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()


async def test_a_kept_tls_connection_serves_the_next_request(
    authority: trustme.CA, tmp_path: Path
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    try:
        async with httpx.AsyncClient(transport=AsyncioTransport(trusted)) as client:
            url = f"https://localhost:{server.server_address[1]}/"
            answers = [(await client.get(url)).json() for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert answers == [json.loads(BODY)] * 3
    assert _KeepAliveHandler.connections == 1
