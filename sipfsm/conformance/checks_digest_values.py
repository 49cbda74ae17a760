"""Conformance checks for the values the Digest client is built on (spec/digest.toml): our own
SHA-512/256 (FIPS 180-4, the fallback when OpenSSL has none), a stored H(A1) in place of the
password (RFC 7616 §3.4.2), the realm as a case-sensitive quoted-string (RFC 3261 §7.3.1,
§22.1), the quoted-strings written into credentials (RFC 3261 §25.1) and the RFC 8187
``username*`` (RFC 7616 §3.4).

Expected values come from FIPS 180-4's published examples, from :mod:`hashlib` (OpenSSL, written
apart from sipfsm), from grammars written out here from the RFCs' ABNF, and from
:mod:`urllib.parse` for percent-decoding -- never from sipfsm's own hash or quoting code.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.auth import DigestClient, StaticCredentials, build_authorization
from sipfsm.auth._sha512_256 import sha512_256_hex
from sipfsm.auth.params import quote
from sipfsm.conformance.digest_reference import expected_response, read_credentials
from sipfsm.conformance.digest_support import PASSWORD, REALM, URI, USER, only
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import AuthenticationFailed, ConfigError, LocalProtocolError
from sipfsm.sim import SeededRandom

# --------------------------------------------------------------------------------------------
# RFC 8760 §2.1 / FIPS 180-4: SHA-512/256, our own implementation
# --------------------------------------------------------------------------------------------

_FIPS = "RFC8760-2.1-SHA-512-256-FIPS"
# FIPS 180-4 examples (NIST CSRC "SHA-512/256" example values): one block, two blocks, and the
# empty message (the value RFC 8760 §2.6's empty-body hash takes for SHA-512-256).
_FIPS_EXAMPLES = (
    (b"abc", "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"),
    (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
     b"klmnopqrlmnopqrsmnopqrstnopqrstu",
     "3928e184fb8690f840da3988121d31be65cb9d3ef83ee6146feac861e19b563a"),
    (b"", "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"),
)


def _openssl_sha512_256(data: bytes) -> str | None:
    try:
        return hashlib.new("sha512_256", data, usedforsecurity=False).hexdigest()
    except ValueError:  # an OpenSSL without it: the published examples still judge
        return None


@check(_FIPS)
def own_sha512_256_gives_the_fips_examples() -> None:
    """sipfsm's own SHA-512/256 (used when OpenSSL has none) gives FIPS 180-4's published
    digests: "abc", the 896-bit message that pads into a second block, the empty message --
    and not SHA-512 truncated (RFC 7616 erratum 4897)."""
    for message, digest in _FIPS_EXAMPLES:
        got = sha512_256_hex(message)
        expect(_FIPS, got == digest, f"SHA-512/256({message[:8]!r}...) = {got}, FIPS: {digest}")
        truncated = hashlib.sha512(message).hexdigest()[:64]
        expect(_FIPS, got != truncated, f"{message[:8]!r}: SHA-512 truncated, not SHA-512/256")


# Lengths where the padding changes shape (FIPS 180-4 §5.1.2: l + 1 + k = 896 mod 1024, then a
# 128-bit length): 111 bytes fit one block, 112..127 need a second one.
_BOUNDARY_LENGTHS = st.sampled_from([0, 1, 55, 56, 63, 64, 110, 111, 112, 113, 119, 120, 127,
                                     128, 129, 239, 240, 255, 256, 300])


@check(_FIPS)
@example(data=b"\x00" * 112)
@example(data=b"\xff" * 127)
@given(data=st.one_of(
    st.binary(max_size=300),
    st.tuples(_BOUNDARY_LENGTHS, st.integers(0, 255)).map(lambda t: bytes([t[1]]) * t[0]),
    _BOUNDARY_LENGTHS.flatmap(lambda n: st.binary(min_size=n, max_size=n)),
))
def own_sha512_256_is_openssl_s(data: bytes) -> None:
    """For any message (every length around the padding boundaries), our SHA-512/256 is
    OpenSSL's: 64 lower-case hex digits, the leftmost 256 bits of the SHA-512/256 state."""
    reference = _openssl_sha512_256(data)
    if reference is None:
        return
    got = sha512_256_hex(data)
    expect(_FIPS, got == reference, f"{len(data)} bytes: {got}, OpenSSL: {reference}")


