"""The response computation against an independent reference written from RFC 7616 §3.4.1 -
§3.4.4 with hashlib alone (nothing of sipfsm.auth.digest is used by the reference)."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.auth import build_authorization
from sipfsm.auth.server import parse_credentials

from .strategies import algorithms, bodies, methods, nonces, passwords, realms, uris, usernames


def reference_response(
    algorithm: str, *, username: str, realm: str, password: str, method: str, uri: str,
    nonce: str, nc: str, cnonce: str, qop: str | None, body: bytes,
) -> str:
    base = algorithm.upper().removesuffix("-SESS")
    sess = algorithm.upper().endswith("-SESS")

    def h(data: bytes) -> str:
        if base == "MD5":
            return hashlib.md5(data).hexdigest()
        if base == "SHA-256":
            return hashlib.sha256(data).hexdigest()
        return hashlib.new("sha512_256", data).hexdigest()

    def hs(text: str) -> str:
        return h(text.encode("utf-8"))

    ha1 = hs(f"{username}:{realm}:{password}")  # A1 = unq(username):unq(realm):passwd
    if sess:  # A1 = H(user:realm:pw):unq(nonce-prime):unq(cnonce-prime)
        ha1 = hs(f"{ha1}:{nonce}:{cnonce}")
    a2 = f"{method}:{uri}" if qop != "auth-int" else f"{method}:{uri}:{h(body)}"
    if qop is None:
        return hs(f"{ha1}:{nonce}:{hs(a2)}")
    return hs(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{hs(a2)}")


def challenge_text(realm: str, nonce: str, algorithm: str, qop: str | None,
                   charset: bool = False) -> str:
    escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
    text = f'Digest realm="{escaped}", nonce="{nonce}", algorithm={algorithm}'
    if qop is not None:
        text += f', qop="{qop}"'
    if charset:
        text += ", charset=UTF-8"
    return text


@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
@pytest.mark.requirement("RFC7616-3.4-QOP-ONE-OF-OFFERED")
@given(
    algorithm=algorithms, username=usernames, realm=realms, password=passwords,
    method=methods, uri=uris, nonce=nonces, nc=st.integers(1, 0xFFFFFFFF),
    cnonce=st.from_regex(r"[a-z2-7]{8,26}", fullmatch=True),
    qop=st.sampled_from(["auth", "auth-int", "auth,auth-int", "auth-int, x-unknown"]),
    body=bodies,
)
def test_response_equals_the_reference(
    algorithm: str, username: str, realm: str, password: str, method: str, uri: str,
    nonce: str, nc: int, cnonce: str, qop: str, body: bytes,
) -> None:
    value = build_authorization(
        challenge_text(realm, nonce, algorithm, qop), method=method, uri=uri,
        username=username, password=password, body=body, cnonce=cnonce, nc=nc,
    )
    sent = parse_credentials(value)
    chosen = "auth" if "auth," in qop + "," else "auth-int"
    assert sent.qop == chosen
    assert sent.nc == f"{nc:08x}"
    assert sent.response == reference_response(
        algorithm, username=username, realm=realm, password=password, method=method, uri=uri,
        nonce=nonce, nc=f"{nc:08x}", cnonce=cnonce, qop=chosen, body=body,
    )


@pytest.mark.requirement("RFC3261-22.4-NO-CNONCE-WITHOUT-QOP")
@given(username=usernames, realm=realms, password=passwords, uri=uris, nonce=nonces,
       algorithm=st.sampled_from(["MD5", "SHA-256", "SHA-512-256"]))
def test_no_qop_is_the_rfc2069_form(
    username: str, realm: str, password: str, uri: str, nonce: str, algorithm: str
) -> None:
    value = build_authorization(
        challenge_text(realm, nonce, algorithm, None), method="REGISTER", uri=uri,
        username=username, password=password,
    )
    sent = parse_credentials(value)
    assert sent.qop is None and sent.cnonce is None and sent.nc is None
    assert sent.response == reference_response(
        algorithm, username=username, realm=realm, password=password, method="REGISTER",
        uri=uri, nonce=nonce, nc="", cnonce="", qop=None, body=b"",
    )


@pytest.mark.requirement("RFC7616-4-CHARSET-UTF8")
def test_charset_utf8_normalises_to_nfc() -> None:
    decomposed_user = "Ja\u0308s\u00f8n"  # "a" + combining diaeresis
    decomposed_password = "pa\u0301ss"
    value = build_authorization(
        challenge_text("r", "n", "SHA-256", "auth", charset=True), method="REGISTER",
        uri="sip:r", username=decomposed_user, password=decomposed_password, cnonce="c",
    )
    nfc_user = unicodedata.normalize("NFC", decomposed_user)
    assert parse_credentials(value).response == reference_response(
        "SHA-256", username=nfc_user, realm="r",
        password=unicodedata.normalize("NFC", decomposed_password), method="REGISTER",
        uri="sip:r", nonce="n", nc="00000001", cnonce="c", qop="auth", body=b"",
    )
    # Without charset the text is hashed as given (UTF-8, no normalisation).
    plain = build_authorization(
        challenge_text("r", "n", "SHA-256", "auth"), method="REGISTER", uri="sip:r",
        username=decomposed_user, password=decomposed_password, cnonce="c",
    )
    assert parse_credentials(plain).response == reference_response(
        "SHA-256", username=decomposed_user, realm="r", password=decomposed_password,
        method="REGISTER", uri="sip:r", nonce="n", nc="00000001", cnonce="c", qop="auth",
        body=b"",
    )
