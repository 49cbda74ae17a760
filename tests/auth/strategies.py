"""Hypothesis strategies for Digest values (auth-param lists, challenges, credentials)."""

from __future__ import annotations

from hypothesis import strategies as st

from sipfsm.auth.digest import SUPPORTED_ALGORITHMS

TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"

tokens = st.text(TOKEN_ALPHABET, min_size=1, max_size=12)
# Everything a quoted-string can carry: printable ASCII (quotes and backslashes included, they
# are escaped), HTAB, and non-ASCII text; no other control characters.
quoted_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.just("\t"),
        st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF),
    ),
    max_size=24,
)
usernames = st.text(
    st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
              st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF)),
    min_size=1, max_size=16,
)
passwords = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
realms = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
nonces = st.text(TOKEN_ALPHABET + "/=", min_size=1, max_size=40)
algorithms = st.sampled_from(SUPPORTED_ALGORITHMS)
uris = st.builds(lambda host, user: f"sip:{user}@{host}" if user else f"sip:{host}",
                 st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|org|net)", fullmatch=True),
                 st.one_of(st.just(""), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)))
methods = st.sampled_from(["REGISTER", "INVITE", "OPTIONS", "GET"])
bodies = st.binary(max_size=64)


@st.composite
def param_lists(draw: st.DrawFn) -> list[tuple[str, str, bool]]:
    """Distinct lower-case names, each with a token (unquoted) or any quotable text (quoted)."""
    names = draw(st.lists(tokens.map(str.lower), unique=True, max_size=8))
    out = []
    for name in names:
        if draw(st.booleans()):
            out.append((name, draw(tokens), False))
        else:
            out.append((name, draw(quoted_text), True))
    return out
