"""The Digest client's shortcuts give what the general code gives: the one-step scanner of the
common challenge shape against the general auth-param parser, the plain-text quoting shortcut
against the RFC 3261 §25.1 escaping, and the HA1 kept per (realm, username, algorithm) against
a fresh computation -- and the kept HA1 shows nowhere."""

from __future__ import annotations

import pickle
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.auth import ChallengeError, DigestClient, StaticCredentials, parse_challenges
from sipfsm.auth import client as client_module
from sipfsm.auth.challenge import _from_raw, _scan_simple
from sipfsm.auth.params import quote, split_challenges
from sipfsm.auth.server import make_challenge, parse_credentials
from sipfsm.sim import SeededRandom

from .support import REALM, URI, USER, FakeServer, only

NAMES = ["realm", "nonce", "qop", "algorithm", "opaque", "stale", "domain", "charset",
         "userhash", "Realm", "NONCE", "QoP", "x-ext", "a"]
TOKENS = ["auth", "MD5", "SHA-256-sess", "true", "FALSE", "UTF-8", "abc", "a.b~c", "x'y"]
QUOTED = ['""', '"auth"', '"auth,auth-int"', '"sip:a.example.com sip:b"', '"n0nce=="',
          '"x, y = z"', '"caf\u00e9"', '"a\\"b"', '"a\\\\b"', '"tab\there"', '"fold\r\n x"',
          '"unterminated']
SEPARATORS = [", ", ",", ",  ", " , ", ",\r\n ", ", ,", ",\t"]
SCHEMES = ["Digest ", "Digest  ", "digest ", "DIGEST ", "Basic ", "Digest", " Digest "]


@st.composite
def challenge_texts(draw: st.DrawFn) -> str:
    """Mostly the common shape, with every way out of it drawn now and then."""
    items = draw(st.lists(
        st.tuples(st.sampled_from(NAMES), st.sampled_from(TOKENS + QUOTED),
                  st.sampled_from(["=", "=", "=", " = "])),
        max_size=7))  # fmt: skip
    text = draw(st.sampled_from(SCHEMES))
    for k, (name, value, equals) in enumerate(items):
        if k:
            text += draw(st.sampled_from(SEPARATORS))
        text += f"{name}{equals}{value}"
    return text + draw(st.sampled_from(["", "", " ", ",", ", Basic abc="]))


def general(text: str) -> object:
    try:
        return [_from_raw(raw) for raw in split_challenges(text)]
    except ChallengeError as exc:
        return ("error", str(exc))


def parsed(text: str) -> object:
    try:
        return parse_challenges(text)
    except ChallengeError as exc:
        return ("error", str(exc))


@given(challenge_texts())
def test_the_scanner_agrees_with_the_general_parser(text: str) -> None:
    assert parsed(text) == general(text)
    fast = _scan_simple(text)
    if fast is not None:
        assert [fast] == general(text)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256-sess", "SHA-512-256"])
def test_the_common_shape_takes_the_scanner(algorithm: str) -> None:
    text = make_challenge(REALM, nonce="bm9uY2U=", algorithm=algorithm, opaque="o", stale=True)
    fast = _scan_simple(text)
    assert fast is not None and [fast] == general(text)
    assert fast.stale and fast.algorithm == algorithm and fast.qop == ("auth",)
    # Kamailio's own form (tests/interop), one space after each comma, qop quoted.
    kamailio = ('Digest realm="sipfsm.test", nonce="Z0aH3mdGh9LTmJtq9Jz3aH8nYzQ1ZjEwMGU=", '
                'qop="auth"')
    assert _scan_simple(kamailio) == general(kamailio)[0]  # type: ignore[index]


def test_a_duplicated_name_is_left_to_the_general_parser() -> None:
    text = 'Digest realm="a", nonce="b", Realm="c"'
    assert _scan_simple(text) is None
    with pytest.raises(ChallengeError, match="twice"):
        parse_challenges(text)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_quote_shortcut_matches_the_escaping_rule(text: str) -> None:
    if any(c in text for c in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0a\x0b\x0c\x0d\x0e\x0f"
           "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"):
        with pytest.raises(Exception, match="control"):
            quote(text)
        return
    # RFC 3261 §25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); '"' and '\' need one.
    escaped = "".join("\\" + c if c in '"\\' else c for c in text)
    assert quote(text) == f'"{escaped}"'


# ---- HA1 kept per (realm, username, algorithm) ----------------------------------------------


class CountingHa1:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = client_module.ha1_from_password

        def counted(*args: object) -> str:
            self.calls += 1
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(client_module, "ha1_from_password", counted)


@pytest.mark.requirement("RFC7616-3.3-STALE-RETRY")
def test_a_stale_challenge_reuses_the_ha1_and_still_verifies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    counter = CountingHa1(monkeypatch)
    server = FakeServer(password="pw", algorithms=("SHA-256",))
    digest = DigestClient(StaticCredentials(USER, "pw"), SeededRandom())
    digest.handle_challenge(401, server.challenges())
    assert server.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    for _ in range(2):  # within max_attempts (3)
        digest.handle_challenge(401, server.challenges(stale=True))
        value = only(digest.authorization_headers("REGISTER", URI))
        assert server.verify(value).ok and parse_credentials(value).nc == "00000001"
    assert counter.calls == 1