# --------------------------------------------------------------------------------------------
# RFC 7616 §3.4.2: a stored H(A1), per algorithm
# --------------------------------------------------------------------------------------------

_STORED = "RFC7616-3.4.2-STORED-HA1"
_HASHLIB = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def _ha1(base: str, username: str, realm: str, password: str) -> str | None:
    """H(A1) = H(unq(username) ":" unq(realm) ":" passwd), with hashlib."""
    try:
        return hashlib.new(_HASHLIB[base], f"{username}:{realm}:{password}".encode(),
                           usedforsecurity=False).hexdigest()
    except ValueError:
        return None


def _spelled(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if flips[i % len(flips)] else c for i, c in enumerate(text))


@check(_STORED)
@example(base="MD5", sess=False, key_flips=[True], hex_flips=[True])
@given(base=st.sampled_from(list(_HASHLIB)), sess=st.booleans(),
       key_flips=st.lists(st.booleans(), min_size=1, max_size=6),
       hex_flips=st.lists(st.booleans(), min_size=1, max_size=6))
def a_stored_ha1_answers_as_the_password_would(base: str, sess: bool, key_flips: list[bool],
                                               hex_flips: list[bool]) -> None:
    """Credentials holding only H(A1) -- its algorithm named in any case (a token), its hex in
    any case -- answer a challenge of that algorithm (or its -sess variant) with the response
    the password gives (lower-case hex in KD: RFC 8760 §2.2)."""
    ha1 = _ha1(base, USER, REALM, PASSWORD)
    if ha1 is None:
        return
    algorithm = f"{base}-sess" if sess else base
    credentials = StaticCredentials(USER, ha1={_spelled(base, key_flips):
                                               _spelled(ha1, hex_flips)})
    digest = DigestClient(credentials, SeededRandom(5))
    try:
        digest.handle_challenge(401, [f'Digest realm="{REALM}", nonce="n1", '
                                      f'algorithm={algorithm}, qop="auth"'])
    except AuthenticationFailed as exc:
        expect(_STORED, False, f"{algorithm} with its stored H(A1) not answered: {exc}")
        return
    sent = read_credentials(only(digest.authorization_headers("REGISTER", URI)))
    expect(_STORED, sent.get("response") == expected_response(sent, method="REGISTER",
                                                              password=PASSWORD),
           f"{algorithm}, H(A1) given as {_spelled(ha1, hex_flips)[:8]}...: "
           "not the password's response")


