"""Header fields: names, compact forms, and the ordered, immutable :class:`Headers` collection.

RFC 3261 §7.3: field names are case-insensitive, compact forms (§7.3.3, §20) are the same field as
their long names, and several rows of one list header are equivalent to one comma-separated row.
:class:`Headers` keeps every row in order with the name in its canonical long form (unknown names
as written), and answers lookups by any spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from operator import methodcaller

from sipfsm.errors import LocalProtocolError, ParseError
from sipfsm.message._syntax import TOKEN_CHARS, TOKEN_RE, comma_positions, split_commas

__all__ = [
    "AUTH_HEADERS",
    "COMPACT_FORMS",
    "LIST_HEADERS",
    "Headers",
    "canonical_name",
    "header_key",
]

# §20 (and the registered extensions a registration client meets) in canonical spelling.
_KNOWN = (
    "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "Flow-Timer", "From",
    "Identity", "Identity-Info", "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires",
    "Organization", "P-Asserted-Identity", "P-Associated-URI", "P-Preferred-Identity", "Path",
    "Priority", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Reason",
    "Record-Route", "Refer-To", "Referred-By", "Reject-Contact", "Reply-To", "Request-Disposition",
    "Require", "Retry-After", "Route", "Security-Client", "Security-Server", "Security-Verify",
    "Server", "Service-Route", "Session-Expires", "Subject", "Supported", "Timestamp", "To",
    "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
)  # fmt: skip

# §7.3.3 / §20 compact forms (RFC 3261: i m e l c f s k t v; later RFCs: the rest).
COMPACT_FORMS = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
    "o": "Event", "r": "Refer-To", "b": "Referred-By", "u": "Allow-Events", "x": "Session-Expires",
    "a": "Accept-Contact", "j": "Reject-Contact", "d": "Request-Disposition", "y": "Identity",
    "n": "Identity-Info",
}  # fmt: skip

# Headers whose grammar is ``header-value *(COMMA header-value)`` (§7.3): get_all splits them.
LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
        "Allow-Events", "Call-Info", "Contact", "Content-Encoding", "Content-Language",
        "Error-Info", "In-Reply-To", "P-Asserted-Identity", "P-Associated-URI",
        "P-Preferred-Identity", "Path", "Proxy-Require", "Reason", "Record-Route",
        "Reject-Contact", "Require", "Route", "Security-Client", "Security-Server",
        "Security-Verify", "Service-Route", "Supported", "Unsupported", "Via", "Warning",
    )
)  # fmt: skip

# §7.3.1: these are not comma lists; each row carries one challenge or credentials.
AUTH_HEADERS = frozenset(
    ("www-authenticate", "proxy-authenticate", "authorization", "proxy-authorization")
)

# spelling -> (canonical name, lookup key).  Pre-filled with the usual spellings of known names
# only, so attacker-chosen names never grow it.
_SPELLINGS: dict[str, tuple[str, str]] = {}
for _name in _KNOWN:
    _entry = (_name, _name.lower())
    for _spelling in (_name, _name.lower(), _name.upper(), _name.title()):
        _SPELLINGS[_spelling] = _entry
for _short, _long in COMPACT_FORMS.items():
    _entry = (_long, _long.lower())
    _SPELLINGS[_short] = _entry
    _SPELLINGS[_short.upper()] = _entry
del _name, _entry, _spelling, _short, _long
# spelling -> lookup key, for the parser's loop.
_KEYS: dict[str, str] = {spelling: entry[1] for spelling, entry in _SPELLINGS.items()}

# Splits of rows already seen (rows repeat across messages): bounded in entries and key size.
_SPLIT_ENTRIES = 1024
_SPLIT_KEY_MAX = 1024
_LIST_SPLITS: dict[str, tuple[str, ...]] = {}
_CHALLENGE_SPLITS: dict[str, tuple[str, ...]] = {}

# After a comma: an auth-param (``name = value``) or an empty element continues the challenge.
_CHALLENGE_CONTINUATION_RE = re.compile(f"[ \\t]*(?:[{TOKEN_CHARS}]+[ \\t]*=|,|$)")
_BAD_VALUE_CHARS = re.compile("[\r\n]")


def _lookup(name: str) -> tuple[str, str]:
    """(canonical name, lookup key) of a field name in any spelling."""
    entry = _SPELLINGS.get(name)
    if entry is not None:
        return entry
    lower = name.lower()
    entry = _SPELLINGS.get(lower)
    if entry is not None:
        return entry
    return name, lower


def canonical_name(name: str) -> str:
    """The canonical long form of a known field name (``v`` -> ``Via``); others as given."""
    return _lookup(name)[0]


def header_key(name: str) -> str:
    """The case-insensitive key of a field name: canonical long form, lower-cased."""
    return _lookup(name)[1]


class Headers:
    """An immutable, ordered list of header field rows ``(name, value)``.

    Names are normalised to their canonical long form (``m`` and ``CONTACT`` become ``Contact``);
    values are unfolded text.  Equality compares the rows in order.
    """

    __slots__ = ("_first", "_index", "_items", "_lines", "_multi", "_unknown")

    _items: tuple[tuple[str, str], ...] | None  # None until asked for (see _rows)
    _index: dict[str, list[str]] | None  # lookup key -> the values of its rows, in order
    # The parser's common case: every name in canonical spelling (or an unknown name, a token
    # that is no spelling of a known one).  ``_lines``: the header lines; ``_first``: name ->
    # the value of its first row as written after the colon (whitespace stripped when read);
    # ``_multi``: name -> the values of all its rows, for the names with several rows (None when
    # there is none); ``_unknown``: some name is unknown (then a lookup by an unknown name needs
    # the case-insensitive ``_index``).  A client reads a few fields by name and rarely walks
    # the rows, so nothing more is made until asked for.
    _lines: list[str]
    _first: dict[str, str] | None
    _multi: dict[str, list[str]] | None
    _unknown: bool

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        rows: list[tuple[str, str]] = []
        append = rows.append
        spellings = _SPELLINGS
        for name, value in items:
            entry = spellings.get(name) if type(name) is str else None
            if entry is None:
                if not isinstance(name, str):
                    raise LocalProtocolError(f"header name must be str, not {type(name)}")
                entry = spellings.get(name.lower())
                if entry is None:
                    if TOKEN_RE.fullmatch(name) is None:
                        raise LocalProtocolError(f"invalid header field name {name!r}")
                    entry = (name, "")
            if type(value) is not str and not isinstance(value, str):
                raise LocalProtocolError(f"header {name!r}: value must be str, not {type(value)}")
            if "\r" in value or "\n" in value:
                raise LocalProtocolError(f"header {name!r}: value contains CR or LF")
            append((entry[0], value.strip(" \t")))
        self._items = tuple(rows)
        self._index = None
        self._first = None
        self._multi = None

    @classmethod
    def _trusted(
        cls, items: tuple[tuple[str, str], ...], index: dict[str, list[str]] | None = None
    ) -> Headers:
        """Already-normalised rows (parser fast path)."""
        obj = _new_headers(cls)
        obj._items = items
        obj._index = index
        obj._first = None
        obj._multi = None
        return obj

    def _rows(self) -> tuple[tuple[str, str], ...]:
        items = self._items
        if items is None:
            items = self._items = tuple(
                [(name, value.strip(" \t")) for name, _, value in map(_PARTITION, self._lines)]
            )
        return items

    def _get_index(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for row_name, value in self._rows():
                key = _lookup(row_name)[1]
                found = index.get(key)
                if found is None:
                    index[key] = [value]
                else:
                    found.append(value)
            self._index = index
        return index

    def _known(self, first: dict[str, str], name: str) -> list[str] | None:
        """Fast mode: the stripped values of the rows of ``name`` (canonical spelling)."""
        value = first.get(name)
        if value is None:
            return None
        multi = self._multi
        if multi is not None and name in multi:
            return [v.strip(" \t") for v in multi[name]]
        return [value.strip(" \t")]

    def _values(self, name: str) -> list[str] | None:
        entry = _SPELLINGS.get(name)
        first = self._first
        if first is not None:
            if entry is None:
                entry = _SPELLINGS.get(name.lower())
            if entry is not None:
                return self._known(first, entry[0])
            if not self._unknown:
                return None
        index = self._index
        if index is None:
            index = self._get_index()
        return index.get(entry[1] if entry is not None else name.lower())

    def _single(self, name: str, key: str) -> str | None:
        """The one row of the known field ``name`` (canonical spelling; ``key`` its lookup key),
        None when absent; ParseError when it appears on several rows."""
        first = self._first
        if first is not None:
            value = first.get(name)
            if value is None:
                return None
            multi = self._multi
            if multi is not None and name in multi:
                raise ParseError(f"{name} appears {len(multi[name])} times", where=name)
            return value.strip(" \t")
        index = self._index
        if index is None:
            index = self._get_index()
        lines = index.get(key)
        if not lines:
            return None
        if len(lines) > 1:
            raise ParseError(f"{name} appears {len(lines)} times", where=name)
        return lines[0]

    # -- reading -------------------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The first row's whole value, or None."""
        values = self._values(name)
        return values[0] if values else None

    def get_lines(self, name: str) -> list[str]:
        """Every row's whole value, in order (no splitting)."""
        values = self._values(name)
        return list(values) if values else []

    def get_all(self, name: str) -> list[str]:
        """Every element across all rows.

        * List headers (§7.3: Via, Contact, Route, Supported ...) are split at the commas outside
          quoted-strings and ``<...>``; empty elements are dropped.
        * WWW-Authenticate, Proxy-Authenticate, Authorization and Proxy-Authorization are *not*
          comma lists (§7.3.1): each element is one challenge or credentials.  A row normally
          holds one, and then is returned whole; a row holding several is split only where a new
          challenge starts (an element that is not ``name=value``, i.e. an auth-scheme).
        * Every other header gives one element per row (Date, for instance, contains a comma).
        """
        return list(self.elements(name))

    def elements(self, name: str) -> tuple[str, ...]:
        """:meth:`get_all` as a tuple (no copy: the split of each row is remembered)."""
        values = self._values(name)
        if not values:
            return ()
        entry = _SPELLINGS.get(name)
        key = entry[1] if entry is not None else name.lower()
        split: Callable[[str, str], list[str]]
        if key in LIST_HEADERS:
            # A row without a comma is one element (the common Via, Contact ...); the value is
            # already stripped, and an empty one has no element.
            if len(values) == 1:
                only = values[0]
                if "," not in only:
                    return (only,) if only else ()
            else:
                for line in values:
                    if "," in line or not line:
                        break
                else:
                    return tuple(values)
            cache, split = _LIST_SPLITS, split_commas
        elif key in AUTH_HEADERS:
            cache, split = _CHALLENGE_SPLITS, _split_challenges
        else:
            return tuple(values)
        if len(values) == 1:
            found = cache.get(values[0])
            if found is not None:
                return found
        out: list[str] = []
        for line in values:
            parts = cache.get(line)
            if parts is None:
                parts = tuple(split(line, canonical_name(name)))
                if len(line) <= _SPLIT_KEY_MAX:
                    if len(cache) >= _SPLIT_ENTRIES:
                        cache.clear()
                    cache[line] = parts
            out.extend(parts)
        return tuple(out)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows())

    def __len__(self) -> int:
        items = self._items
        return len(items) if items is not None else len(self._rows())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self._values(name))

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        return self._rows()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._rows() == other._rows()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._rows())

    def __repr__(self) -> str:
        return f"Headers({list(self._rows())!r})"

    # -- building ------------------------------------------------------------------------------

    def with_added(self, name: str, value: str) -> Headers:
        """A copy with a row appended."""
        return Headers._trusted(self._rows() + _one_row(name, value))

    def with_prepended(self, name: str, value: str) -> Headers:
        """A copy with a row put first (a new topmost Via, for instance)."""
        return Headers._trusted(_one_row(name, value) + self._rows())

    def with_replaced(self, name: str, value: str) -> Headers:
        """A copy where the rows of ``name`` become one row at the first one's place (appended
        when there was none)."""
        new = _one_row(name, value)[0]
        key = header_key(new[0])
        rows: list[tuple[str, str]] = []
        placed = False
        for row in self._rows():
            if header_key(row[0]) == key:
                if not placed:
                    rows.append(new)
                    placed = True
            else:
                rows.append(row)
        if not placed:
            rows.append(new)
        return Headers._trusted(tuple(rows))

    def without(self, name: str) -> Headers:
        """A copy without any row of ``name``."""
        key = header_key(name)
        return Headers._trusted(tuple(row for row in self._rows() if header_key(row[0]) != key))


_new_headers = object.__new__
_PARTITION = methodcaller("partition", ":")


def _one_row(name: str, value: str) -> tuple[tuple[str, str], ...]:
    items = Headers([(name, value)])._items
    assert items is not None
    return items


def _split_challenges(line: str, where: str) -> list[str]:
    commas = comma_positions(line, where)
    if not commas:
        stripped = line.strip(" \t")
        return [stripped] if stripped else []
    out: list[str] = []
    start = 0
    continuation = _CHALLENGE_CONTINUATION_RE.match
    for comma in commas:
        # A new challenge starts with an auth-scheme.
        if continuation(line, comma + 1) is None:
            part = line[start:comma].strip(" \t")
            if part:
                out.append(part)
            start = comma + 1
    part = line[start:].strip(" \t").rstrip(", \t")  # empty trailing elements
    if part:
        out.append(part)
    return out
