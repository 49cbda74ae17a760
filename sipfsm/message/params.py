"""Parameters: the ``;name=value`` lists of URIs and header field values.

A :class:`Params` is an immutable mapping from lower-case parameter name to the value *as written*
(escapes of URI parameters and the quotes of quoted-string header parameters are kept), or ``None``
for a parameter without a value (``;lr``, ``;rport``).  Parameter names are case-insensitive
(§7.3.1); their order is not significant (§19.1.4), so two Params are equal when they hold the same
names and values in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeAlias

from sipfsm.errors import ParseError
from sipfsm.message._syntax import HEADER_PARAM_RE, unquote

__all__ = ["ParamValue", "Params", "parse_header_params"]

ParamValue: TypeAlias = "str | None"


class Params(Mapping[str, "str | None"]):
    """Immutable, ordered ``name -> value`` (``None`` for a flag parameter)."""

    __slots__ = ("_data", "_hash")

    _data: dict[str, str | None]
    _hash: int | None

    def __init__(
        self, items: Mapping[str, str | None] | Iterable[tuple[str, str | None]] = ()
    ) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        data: dict[str, str | None] = {}
        for name, value in pairs:
            key = name.lower()
            if not key:
                raise ValueError("a parameter name cannot be empty")
            data[key] = value
        self._data = data
        self._hash = None

    @classmethod
    def _trusted(cls, data: dict[str, str | None]) -> Params:
        """Wrap an already lower-cased dict without copying (parser fast path)."""
        return _params_of(data)

    def __getitem__(self, key: str) -> str | None:
        data = self._data
        return data[key] if key in data else data[key.lower()]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        data = self._data
        if key in data:
            return data[key]
        return data.get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._data or key.lower() in self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Params):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        try:
            value = self._hash
        except AttributeError:  # made by _params_of: hashed when first asked
            value = None
        if value is None:
            value = self._hash = hash(frozenset(self._data.items()))
        return value

    def __repr__(self) -> str:
        return f"Params({self._data!r})"

    def __str__(self) -> str:
        """``;name=value;flag`` -- empty for no parameters."""
        return "".join(
            f";{name}" if value is None else f";{name}={value}"
            for name, value in self._data.items()
        )

    def unquoted(self, key: str) -> str | None:
        """The value with the quotes of a quoted-string removed and its quoted-pairs resolved."""
        value = self._data.get(key.lower())
        if value is not None and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            return unquote(value)
        return value

    def with_param(self, name: str, value: str | None = None) -> Params:
        data = dict(self._data)
        data[name.lower()] = value
        return Params._trusted(data)

    def without(self, name: str) -> Params:
        data = dict(self._data)
        data.pop(name.lower(), None)
        return Params._trusted(data)


_new = object.__new__
_SET_DATA = Params.__dict__["_data"].__set__


def _params_of(data: dict[str, str | None]) -> Params:
    """A Params wrapping ``data`` (already lower-cased names) without copying it."""
    obj: Params = _new(Params)
    _SET_DATA(obj, data)
    return obj


EMPTY_PARAMS = Params()


def parse_header_params(text: str, pos: int, where: str) -> Params:
    """Parse ``*(SEMI generic-param)`` from ``text[pos:]`` to its end (§25 generic-param).

    Values are a token, a host or a quoted-string (kept with its quotes).  A parameter name that
    appears twice is an error (§7.3.1: "any given parameter-name MUST NOT appear more than once").
    """
    end = len(text)
    if pos >= end:
        return EMPTY_PARAMS
    data: dict[str, str | None] = {}
    match = HEADER_PARAM_RE.match
    while pos < end:
        found = match(text, pos)
        if found is None:
            if not text[pos:].strip(" \t"):
                break
            raise ParseError(f"malformed parameter {text[pos : pos + 40]!r}", where=where)
        name = found.group(1).lower()
        if name in data:
            raise ParseError(f"parameter {name!r} appears twice", where=where)
        data[name] = found.group(2)
        pos = found.end()
    return Params._trusted(data)