@check(_STORED)
def a_stored_ha1_is_its_algorithm_s_digest() -> None:
    """An H(A1) of another length than its algorithm's digest (MD5: 32 hex digits, SHA-256
    and SHA-512-256: 64) is a configuration error, not a wrong answer sent; and it answers its
    own algorithm only."""
    md5 = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    sha256 = hashlib.sha256(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    for base, wrong in (("MD5", sha256), ("SHA-256", md5), ("SHA-512-256", md5),
                        ("MD5", md5[:-1]), ("SHA-256", sha256 + "0")):
        try:
            StaticCredentials(USER, ha1={base: wrong})
        except ConfigError:
            continue
        expect(_STORED, False, f"a {len(wrong)}-digit H(A1) accepted for {base}")
    digest = DigestClient(StaticCredentials(USER, ha1={"MD5": md5}), SeededRandom(6))
    try:
        digest.handle_challenge(401, [f'Digest realm="{REALM}", nonce="n", algorithm=SHA-256'])
    except AuthenticationFailed:
        return
    except Exception as exc:  # any other outcome breaks the rule
        expect(_STORED, False, f"an MD5 H(A1) facing SHA-256 only: {exc!r}")
        return
    expect(_STORED, False, "an MD5 H(A1) answered a SHA-256 challenge")


# --------------------------------------------------------------------------------------------
# RFC 3261 §7.3.1 / §22.1: the realm is a quoted-string, compared as written
# --------------------------------------------------------------------------------------------

_CASE = "RFC3261-7.3.1-DIGEST-CHALLENGE-CASE"


@check(_CASE)
@given(flips=st.lists(st.booleans(), min_size=1, max_size=8).filter(any))
def credentials_for_a_realm_are_not_given_to_its_other_casings(flips: list[bool]) -> None:
    """Credentials kept for realm "example.com" answer that realm, and not "Example.COM": a
    realm is a quoted-string (case-sensitive, §7.3.1) and alone defines the protection domain
    (§22.1)."""
    other = _spelled(REALM, flips)
    if other == REALM:
        return
    store = StaticCredentials(USER, PASSWORD, realm=REALM)
    mine = DigestClient(store, SeededRandom(7))
    mine.handle_challenge(401, [f'Digest realm="{REALM}", nonce="n", qop="auth"'])
    expect(_CASE, mine.authorization_headers("REGISTER", URI), "its own realm not answered")
    digest = DigestClient(store, SeededRandom(7))
    try:
        digest.handle_challenge(401, [f'Digest realm="{other}", nonce="n", qop="auth"'])
    except AuthenticationFailed:
        return
    expect(_CASE, False, f"credentials for {REALM!r} sent to realm {other!r}: "
                         f"{digest.authorization_headers('REGISTER', URI)}")


# --------------------------------------------------------------------------------------------
# RFC 3261 §25.1: the quoted-strings written into credentials
# --------------------------------------------------------------------------------------------

_QUOTING = "RFC3261-25.1-DIGEST-QUOTED-PAIR"
# RFC 3261 §25.1, written out: quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE;
# qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; quoted-pair = "\" (%x00-09 /
# %x0B-0C / %x0E-7F).  (LWS inside is a fold: a writer has no reason to produce one.)
_QUOTED_STRING = re.compile(r'"(?:[ \t\x21\x23-\x5b\x5d-\x7e\u0080-\U0010ffff]'
                            r'|\\[\x00-\x09\x0b\x0c\x0e-\x7f])*"')


def _read_quoted(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)


@check(_QUOTING)
@example(value="a\\b")
@example(value='say "hi"\\')
@example(value="line\r\nInjected: yes")
@example(value="\n")
@given(value=st.text(st.one_of(st.sampled_from('"\\\r\n\t ;,='),
                               st.characters(exclude_categories=["Cs"])), max_size=24))
def quoted_strings_follow_the_grammar_and_read_back(value: str) -> None:
    """Any text goes out as a quoted-string of §25.1's grammar that reads back to the same
    text ('"' and '\\' escaped), or -- text a quoted-string cannot carry (CR, LF) -- is
    refused with LocalProtocolError: never a line break into the header."""
    try:
        written = quote(value)
    except LocalProtocolError:
        expect(_QUOTING, any(c in value for c in "\r\n") or any(
            (ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value),
            f"{value!r} refused, yet a quoted-string carries it")
        return
    expect(_QUOTING, "\r" not in written and "\n" not in written,
           f"{value!r} written with a line break: {written!r}")
    expect(_QUOTING, _QUOTED_STRING.fullmatch(written) is not None,
           f"{value!r} written as {written!r}: not a quoted-string")
    expect(_QUOTING, _read_quoted(written) == value,
           f"{value!r} written as {written!r} reads back as {_read_quoted(written)!r}")


@check(_QUOTING)
@example(username="a\\b", realm="r\\", nonce="n\\")
@given(username=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                        max_size=12),
       realm=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
       nonce=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                     max_size=12))
