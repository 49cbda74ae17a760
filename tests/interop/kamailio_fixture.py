"""Run a throw-away Kamailio registrar for interop tests (no pytest needed).

Usage::

    from tests.interop.kamailio_fixture import KamailioProcess, kamailio_available

    reason = kamailio_available()          # None when usable, else why not
    with KamailioProcess(tmp_path, algorithm="SHA-256") as kam:
        kam.udp_port, kam.tcp_port        # ints, on 127.0.0.1
        kam.password_for("alice")         # "pw-alice" unless given in users=
        ...
        print(kam.log_text())             # Kamailio's stderr so far

The config is rendered from ``kamailio.cfg.tmpl`` next to this file into *tmpdir*,
Kamailio runs in the foreground (``-DD -E``) in its own process group, with its
runtime dir in *tmpdir* and no control sockets (ctl / jsonrpcs are not loaded).
``start()`` returns once an OPTIONS over UDP gets a 200 and the TCP port accepts.

Passwords: every digest username ``u`` has password ``"pw-" + u`` (computed inside
the Kamailio config from ``$au``), unless ``users={"alice": "secret"}`` overrides it
for the listed users.  Realm defaults to ``sipfsm.test``; the AoR is the user part only.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "ALGORITHMS",
    "DEFAULT_REALM",
    "HOST",
    "SIPP_DIR",
    "TEMPLATE",
    "VERIFIED_KAMAILIO_VERSION",
    "KamailioError",
    "KamailioProcess",
    "derived_password",
    "find_free_port",
    "kamailio_available",
    "kamailio_binary",
    "kamailio_version",
    "render_config",
    "sipp_available",
    "sipp_binary",
    "write_sipp_users_csv",
]

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "kamailio.cfg.tmpl"
SIPP_DIR = HERE / "sipp"
HOST = "127.0.0.1"
DEFAULT_REALM = "sipfsm.test"
ALGORITHMS = ("MD5", "SHA-256")
VERIFIED_KAMAILIO_VERSION = "5.6.3"
# Modules the template loads; kamailio_available() checks they exist.
_REQUIRED_MODULES = (
    "kex", "corex", "tm", "sl", "pv", "maxfwd", "textops", "siputils", "xlog",
    "usrloc", "registrar", "auth",
)  # fmt: skip
# Debian installs kamailio in /usr/sbin, which is not on a non-root PATH.
_EXTRA_PATH = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_SAFE = re.compile(r"^[A-Za-z0-9._~!*+=,;@:-]+$")  # no quotes/backslashes/spaces in cfg strings


class KamailioError(RuntimeError):
    """Kamailio could not be rendered, started or stopped."""


def _which(name: str) -> str | None:
    path = os.environ.get("PATH", "")
    extra = os.pathsep.join(p for p in _EXTRA_PATH if p not in path.split(os.pathsep))
    return shutil.which(name, path=path + (os.pathsep + extra if extra else ""))


def kamailio_binary() -> str | None:
    """Absolute path of the kamailio binary ($KAMAILIO overrides), or None."""
    env = os.environ.get("KAMAILIO")
    if env:
        return env if os.access(env, os.X_OK) else None
    return _which("kamailio")


def sipp_binary() -> str | None:
    """Absolute path of the sipp binary ($SIPP overrides), or None."""
    env = os.environ.get("SIPP")
    if env:
        return env if os.access(env, os.X_OK) else None
    return _which("sipp")


def kamailio_version(binary: str | None = None) -> str | None:
    """e.g. ``"5.6.3"``, or None when it cannot be determined."""
    binary = binary or kamailio_binary()
    if not binary:
        return None
    try:
        out = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"kamailio (\d+\.\d+\.\d+)", out)
    return m.group(1) if m else None


def _module_dir(binary: str) -> Path | None:
    for cand in (
        "/usr/lib/x86_64-linux-gnu/kamailio/modules",
        "/usr/lib/aarch64-linux-gnu/kamailio/modules",
        "/usr/lib/kamailio/modules",
        "/usr/local/lib64/kamailio/modules",
        "/usr/local/lib/kamailio/modules",
    ):
        if Path(cand, "registrar.so").exists():
            return Path(cand)
    # Fall back to what the binary reports in -h ("default: <dir>").
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [binary, "-h"], capture_output=True, text=True, timeout=10, check=False
        )
        m = re.search(r"Modules search path \(default: ([^)]+)\)", out.stdout + out.stderr)
        if m:
            return Path(m.group(1).split(":")[0])
    return None


def kamailio_available() -> str | None:
    """None when a usable Kamailio is installed, else a human-readable reason."""
    binary = kamailio_binary()
    if binary is None:
        return "kamailio binary not found (apt-get install kamailio)"
    version = kamailio_version(binary)
    if version is None:
        return f"{binary} -v did not report a version"
    mod_dir = _module_dir(binary)
    if mod_dir is None:
        return "kamailio module directory not found"
    missing = [m for m in _REQUIRED_MODULES if not (mod_dir / f"{m}.so").exists()]
    if missing:
        return f"kamailio modules missing in {mod_dir}: {', '.join(missing)}"
    major_minor = tuple(int(x) for x in version.split(".")[:2])
    if major_minor < (5, 3):  # auth "algorithm" (SHA-256) param needs >= 5.3
        return f"kamailio {version} too old (need >= 5.3 for SHA-256 digest)"
    return None


def sipp_available() -> str | None:
    """None when a usable SIPp is installed, else a human-readable reason."""
    binary = sipp_binary()
    if binary is None:
        return "sipp binary not found (apt-get install sip-tester)"
    try:
        out = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{binary} -v failed: {exc}"
    if "SIPp v" not in out.stdout + out.stderr:
        return f"{binary} -v did not identify as SIPp"
    return None


def derived_password(username: str) -> str:
    """The password the registrar expects for *username* when no table entry exists."""
    return "pw-" + username


def write_sipp_users_csv(
    path: str | os.PathLike[str], count: int, *, prefix: str = "u", start: int = 0
) -> Path:
    """Write a SIPp ``-inf`` file for sipp/register_load.xml: ``user;password`` lines.

    Users are ``{prefix}{start}`` .. ``{prefix}{start+count-1}``, password ``pw-<user>``
    (what the test Kamailio derives), read SEQUENTIAL-ly by SIPp.
    """
    path = Path(path)
    users = (f"{prefix}{i}" for i in range(start, start + count))
    path.write_text("SEQUENTIAL\n" + "".join(f"{u};{derived_password(u)}\n" for u in users))
    return path


def find_free_port(udp: bool = True, tcp: bool = True, host: str = HOST) -> int:
    """A port that is currently free for UDP and/or TCP on *host* (racy, like all such)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
            if udp and tcp:
                try:
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                        u.bind((host, port))
                except OSError:
                    continue
        return port
    raise KamailioError("no free port found")


