"""What the servers' TLS certificates are verified against (CoinGlass's, a webhook's).

A CA directory is read by OpenSSL only when a handshake needs one of its certificates, where
certifi's bundle is loaded whole up front; so the system's directory comes first.
"""

from __future__ import annotations

import os
import re
import ssl


def tls_context() -> ssl.SSLContext:
    """``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set (as httpx honours them), else the system's
    CA directory, else certifi's bundle."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    system = ssl.get_default_verify_paths().openssl_capath
    if _holds_cas(system):
        return ssl.create_default_context(capath=system)
    import certifi  # noqa: PLC0415 - only where the system has no CA directory

    return ssl.create_default_context(cafile=certifi.where())


def _holds_cas(directory: str) -> bool:
    # OpenSSL looks a CA up by its subject's hash: files named like 002c0b4f.0.
    try:
        return any(re.fullmatch(r"[0-9a-f]{8}\.[0-9]+", name) for name in os.listdir(directory))
    except OSError:
        return False