def credentials_carry_backslashes_and_quotes_escaped(username: str, realm: str,
                                                     nonce: str) -> None:
    """username, realm and nonce holding '\\' or '"' go out escaped: the reference reader
    gets the exact values back and the response is computed over them."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    value = build_authorization(f'Digest realm="{esc(realm)}", nonce="{esc(nonce)}", '
                                'qop="auth"', method="REGISTER", uri=URI, username=username,
                                password=PASSWORD, cnonce="c0ffee")
    sent = read_credentials(value)
    expect(_QUOTING, (sent.get("username"), sent.get("realm"), sent.get("nonce"))
           == (username, realm, nonce),
           f"sent {sent.get('username')!r}, {sent.get('realm')!r}, {sent.get('nonce')!r}")
    expect(_QUOTING, sent.get("response") == expected_response(sent, method="REGISTER",
                                                               password=PASSWORD),
           "the response is not over the values the server gets")


# --------------------------------------------------------------------------------------------
# RFC 7616 §3.4 / RFC 8187 §3.2.1: username*
# --------------------------------------------------------------------------------------------

_STAR = "RFC7616-3.4-USERNAME-STAR"
# RFC 8187 §3.2.1: ext-value = charset "'" [ language ] "'" value-chars; value-chars =
# *( pct-encoded / attr-char ); attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" /
# "." / "^" / "_" / "`" / "|" / "~".
_EXT_VALUE = re.compile(r"UTF-8'[A-Za-z0-9-]*'((?:%[0-9A-Fa-f]{2}|[A-Za-z0-9!#$&+\-.^_`|~])*)",
                        re.IGNORECASE)


@check(_STAR)
@example(username="J\u00e4s\u00f8n%41 Doe")
@example(username="\u00e9'%")
@given(username=st.text(st.one_of(st.sampled_from("%'\"\\ *#"),
                                  st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                                  st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF)),
                        min_size=1, max_size=12))
def username_star_is_an_rfc8187_ext_value(username: str) -> None:
    """A username with non-ASCII characters goes in username* (never in username), as an RFC
    8187 ext-value whose percent-decoding (UTF-8) is the username; an ASCII one goes in
    username."""
    value = build_authorization('Digest realm="r", nonce="n", qop="auth"', method="REGISTER",
                                uri=URI, username=username, password=PASSWORD, cnonce="c")
    sent = read_credentials(value)
    if username.isascii():
        expect(_STAR, sent.get("username") == username and "username*" not in sent,
               f"ASCII {username!r}: {value}")
        return
    star = sent.get("username*")
    expect(_STAR, star is not None and "username" not in sent,
           f"non-ASCII {username!r} not (only) in username*: {value}")
    if star is None:
        return
    found = _EXT_VALUE.fullmatch(star)
    expect(_STAR, found is not None, f"username*={star}: not an RFC 8187 ext-value")
    if found is not None:
        decoded = urllib.parse.unquote(found.group(1), encoding="utf-8", errors="strict")
        expect(_STAR, decoded == username, f"username*={star} decodes to {decoded!r}")


# --------------------------------------------------------------------------------------------
# RFC 3261 §7.3.1: a parameter named twice, on the general auth-param parser's way
# --------------------------------------------------------------------------------------------


@check("RFC8760-2.4-IGNORE-UNKNOWN", "RFC7616-3.5-RSPAUTH")
@given(name=st.sampled_from(["nonce", "realm", "NONCE"]),
       spacing=st.sampled_from([" ,", " , ", "\t,"]))
def a_parameter_named_twice_is_never_taken(name: str, spacing: str) -> None:
    """§7.3.1, "any given parameter-name MUST NOT appear more than once": a challenge that
    names nonce or realm twice (in a shape only the general parser reads: whitespace before
    a comma, a quoted-pair) is ignored, never answered with either value; an
    Authentication-Info naming nextnonce twice is unparsable (AuthenticationFailed), neither
    nonce adopted."""
    twice = (f'Digest realm="{REALM}"{spacing} nonce="a\\b"{spacing} {name}="again", '
             'qop="auth"')
    digest = DigestClient(StaticCredentials(USER, PASSWORD), SeededRandom(8))
    try:
        digest.handle_challenge(401, [twice])
    except AuthenticationFailed:
        pass
    else:
        expect("RFC8760-2.4-IGNORE-UNKNOWN", False,
               f"{twice!r} answered: {digest.authorization_headers('REGISTER', URI)}")
    digest = DigestClient(StaticCredentials(USER, PASSWORD), SeededRandom(8))
    digest.handle_challenge(401, [f'Digest realm="{REALM}", nonce="n1", qop="auth"'])
    digest.authorization_headers("REGISTER", URI)
    info = f'nextnonce="a"{spacing} nextnonce="b"'
    try:
        digest.handle_authentication_info(info)
    except AuthenticationFailed:
        return
    sent = read_credentials(only(digest.authorization_headers("REGISTER", URI)))
    expect("RFC7616-3.5-RSPAUTH", False,
           f"Authentication-Info {info!r} taken: next nonce {sent.get('nonce')!r}")
