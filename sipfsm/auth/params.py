"""Auth-param lists: the ``name=value, name="value"`` text of challenges, credentials and
``Authentication-Info`` (RFC 3261 §25.1, RFC 7235 §2.1 as RFC 7616 uses it).

Parsing
    * parameter names are tokens, compared case-insensitively (kept lower-case here);
    * values are a token or a quoted-string; a quoted-string may hold commas, ``=`` and
      UTF-8, and ``\\x`` escapes any character (unescaped here); line folds (CRLF + SP/HTAB)
      count as whitespace;
    * a name given twice is an error (RFC 7616 §3.3/§3.4 define each parameter once, and a
      duplicated ``nonce`` or ``realm`` would make the answer ambiguous);
    * control characters other than HTAB are refused even inside quotes or behind a backslash,
      so nothing parsed here can inject a line into a header we write later.

A ``WWW-Authenticate`` line in SIP carries one challenge, but HTTP's ``1#challenge`` form (several
challenges joined by commas) is accepted where it is unambiguous: after a comma, ``token =``
continues the current challenge and ``token SP ...`` or a lone ``token`` starts a new one
(:func:`split_challenges`).

Serialising (:func:`format_params`) quotes exactly the parameters the caller marks as quoted,
escaping ``\\`` and ``"``; unquoted values must be tokens.  ``parse(format(p)) == p`` for every
well-formed list (tested as a property).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple, NoReturn

from sipfsm.auth.errors import ChallengeError
from sipfsm.errors import LocalProtocolError, ParseError

__all__ = [
    "AuthParam",
    "RawChallenge",
    "format_param",
    "format_params",
    "is_token",
    "parse_auth_params",
    "quote",
    "split_challenges",
]

# RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
# LWS = [*WSP CRLF] 1*WSP; a bare LF fold is tolerated, a CR or LF not followed by WSP is not.
_WS = r"(?:[ \t]++|\r?\n(?=[ \t]))*+"
# qdtext (no controls but HTAB; UTF-8 welcome) / quoted-pair (printable ASCII or HTAB) / a fold.
# (Runs of qdtext are matched in one step: the regex engine is slow per alternation.  Every
# repetition here is possessive: a run nested in a repetition would otherwise backtrack
# exponentially on a quote left open -- 24 characters took seconds.)
_QCONTENT = r'(?:[^"\\\x00-\x08\x0a-\x1f\x7f]++|\\[\t\x20-\x7e]|\r?\n[ \t])*+'
_TOKEN_RE = re.compile(_TOKEN)
_TOKEN_FULL_RE = re.compile(_TOKEN + r"\Z")
_WS_RE = re.compile(_WS)
_SEP_RE = re.compile(r"(?:[ \t,]++|\r?\n(?=[ \t]))*+")
_PARAM_RE = re.compile(
    rf'(?P<name>{_TOKEN}){_WS}={_WS}(?:"(?P<q>{_QCONTENT})"|(?P<t>{_TOKEN})){_WS}'
)
# One whole list item: the parameter, then a comma (and any separators after it) or the end.
_ITEM_RE = re.compile(
    rf'(?P<name>{_TOKEN}){_WS}={_WS}(?:"(?P<q>{_QCONTENT})"|(?P<t>{_TOKEN})){_WS}'
    r"(?P<end>,(?:[ \t,]++|\r?\n(?=[ \t]))*+|\Z)"
)
_PARAM_START_RE = re.compile(rf"{_TOKEN}{_WS}=")
# RFC 7235 token68, for other schemes (Basic, Bearer ...) that sipfsm skips but must step over.
_TOKEN68_RE = re.compile(rf"[A-Za-z0-9\-._~+/]+=*{_WS}(?=,|\Z)")
_UNESCAPE_RE = re.compile(r"\\(.)|\r?\n(?=[ \t])", re.DOTALL)
_NEEDS_ESCAPE_RE = re.compile(r'["\\]')
# Text that quotes as it is (no quote, backslash or control character): the usual case.
_QUOTES_PLAIN_RE = re.compile(r'[^"\\\x00-\x08\x0a-\x1f\x7f]*')
_FORBIDDEN_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class AuthParam(NamedTuple):
    """One parameter: ``name`` lower-case, ``value`` unescaped, ``quoted`` as written."""

    name: str
    value: str
    quoted: bool


class RawChallenge(NamedTuple):
    """One challenge as written: its scheme (case kept), its parameters in order, or a token68
    (other schemes only)."""

    scheme: str
    params: dict[str, AuthParam]
    token68: str | None = None


def is_token(text: str) -> bool:
    return _TOKEN_FULL_RE.match(text) is not None


def _unescape(text: str) -> str:
    if "\\" not in text and "\n" not in text:
        return text
    return _UNESCAPE_RE.sub(lambda m: m.group(1) or "", text)


def _snippet(text: str, pos: int) -> str:
    part = text[pos : pos + 24]
    return repr(part + ("..." if len(text) > pos + 24 else ""))


def _parse_param_list(
    text: str, pos: int, params: dict[str, AuthParam], *, error: type[ParseError], where: str,
    stop_at_new_challenge: bool,
) -> int:
    """Parse ``param *(COMMA param)`` from ``pos`` into ``params``; return where it stopped (the
    end, or -- with ``stop_at_new_challenge`` -- the start of the next challenge)."""
    n = len(text)
    first = True
    item_match = _ITEM_RE.match
    while True:
        found = item_match(text, pos)
        if found is None:
            if stop_at_new_challenge and not first and _PARAM_START_RE.match(text, pos) is None:
                return pos  # "scheme ..." or a lone scheme: the next challenge starts here
            _raise_at(text, pos, error, where)
        name, quoted_value, token_value, end = found.group("name", "q", "t", "end")
        name = name.lower()
        if quoted_value is not None:
            param = AuthParam(name, _unescape(quoted_value), True)
        else:
            param = AuthParam(name, token_value, False)
        if name in params:
            raise error(f"parameter {name!r} given twice", where=where)
        params[name] = param
        pos = found.end()
        if not end or pos == n:
            return n
        first = False


def _raise_at(text: str, pos: int, error: type[ParseError], where: str) -> NoReturn:
    """Say what is wrong at ``pos`` (only on the error path, so it can afford a second look)."""
    found = _PARAM_RE.match(text, pos)
    if found is None:
        raise error(f"expected name=value at character {pos}: {_snippet(text, pos)}",
                    where=where)
    end = found.end()
    raise error(f"expected ',' at character {end}: {_snippet(text, end)}", where=where)


def parse_auth_params(
    text: str, *, error: type[ParseError] = ChallengeError, where: str = "auth-param list"
) -> dict[str, AuthParam]:
    """``name=value *(, name=value)`` -> ordered ``{lower-case name: AuthParam}``.

    Empty list elements (``a=1,,b=2``) are allowed as in RFC 7230's ``#rule``; an empty text
    gives an empty dict.  Raises ``error`` (a :class:`ParseError`) for anything else malformed.
    """
    params: dict[str, AuthParam] = {}
    pos = _SEP_RE.match(text, 0).end()  # type: ignore[union-attr]
    if pos < len(text):
        _parse_param_list(text, pos, params, error=error, where=where,
                          stop_at_new_challenge=False)
    return params


def split_challenges(
    value: str, *, error: type[ParseError] = ChallengeError, where: str = "challenge"
) -> list[RawChallenge]:
    """Every challenge in one header value (usually one; see the module docstring)."""
    text = value
    n = len(text)
    pos = _SEP_RE.match(text, 0).end()  # type: ignore[union-attr]
    out: list[RawChallenge] = []
    while pos < n:
        scheme_match = _TOKEN_RE.match(text, pos)
        if scheme_match is None:
            raise error(f"expected an auth-scheme at character {pos}: {_snippet(text, pos)}",
                        where=where)
        scheme = scheme_match.group()
        after = scheme_match.end()
        pos = _WS_RE.match(text, after).end()  # type: ignore[union-attr]
        params: dict[str, AuthParam] = {}
        token68: str | None = None
        if pos < n and text[pos] != ",":
            if pos == after:
                raise error(f"auth-scheme {scheme!r} must be followed by whitespace",
                            where=where)
            t68 = _TOKEN68_RE.match(text, pos)
            if t68 is not None and scheme.lower() != "digest":
                token68 = t68.group().rstrip(" \t\r\n")
                pos = t68.end()
            else:
                pos = _parse_param_list(text, pos, params, error=error, where=where,
                                        stop_at_new_challenge=True)
        out.append(RawChallenge(scheme, params, token68))
        pos = _SEP_RE.match(text, pos).end()  # type: ignore[union-attr]
    return out


def quote(value: str) -> str:
    """``value`` as a quoted-string (RFC 3261 §25.1): ``"`` and ``\\`` escaped.  Refuses control
    characters (they cannot be carried, and would split the header line)."""
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # the usual case, without a regular expression
    if _QUOTES_PLAIN_RE.fullmatch(value) is not None:
        return f'"{value}"'
    if _FORBIDDEN_RE.search(value):
        raise LocalProtocolError("a quoted-string cannot carry control characters")
    if _NEEDS_ESCAPE_RE.search(value):
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def format_param(name: str, value: str, quoted: bool) -> str:
    if not quoted:
        if not is_token(value):
            raise LocalProtocolError(f"parameter {name!r} must be a token to go unquoted")
        return f"{name}={value}"
    return f"{name}={quote(value)}"


def format_params(params: Iterable[AuthParam | tuple[str, str, bool]]) -> str:
    """``name=value, name="value", ...`` in the given order."""
    return ", ".join(format_param(name, value, quoted) for name, value, quoted in params)