def test_another_algorithm_realm_or_password_computes_afresh(
        monkeypatch: pytest.MonkeyPatch) -> None:
    counter = CountingHa1(monkeypatch)

    class Store:
        def __init__(self) -> None:
            self.current = StaticCredentials(USER, "old").lookup(REALM)

        def lookup(self, realm: str) -> object:
            return self.current

    store = Store()
    digest = DigestClient(store, SeededRandom(), max_attempts=9)  # type: ignore[arg-type]
    sha = FakeServer(password="old", algorithms=("SHA-256",))
    md5 = FakeServer(password="old", algorithms=("MD5",))
    digest.handle_challenge(401, sha.challenges())
    assert sha.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    digest.handle_challenge(401, md5.challenges(stale=True))  # another algorithm
    assert md5.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    assert counter.calls == 2
    store.current = StaticCredentials(USER, "new").lookup(REALM)  # the password changed
    new = FakeServer(password="new", algorithms=("MD5",))
    digest.handle_challenge(401, new.challenges(stale=True))
    assert new.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    assert counter.calls == 3
    other = FakeServer(realm="other.example", password="new", algorithms=("MD5",))
    digest.handle_challenge(401, other.challenges())  # another realm, alongside
    values = [v for _, v in digest.authorization_headers("REGISTER", URI)]
    assert any(other.verify(v).ok for v in values)
    assert counter.calls == 4


def test_the_kept_ha1_shows_nowhere() -> None:
    password = "Qz7-kept-ha1-password"
    server = FakeServer(password=password, algorithms=("MD5",))
    digest = DigestClient(StaticCredentials(USER, password), SeededRandom())
    digest.handle_challenge(401, server.challenges())
    digest.authorization_headers("REGISTER", URI)
    digest.handle_challenge(401, server.challenges(stale=True))  # the HA1 is reused here
    digest.authorization_headers("REGISTER", URI)
    ha1 = digest._responders[0]._ha1.reveal()
    secrets = [password, ha1]
    texts = [repr(digest), str(digest), *map(repr, digest._responders), *map(repr, digest._sent)]
    for obj in (digest, digest._responders[0], digest._sent[0]):
        with pytest.raises(TypeError) as failure:
            pickle.dumps(obj)
        texts += [str(failure.value), "".join(traceback.format_exception(failure.value))]
    for text in texts:
        assert not any(s in text for s in secrets), text


@pytest.mark.parametrize("text", [
    'Digest qop="' + "a b" * 40,  # a quote left open
    'Digest realm' + " " * 200 + "!",
    'Digest realm="r",' + " ," * 200 + "=x",
])
def test_malformed_text_fails_at_once(text: str) -> None:
    # The general parser's repetitions are possessive: these took exponential time before
    # (24 characters after an open quote: seconds; these: years).
    with pytest.raises(ChallengeError):
        parse_challenges(text)
    with pytest.raises(ChallengeError):
        parse_challenges(text.replace("Digest ", "Digest realm=\"r\", ", 1))


# ---- the answer's plain-text shortcut and the state shared per registrar ---------------------

PLAIN_OR_NOT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF,
                                     blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


@given(username=PLAIN_OR_NOT, realm=PLAIN_OR_NOT, nonce=PLAIN_OR_NOT,
       userhash=st.booleans(), qop=st.sampled_from([("auth",), None]))
def test_the_plain_answer_is_the_general_answer(
        username: str, realm: str, nonce: str, userhash: bool,
        qop: tuple[str, ...] | None) -> None:
    # The shortcut writes username, realm and nonce in quotes as they are; the general way
    # quotes each (RFC 3261 §25.1), or writes username* (RFC 7616 §3.4) or the userhash.
    challenge = f"Digest realm={quote(realm)}, nonce={quote(nonce)}, algorithm=MD5"
    if qop:
        challenge += ', qop="auth"'
    if userhash:
        challenge += ", userhash=true"
    digest = DigestClient(StaticCredentials(username, "pw"), SeededRandom(3))
    digest.handle_challenge(401, [challenge])
    responder = digest._responders[0]
    cnonce = "c0ffee" if responder.qop else None
    ours = responder.answer("REGISTER", URI, b"", nc=1, cnonce=cnonce)
    plain = responder._plain
    responder._plain = False
    assert responder.answer("REGISTER", URI, b"", nc=1, cnonce=cnonce) == ours
    # The shortcut is taken exactly when nothing needs escaping, username* or a userhash.
    assert plain == (not userhash and username.isascii()
                     and all(c.isprintable() and c not in '"\\' for c in username + realm + nonce))