def _busy(udp_port: int, tcp_port: int, host: str = HOST) -> list[str]:
    """Which of udp/tcp port is bound by someone else right now."""
    busy = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:  # no SO_REUSEADDR
        try:
            u.bind((host, udp_port))
        except OSError:
            busy.append(f"udp/{udp_port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            t.bind((host, tcp_port))
            t.listen(1)
        except OSError:
            busy.append(f"tcp/{tcp_port}")
    return busy


def render_config(
    *,
    udp_port: int,
    tcp_port: int,
    algorithm: str = "MD5",
    realm: str = DEFAULT_REALM,
    min_expires: int = 60,
    max_expires: int = 3600,
    default_expires: int = 3600,
    max_contacts: int = 0,
    nonce_expire: int = 300,
    qop: bool = True,
    users: Mapping[str, str] | None = None,
    children: int = 1,
    debug: int = 2,
    instance: str = "",
    template: Path = TEMPLATE,
    values: Mapping[str, str] | None = None,
) -> str:
    """Return the Kamailio config text for these settings."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")
    if not _SAFE.match(realm) or (instance and not _SAFE.match(instance)):
        raise ValueError(f"unsafe realm {realm!r}")
    static = []
    for user, password in (users or {}).items():
        if not (_SAFE.match(user) and _SAFE.match(password)):
            raise ValueError(f"unsafe user/password {user!r}")
        static.append(f'\tif ($au == "{user}") {{ $var(pw) = "{password}"; }}')
    flags = 1 if qop else 0  # www_challenge: 1 = qop=auth
    values = {
        "UDP_PORT": str(int(udp_port)),
        "TCP_PORT": str(int(tcp_port)),
        "ALGORITHM": algorithm,
        "REALM": realm,
        "MIN_EXPIRES": str(int(min_expires)),
        "MAX_EXPIRES": str(int(max_expires)),
        "DEFAULT_EXPIRES": str(int(default_expires)),
        "MAX_CONTACTS": str(int(max_contacts)),
        "NONCE_EXPIRE": str(int(nonce_expire)),
        "CHALLENGE_FLAGS": str(flags),
        "CHALLENGE_FLAGS_STALE": str(flags | 16),  # 16 = stale=true
        "STATIC_USERS": "\n".join(static),
        "CHILDREN": str(int(children)),
        "DEBUG": str(int(debug)),
        "INSTANCE": instance or secrets.token_hex(8),
        **(values or {}),  # a template's own placeholders (e.g. TLS_PORT)
    }
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{[A-Z_]+\}\}", text)
    if left:
        raise KamailioError(f"unrendered placeholders in {template}: {sorted(set(left))}")
    return text


def _load_prctl() -> Any:
    # resolved in the parent: no imports or dlopen between fork and exec
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl() if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM Kamailio when the Python process dies.

    Covers what atexit cannot (SIGKILL / SIGTERM of the test runner, e.g. by `timeout`).
    Linux only, best effort.  Note PR_SET_PDEATHSIG fires when the *thread* that started
    Kamailio exits, so start it from a thread that lives as long as the test needs it.
    """
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG


_LIVE: set[KamailioProcess] = set()  # strong refs: atexit must reach unreferenced ones too


@atexit.register
def _stop_all() -> None:  # never leave a kamailio behind if a test run aborts
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            proc.stop()


class KamailioProcess:
    """A foreground Kamailio registrar on 127.0.0.1 (UDP + TCP) living in *tmpdir*.

    Ports: ``None`` picks a free one; when both are ``None`` the same number is used
    for UDP and TCP (like a normal SIP server on 5060).
    """

    host = HOST

    def __init__(
        self,
        tmpdir: str | os.PathLike[str],
        *,
        algorithm: str = "MD5",
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        udp_port: int | None = None,
        tcp_port: int | None = None,
        realm: str = DEFAULT_REALM,
        users: Mapping[str, str] | None = None,
        qop: bool = True,
        nonce_expire: int = 300,
        max_contacts: int = 0,
        children: int = 1,
        debug: int = 2,
        shm_mb: int = 64,
        start_timeout: float = 15.0,
        template: Path = TEMPLATE,
        values: Mapping[str, str] | None = None,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")
        self.tmpdir = Path(tmpdir)
        self.algorithm = algorithm
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.realm = realm
        self.users: dict[str, str] = dict(users or {})
        self.qop = qop
        self.nonce_expire = nonce_expire
        self.max_contacts = max_contacts
        self.children = children
        self.debug = debug
        self.shm_mb = shm_mb
        self.start_timeout = start_timeout
        self.template = template
        self.values: dict[str, str] = dict(values or {})
        self._want_udp = udp_port
        self._want_tcp = tcp_port
        self._udp_port: int | None = None
        self._tcp_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: object | None = None
        self.cfg_path = self.tmpdir / "kamailio.cfg"
        self.log_path = self.tmpdir / "kamailio.log"
        self.run_dir = self.tmpdir / "run"
        self.instance = secrets.token_hex(8)

    # ------------------------------------------------------------------ info
    @property
    def udp_port(self) -> int:
        if self._udp_port is None:
            raise KamailioError("not started")
        return self._udp_port

    @property
    def tcp_port(self) -> int:
        if self._tcp_port is None:
            raise KamailioError("not started")
        return self._tcp_port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def password_for(self, username: str) -> str:
        return self.users.get(username, derived_password(username))

    def uri(self, transport: str = "udp") -> str:
        """Registrar URI, e.g. ``sip:127.0.0.1:40123;transport=tcp``."""
        port = self.tcp_port if transport.lower() == "tcp" else self.udp_port
        return f"sip:{self.host}:{port};transport={transport.lower()}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float = 5.0) -> re.Match[str]:
        """Wait until regex *pattern* matches the log; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.log_text())
            if m:
                return m
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pattern!r} not in kamailio log")
            time.sleep(0.05)

    # ------------------------------------------------------------- lifecycle
    def render(self) -> Path:
        """Write the config for the current ports into tmpdir and return its path."""
        text = render_config(
            udp_port=self.udp_port,
            tcp_port=self.tcp_port,
            algorithm=self.algorithm,
            realm=self.realm,
            min_expires=self.min_expires,
            max_expires=self.max_expires,
            default_expires=self.default_expires,
            max_contacts=self.max_contacts,
            nonce_expire=self.nonce_expire,
            qop=self.qop,
            users=self.users,
            children=self.children,
            debug=self.debug,
            instance=self.instance,
            template=self.template,
            values=self.values,
        )
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.cfg_path.write_text(text)
        return self.cfg_path

    def command(self) -> list[str]:
        binary = kamailio_binary()
        if binary is None:
            raise KamailioError(kamailio_available() or "kamailio not found")
        return [
            binary,
            "-f", str(self.cfg_path),
            "-DD",                  # no daemon: the creator stays our direct child
            "-E",                   # log to stderr (captured in kamailio.log)
            "-Y", str(self.run_dir),  # runtime dir in tmpdir (nothing in /run)
            "-w", str(self.run_dir),  # working dir (core files etc.)
            "-m", str(self.shm_mb),
            "-M", "8",
            "--atexit=no",
        ]  # fmt: skip

    def start(self) -> KamailioProcess:
        reason = kamailio_available()
        if reason:
            raise KamailioError(reason)
        if self.running:
            return self
        fixed = self._want_udp is not None or self._want_tcp is not None
        attempts = 1 if fixed else 3
        last_error = ""
        for _ in range(attempts):
            if self._want_udp is None and self._want_tcp is None:
                port = find_free_port(udp=True, tcp=True)
                self._udp_port = self._tcp_port = port
            else:
                self._udp_port = self._want_udp or find_free_port(udp=True, tcp=False)
                self._tcp_port = self._want_tcp or find_free_port(udp=False, tcp=True)
            # Kamailio binds with SO_REUSEADDR, so a second instance on a busy port does NOT
            # fail: check ourselves (and the readiness probe checks the instance token).
            busy = _busy(self._udp_port, self._tcp_port)
            if busy:
                last_error = f"port(s) already in use on {HOST}: {busy}"
                if fixed:
                    raise KamailioError(last_error)
                continue
            try:
                _LIVE.add(self)
                self._spawn()
                self._wait_ready()
                return self
            except KamailioError as exc:
                last_error = str(exc)
                self.stop()
        raise KamailioError(last_error)

    def _spawn(self) -> None:
        self.render()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.log_path.unlink()
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log_file = log
        self._proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.run_dir,
            env={**os.environ, "LC_ALL": "C"},  # C-locale Date header
            start_new_session=True,  # own process group: stop() kills all workers
            preexec_fn=_die_with_parent,
        )

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        udp_ok = tcp_ok = False
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((HOST, 0))
            sock.settimeout(0.2)
            while time.monotonic() < deadline:
                rc = self._proc.poll()
                if rc is not None:
                    raise KamailioError(
                        f"kamailio exited with {rc} during start-up:\n{self.log_text()[-4000:]}"
                    )
                if not udp_ok:
                    udp_ok = self._options_ping(sock)
                if udp_ok and not tcp_ok:
                    with contextlib.suppress(OSError):
                        socket.create_connection((HOST, self.tcp_port), timeout=0.5).close()
                        tcp_ok = True
                if udp_ok and tcp_ok:
                    return
                time.sleep(0.05)
        raise KamailioError(
            f"kamailio not ready within {self.start_timeout}s (udp={udp_ok}, tcp={tcp_ok}):\n"
            f"{self.log_text()[-4000:]}"
        )

    def _options_ping(self, sock: socket.socket) -> bool:
        lport = sock.getsockname()[1]
        branch = "z9hG4bK-ready-" + secrets.token_hex(6)
        msg = (
            f"OPTIONS sip:{HOST}:{self.udp_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{lport};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{HOST}>;tag={secrets.token_hex(4)}\r\n"
            f"To: <sip:{HOST}:{self.udp_port}>\r\n"
            f"Call-ID: ready-{secrets.token_hex(8)}@{HOST}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        try:
            sock.sendto(msg, (HOST, self.udp_port))
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                data = sock.recv(65535)
                if branch.encode() in data:
                    ours = f"X-Sipfsm-Instance: {self.instance}".encode() in data
                    return data.startswith(b"SIP/2.0 200") and ours
        except OSError:  # timeout, or ICMP port unreachable (ConnectionRefusedError)
            return False
        return False

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop Kamailio (SIGTERM to its process group, SIGKILL if needed); return rc."""
        proc, self._proc = self._proc, None
        rc: int | None = None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    rc = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    rc = proc.wait(timeout=timeout)
            else:
                rc = proc.returncode
            # workers may outlive the creator for a moment; make sure the group is gone
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._log_file is not None:
            with contextlib.suppress(Exception):
                self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None
        _LIVE.discard(self)
        return rc

    def __enter__(self) -> KamailioProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid} udp={self._udp_port} tcp={self._tcp_port}"
        run = "running" if self.running else "stopped"
        return f"<KamailioProcess {self.algorithm} {state} {run}>"
