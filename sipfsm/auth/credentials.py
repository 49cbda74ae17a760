"""Where Digest credentials come from: the ``CredentialStore`` port, per realm.

* :class:`Secret` wraps a password (or an HA1); its ``repr``/``str`` never show the value, so a
  secret cannot leak into a log line, an exception or a trace by accident.  ``reveal()`` is the
  one way in, used only by the hash computations.
* :class:`Credentials` is a username with a password and/or precomputed HA1 values, one per
  algorithm base (``"MD5"``, ``"SHA-256"``, ``"SHA-512-256"``).  An HA1 ``H(username ":" realm
  ":" password)`` is bound to the realm it was computed for; it answers its own algorithm and
  that algorithm's ``-sess`` variant (RFC 7616 §3.4.2 derives the session key from it).
* :class:`CredentialStore` (a Protocol): ``lookup(realm) -> Credentials | None``.  RFC 3261 §22.1:
  "the realm string alone defines the protection domain", so the realm is the whole key.
* :class:`StaticCredentials`: one username/password for one realm, or for any realm.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from sipfsm.auth.digest import ALGORITHMS
from sipfsm.errors import ConfigError

__all__ = ["CredentialStore", "Credentials", "Secret", "StaticCredentials"]

_MASK = "********"
_NO_HA1: dict[str, Secret] = {}  # shared: never written to


class Secret:
    """A password or an HA1 that prints as ``********``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds text")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not pickled (it would write the secret out)")


def _as_secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


class Credentials:
    """A username with a password and/or precomputed HA1 values (``ha1``: algorithm base ->
    lower-case hex ``H(username ":" realm ":" password)``)."""

    __slots__ = ("_ha1", "password", "username")

    username: str
    password: Secret | None
    _ha1: dict[str, Secret]

    def __init__(
        self,
        username: str,
        password: str | Secret | None = None,
        ha1: Mapping[str, str | Secret] | None = None,
    ) -> None:
        if not isinstance(username, str):
            raise ConfigError("username must be text")
        self.username = username
        self.password = None if password is None else _as_secret(password)
        table: dict[str, Secret] = {}
        for name, value in (ha1 or {}).items():
            spec = ALGORITHMS.get(name.upper())
            if spec is None or spec.sess:
                raise ConfigError(
                    f"ha1 key {name!r}: expected an algorithm base "
                    f"({', '.join(a.name for a in ALGORITHMS.values() if not a.sess)})"
                )
            secret = _as_secret(value)
            text = secret.reveal()
            if len(text) != len(spec.hash(b"")) or any(c not in "0123456789abcdefABCDEF"
                                                      for c in text):
                raise ConfigError(f"ha1 for {spec.base} is not a {spec.base} hex digest")
            table[spec.base] = Secret(text.lower())
        if self.password is None and not table:
            raise ConfigError("credentials need a password or an HA1")
        self._ha1 = table or _NO_HA1  # one empty table for every password-only user

    @property
    def ha1(self) -> Mapping[str, Secret]:
        return dict(self._ha1)

    def can_answer(self, base: str) -> bool:
        """True when these credentials can compute HA1 for algorithm ``base``."""
        return self.password is not None or base in self._ha1

    def ha1_for(self, base: str) -> Secret | None:
        return self._ha1.get(base)

    def __repr__(self) -> str:
        password = "set" if self.password is not None else "none"
        bases = ",".join(self._ha1) or "none"
        return f"Credentials(username={self.username!r}, password={password}, ha1={bases})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.username, self.password, self._ha1) == (
            other.username, other.password, other._ha1)

    __hash__ = None  # type: ignore[assignment]


@runtime_checkable
class CredentialStore(Protocol):
    """The port the Digest client asks for credentials."""

    def lookup(self, realm: str) -> Credentials | None:
        """Credentials for ``realm`` (compared exactly, as RFC 3261 §22.1 makes the realm the
        protection domain), or ``None``."""


class StaticCredentials(Credentials):
    """One username with a password (and/or HA1 values) for ``realm``, or for every realm when
    ``realm`` is ``None``.

    It is its own answer to :meth:`lookup` (a :class:`Credentials` too): one object, not two,
    for each of the many registrations a load generator keeps."""

    __slots__ = ("realm",)

    def __init__(
        self,
        username: str,
        password: str | Secret | None = None,
        realm: str | None = None,
        *,
        ha1: Mapping[str, str | Secret] | None = None,
    ) -> None:
        super().__init__(username, password, ha1)
        self.realm = realm

    def lookup(self, realm: str) -> Credentials | None:
        if self.realm is None or realm == self.realm:
            return self
        return None

    # A store, compared and hashed as itself (as before it was a Credentials).
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __repr__(self) -> str:
        realm = "any realm" if self.realm is None else repr(self.realm)
        return f"StaticCredentials(username={self.username!r}, realm={realm})"
