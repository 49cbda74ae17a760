"""Kamailio set-ups for the TLS / outbound / GRUU / Path / IPv6 interop tests: a registrar
(kamailio_registrar_ext.cfg.tmpl) and an edge proxy (kamailio_edge.cfg.tmpl), with a CA and
server certificate made at test time (the ``cryptography`` package, test extra)."""

from __future__ import annotations

import socket
from pathlib import Path

from sipfsm.aio.tls import TlsSettings
from sipfsm.aio.tls_pki import TestPki, make_pki
from tests.interop.kamailio_fixture import DEFAULT_REALM, HERE, KamailioProcess, find_free_port

REGISTRAR_TEMPLATE = HERE / "kamailio_registrar_ext.cfg.tmpl"
EDGE_TEMPLATE = HERE / "kamailio_edge.cfg.tmpl"


def free_port(host: str, kind: int = socket.SOCK_STREAM) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_port_both(host: str) -> int:
    """A port free for UDP and TCP on ``host``."""
    for _ in range(50):
        port = free_port(host)
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                               socket.SOCK_DGRAM) as sock:
                sock.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no free port on {host}")


def make_test_pki(root: Path) -> tuple[TestPki, Path, Path]:
    pki = make_pki(root / "pki")
    issued = pki.issue("kamailio", dns=(DEFAULT_REALM,), uris=(f"sip:{DEFAULT_REALM}",),
                       ips=("127.0.0.1", "::1"))
    return pki, issued.cert_file, issued.key_file


def tls_cfg(root: Path, cert: Path, key: Path) -> Path:
    path = root / "tls.cfg"
    path.write_text(
        "[server:default]\n"
        "method = TLSv1.2+\n"
        "verify_certificate = no\n"
        "require_certificate = no\n"
        f"private_key = {key}\n"
        f"certificate = {cert}\n"
        "\n[client:default]\n"
        "method = TLSv1.2+\n"
        "verify_certificate = no\n"
        "require_certificate = no\n")
    return path


class ExtRegistrar(KamailioProcess):
    """The registrar on 127.0.0.1 (UDP, TCP, TLS) and, with ``ipv6``, on [::1] too."""

    def __init__(self, tmpdir: Path, *, ipv6: bool = False, flow_timer: int = 0,
                 **options: object) -> None:
        root = Path(tmpdir)
        root.mkdir(parents=True, exist_ok=True)
        self.pki, cert, key = make_test_pki(root)
        self.tls_port = find_free_port(udp=False, tcp=True)
        self.v6_port = free_port_both("::1") if ipv6 else 0
        self.v6_tls_port = free_port("::1") if ipv6 else 0
        extra = ""
        if ipv6:
            extra = (f"listen=udp:[::1]:{self.v6_port}\nlisten=tcp:[::1]:{self.v6_port}\n"
                     f"listen=tls:[::1]:{self.v6_tls_port}")
        super().__init__(
            root, template=REGISTRAR_TEMPLATE,
            values={"TLS_PORT": str(self.tls_port), "TLS_CFG": str(tls_cfg(root, cert, key)),
                    "EXTRA_LISTEN": extra, "FLOW_TIMER": str(flow_timer),
                    "EXTRA_LISTEN_NOTE": "and on [::1] when rendered with IPv6 listeners"},
            **options)  # type: ignore[arg-type]

    def tls_settings(self, server_name: str | None = DEFAULT_REALM) -> TlsSettings:
        return TlsSettings(ca_file=self.pki.ca_file, server_name=server_name)


class EdgeProxy(KamailioProcess):
    """An outbound edge proxy on 127.0.0.1 relaying REGISTERs to ``registrar_uri``."""

    def __init__(self, tmpdir: Path, registrar_uri: str, pki_root: Path,
                 **options: object) -> None:
        root = Path(tmpdir)
        root.mkdir(parents=True, exist_ok=True)
        pki = make_pki(pki_root)
        issued = pki.issue("edge", dns=(DEFAULT_REALM,), ips=("127.0.0.1",))
        self.pki = pki
        self.tls_port = find_free_port(udp=False, tcp=True)
        super().__init__(
            root, template=EDGE_TEMPLATE,
            values={"TLS_PORT": str(self.tls_port),
                    "TLS_CFG": str(tls_cfg(root, issued.cert_file, issued.key_file)),
                    "REGISTRAR": registrar_uri},
            **options)  # type: ignore[arg-type]
