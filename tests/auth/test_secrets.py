"""Passwords and HA1 values never show in a repr, a str, an exception or its traceback text."""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable, Iterator

import pytest

from sipfsm.auth import (
    DigestClient,
    Secret,
    StaticCredentials,
    build_authorization,
    parse_challenge,
)
from sipfsm.auth.credentials import Credentials
from sipfsm.auth.digest import ALGORITHMS, ha1_from_password
from sipfsm.auth.server import make_challenge, parse_credentials, verify
from sipfsm.errors import SipfsmError
from sipfsm.sim import SeededRandom

from .support import REALM, URI, USER, FakeServer

PASSWORD = "Zq8-unlikely-password-7vX"
HA1 = {spec.base: ha1_from_password(spec, USER, REALM, PASSWORD)
       for spec in ALGORITHMS.values() if not spec.sess}
SECRETS = [PASSWORD, *HA1.values()]


def leaks(text: str, extra: list[str] | None = None) -> list[str]:
    return [s for s in [*SECRETS, *(extra or [])] if s and s in text]


def walk(obj: object, seen: set[int] | None = None) -> Iterator[object]:
    """obj and everything reachable through attributes, slots and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return
    seen.add(id(obj))
    yield obj
    children: list[object] = []
    if isinstance(obj, dict):
        children += [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children += list(obj)
    else:
        children += list(getattr(obj, "__dict__", {}).values())
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name):
                    children.append(getattr(obj, name))
    for child in children:
        if isinstance(child, Secret):
            yield child  # its repr is checked; its inside is the secret itself
            continue
        yield from walk(child, seen)


def session_keys(client: DigestClient) -> list[str]:
    keys = []
    for responder in client._responders:
        key = responder._session_key
        if key is not None:
            keys.append(key.reveal())
    return keys


def failure_cases() -> Iterator[tuple[str, Callable[[], object]]]:
    store = StaticCredentials(USER, PASSWORD)
    by_ha1 = StaticCredentials(USER, ha1=HA1)

    def rejected() -> None:
        server = FakeServer(password="different")
        client = DigestClient(store, SeededRandom())
        client.handle_challenge(401, server.challenges())
        client.authorization_headers("REGISTER", URI)
        client.handle_challenge(401, server.challenges())

    def bad_rspauth() -> None:
        client = DigestClient(by_ha1, SeededRandom())
        client.handle_challenge(401, FakeServer(algorithms=("SHA-256-sess",)).challenges())
        value = client.authorization_headers("REGISTER", URI)[0][1]
        sent = parse_credentials(value)
        client.handle_authentication_info(
            f'qop=auth, rspauth="{"0" * 64}", cnonce="{sent.cnonce}", nc={sent.nc}')

    def too_many() -> None:
        client = DigestClient(store, SeededRandom(), max_attempts=1)
        for i in range(3):
            client.handle_challenge(401, [make_challenge(REALM, nonce=f"n{i}", stale=True)])
            client.authorization_headers("REGISTER", URI)

    yield "rejected", rejected
    yield "bad rspauth", bad_rspauth
    yield "too many", too_many
    yield "unknown algorithm", lambda: DigestClient(store, SeededRandom()).handle_challenge(
        401, ['Digest realm="example.com", nonce="n", algorithm=SHA-1'])
    yield "no credentials", lambda: DigestClient(
        StaticCredentials(USER, PASSWORD, realm="x"), SeededRandom()).handle_challenge(
        401, [make_challenge(REALM, nonce="n")])
    yield "no ha1 for algorithm", lambda: DigestClient(
        StaticCredentials(USER, ha1={"MD5": HA1["MD5"]}), SeededRandom()).handle_challenge(
        401, [make_challenge(REALM, nonce="n")])
    yield "bad ha1 config", lambda: Credentials(USER, ha1={"SHA-256": HA1["MD5"]})
    yield "bad ha1 key", lambda: Credentials(USER, ha1={"SHA-256-sess": HA1["SHA-256"]})
    yield "malformed challenge", lambda: build_authorization(
        'Digest realm="', method="REGISTER", uri=URI, username=USER, password=PASSWORD)
    yield "unanswerable challenge", lambda: build_authorization(
        'Digest realm="r", nonce="n", algorithm=XYZ', method="REGISTER", uri=URI,
        username=USER, password=PASSWORD)
    yield "bad method", lambda: build_authorization(
        make_challenge(REALM, nonce="n"), method="BAD METHOD", uri=URI, username=USER,
        password=PASSWORD)
    yield "pickling", lambda: pickle.dumps(Secret(PASSWORD))


@pytest.mark.parametrize(("name", "action"), list(failure_cases()), ids=lambda x: str(x)[:24])
def test_failures_carry_no_secret(name: str, action: Callable[[], object]) -> None:
    with pytest.raises(Exception) as failure:  # every failure path is scanned
        action()
    exc: BaseException | None = failure.value
    chain = []
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for item in chain:
        texts = [str(item), repr(item), "".join(traceback.format_exception(item)),
                 *map(repr, item.args)]
        if isinstance(item, SipfsmError):
            texts.append(item.message)
        for text in texts:
            assert not leaks(text), f"{name}: {type(item).__name__} shows a secret"


def test_no_repr_or_str_of_any_reachable_object_shows_a_secret() -> None:
    objects: list[object] = []
    extra: list[str] = []
    for store in (StaticCredentials(USER, PASSWORD), StaticCredentials(USER, ha1=HA1)):
        for algorithm in ("SHA-256", "MD5-sess", "SHA-512-256-sess"):
            server = FakeServer(password=PASSWORD, algorithms=(algorithm,))
            client = DigestClient(store, SeededRandom())
            client.handle_challenge(401, server.challenges())
            value = client.authorization_headers("REGISTER", URI)[0][1]
            result = server.verify(value)
            assert result.ok and result.authentication_info
            client.handle_authentication_info(result.authentication_info)
            client.authorization_headers("REGISTER", URI)
            extra += session_keys(client)
            objects += [client, store, store.lookup(REALM), result, parse_credentials(value),
                        parse_challenge(server.challenges()[0])]
    objects += [Secret(PASSWORD), Credentials(USER, PASSWORD, HA1),
                verify(value, method="REGISTER", realm=REALM, password=Secret(PASSWORD))]
    assert extra  # the -sess session keys were found and are scanned too
    checked = 0
    for root in objects:
        for obj in walk(root):
            for text in (repr(obj), str(obj), f"{obj}"):
                assert not leaks(text, extra), f"{type(obj).__name__} shows a secret: {text}"
            checked += 1
    assert checked > 50


def test_secret_behaviour() -> None:
    secret = Secret(PASSWORD)
    assert repr(secret) == "Secret('********')" and str(secret) == "********"
    assert f"{secret}|{secret!s}|{secret!r}" == "********|********|Secret('********')"
    assert secret == Secret(PASSWORD) and secret != Secret("other")
    assert secret.reveal() == PASSWORD
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
