"""Who ``sipfsm load`` registers: users from name and password patterns or from a CSV file.

Passwords never come from the command line as such: a password pattern must depend on the user
(``{user}`` or ``{n}``), one shared password comes from an environment variable, and per-user
passwords come from a CSV file.  A :class:`User` never shows its password in a repr.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sipfsm.errors import ConfigError, ParseError, SipfsmError
from sipfsm.message import SipUri, parse_uri

__all__ = ["User", "UsersFileError", "pattern_users", "read_users_csv", "shard"]


@dataclass(frozen=True, slots=True)
class User:
    """One account: the digest user name, its password and its address-of-record."""

    name: str
    password: str | None = field(repr=False)  # never in reprs, logs or tracebacks
    aor: SipUri


class UsersFileError(SipfsmError):
    """A malformed users CSV file: names the file and the line (exit code 3)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


def _format(pattern: str, what: str, **values: object) -> str:
    try:
        return pattern.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{what} {pattern!r}: use {{n}} (the user's number) and {{user}} only ({exc})"
        ) from None


def _aor(user: str, domain: str, what: str) -> SipUri:
    text = f"sip:{user}@{domain}"
    try:
        uri = parse_uri(text)
    except ParseError as exc:
        raise ConfigError(f"{what}: {text!r} is not a SIP URI ({exc.message})") from None
    assert isinstance(uri, SipUri)
    return uri


def pattern_users(
    count: int,
    *,
    domain: str,
    user_pattern: str = "u{n}",
    password_pattern: str | None = None,
    password_env: str | None = None,
    first: int = 0,
) -> list[User]:
    """``count`` users ``user_pattern.format(n=first..)`` at ``domain``.

    The password is ``password_pattern.format(n=, user=)`` (it must name ``{user}`` or ``{n}``:
    a fixed text would be a password on the command line), or the value of the environment
    variable ``password_env`` for every user, or none (no authentication).
    """
    if count < 1:
        raise ConfigError(f"--users {count}: give at least one user")
    if password_pattern is not None and password_env is not None:
        raise ConfigError("give --password-pattern or --password-env, not both")
    if password_pattern is not None and not (
        "{user}" in password_pattern or "{n}" in password_pattern
    ):
        raise ConfigError(
            "--password-pattern must contain {user} or {n}: a fixed password does not go on the "
            "command line (use --password-env NAME, or a CSV file)"
        )
    shared: str | None = None
    if password_env is not None:
        shared = os.environ.get(password_env)
        if shared is None:
            raise ConfigError(f"--password-env: ${password_env} is not set")
    if "{n}" not in user_pattern:
        raise ConfigError(f"--user-pattern {user_pattern!r} must contain {{n}}")
    users: list[User] = []
    for n in range(first, first + count):
        name = _format(user_pattern, "--user-pattern", n=n)
        password = (
            _format(password_pattern, "--password-pattern", n=n, user=name)
            if password_pattern is not None
            else shared
        )
        users.append(User(name, password, _aor(name, domain, "--user-pattern")))
    return users


def read_users_csv(
    path: str | os.PathLike[str], *, domain: str, limit: int | None = None
) -> list[User]:
    """Rows ``user,password[,aor]`` (``#`` comments and empty lines skipped).  Without an AOR
    the user registers ``sip:<user>@<domain>``.  Raises :class:`UsersFileError` naming the file
    and line of the first bad row, :class:`ConfigError` when the file cannot be read."""
    where = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"--users-csv {where}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsersFileError(where, line, "not UTF-8 text") from None
    users: list[User] = []
    seen: set[str] = set()
    lines = text.splitlines()
    reader = csv.reader(lines, strict=True)
    while limit is None or len(users) < limit:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UsersFileError(where, reader.line_num, f"not CSV: {exc}") from None
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        users.append(_row(where, reader.line_num, row, domain, seen))
    if not users:
        raise UsersFileError(
            where, max(1, len(lines)), "no user rows (expected user,password[,aor])"
        )
    return users


def _row(where: str, number: int, row: Sequence[str], domain: str, seen: set[str]) -> User:
    if len(row) not in (2, 3):
        raise UsersFileError(
            where, number, f"expected user,password[,aor] but found {len(row)} field(s)"
        )
    name = row[0].strip()
    password = row[1]
    if not name:
        raise UsersFileError(where, number, "empty user name")
    if any(ch in name for ch in ' \t"<>@:;') or not name.isprintable():
        raise UsersFileError(where, number, f"user name {name[:40]!r} is not a SIP user part")
    if not password:
        raise UsersFileError(where, number, "empty password")
    if len(row) == 3 and row[2].strip():
        text = row[2].strip()
        try:
            aor = parse_uri(text)
        except ParseError as exc:
            raise UsersFileError(
                where, number, f"AOR {text[:60]!r} is not a SIP URI ({exc.message})"
            ) from None
        if not isinstance(aor, SipUri) or not aor.user:
            raise UsersFileError(where, number, f"AOR {text[:60]!r} is not a sip: URI with a user")
    else:
        try:
            aor = _aor(name, domain, "AOR")
        except ConfigError as exc:
            raise UsersFileError(where, number, str(exc)) from None
    key = str(aor)
    if key in seen:
        raise UsersFileError(where, number, f"AOR {key} appears twice")
    seen.add(key)
    return User(name, password, aor)


def shard(users: Sequence[User], index: int, count: int) -> list[User]:
    """The users of shard ``index`` of ``count`` (round-robin: every shard gets its share of the
    ramp from the start)."""
    return list(users[index::count])