def test_answers_to_several_request_uris_and_methods_each_verify() -> None:
    # H(A2) and the quoted Request-URI are shared per (algorithm, method, URI, qop), bounded:
    # a client that sends to many URIs (redirects) answers each with its own.
    server = FakeServer(password="pw", algorithms=("SHA-256",))
    digest = DigestClient(StaticCredentials(USER, "pw"), SeededRandom(), max_attempts=9)
    digest.handle_challenge(401, server.challenges())
    uris = [f"sip:r{i}.example.com" for i in range(client_module._PREPARED_ENTRIES + 50)]
    for uri in [*uris, *uris[:3]]:
        for method in ("REGISTER", "OPTIONS"):
            value = only(digest.authorization_headers(method, uri))
            assert parse_credentials(value).uri == uri
            assert server.verify(value, method).ok
    assert len(client_module._PREPARED) <= client_module._PREPARED_ENTRIES


# ---- the first challenge's short way through handle_challenge -------------------------------


def _outcome(digest: DigestClient, act: object) -> object:
    try:
        act()  # type: ignore[operator]
    except Exception as exc:  # (the kind and the words are compared)
        return ("raised", type(exc).__name__, str(exc), getattr(exc, "spec_id", None))
    responders = [(r.header, r.realm, r.algorithm.name, r.qop, r.nonce, r.nc, r._tail,
                   r._username, r._userhash, r._plain, r._ha1.reveal()) for r in digest._responders]
    return ("ok", digest._attempts, digest._resubmission_pending, responders,
            digest.authorization_headers("REGISTER", URI) if responders else [])


KINDS_OF_CREDENTIALS = {
    "password": lambda: StaticCredentials(USER, "pw"),
    "md5-ha1-only": lambda: StaticCredentials(USER, ha1={"MD5": "0" * 32}),
    "other-realm": lambda: StaticCredentials(USER, "pw", realm="elsewhere.example"),
}


@given(text=st.one_of(challenge_texts(), st.sampled_from([
           'Digest realm="sipfsm.test", nonce="Z0aH3mdGh9LTmJtq9Jz3aH8nYzQ1ZjEwMGU=", qop="auth"',
           'Digest realm="elsewhere.example", nonce="n", algorithm=SHA-256, qop="auth,auth-int"',
           'Digest realm="r", nonce="n", algorithm=MD5-sess, qop=auth-int, opaque="o"',
           'Digest realm="r", nonce="n"', 'Digest realm="r", nonce="n", charset=UTF-8',
           'Digest realm="r", nonce="n", userhash=true, qop="auth"'])),
       status=st.sampled_from([401, 407]),
       kind=st.sampled_from(sorted(KINDS_OF_CREDENTIALS)),
       algorithms=st.sampled_from([None, ("MD5",), ("SHA-256", "SHA-256-sess")]),
       attempts=st.integers(0, 3), max_attempts=st.integers(1, 3))
def test_the_first_challenge_takes_the_short_way_to_the_same_state(
        text: str, status: int, kind: str, algorithms: tuple[str, ...] | None, attempts: int,
        max_attempts: int) -> None:
    def client() -> DigestClient:
        options: dict[str, object] = {"max_attempts": max_attempts}
        if algorithms is not None:
            options["algorithms"] = algorithms
        digest = DigestClient(KINDS_OF_CREDENTIALS[kind](), SeededRandom(7),
                              **options)  # type: ignore[arg-type]
        digest._attempts = attempts
        return digest

    fast, general = client(), client()
    header = "Authorization" if status == 401 else "Proxy-Authorization"
    assert _outcome(fast, lambda: fast.handle_challenge(status, [text])) == _outcome(
        general, lambda: general._handle_challenge(status, header, [text], {}))


# ---- a registrar's next challenge: the shape already read, another nonce -------------------

NONCES = st.one_of(st.sampled_from(["", "n2", "Z0aH3mdGh9LTmJtq9Jz3aH8n==", 'a"b', "a\\b", "x, y",
                                    ', nonce="', 'nonce="', "caf\u00e9", "tab\there", "\x7f"]),
                   st.text(max_size=8))
KEPT_SHAPES = st.sampled_from([
           'Digest realm="sipfsm.test", nonce="Z0aH3mdGh9LTmJtq9Jz3aH8nYzQ1ZjEwMGU=", qop="auth"',
           'Digest nonce="n", realm="r", opaque="o", algorithm=SHA-256',
           'Digest realm="a, nonce=", nonce="n"', 'Digest realm="a, nonce=", nonce=", nonce="',
           'Digest realm="r",nonce="n",nonce="m"',
           'Digest opaque="x nonce=", nonce="n", realm="r"', 'Digest xnonce="n", nonce="n"',
           'Digest realm="r", Nonce="n"'])


@settings(max_examples=600, deadline=None)
@given(text=st.one_of(KEPT_SHAPES, KEPT_SHAPES, challenge_texts()), nonce=NONCES)
def test_a_challenge_like_one_read_before_reads_as_the_general_parser_reads_it(
        text: str, nonce: str) -> None:
    """The scanner keeps each shape it read (the text without the nonce's value); a challenge of
    a kept shape with another nonce is read as the general parser reads it."""
    parsed(text)  # read once: its shape is kept
    start = text.find('nonce="')
    again = (text if start < 0 else
             text[:start + 7] + nonce + text[text.find('"', start + 7):]
             if text.find('"', start + 7) >= 0 else text)
    assert parsed(again) == general(again)
    assert parsed(text) == general(text)
