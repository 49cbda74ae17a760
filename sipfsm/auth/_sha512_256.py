"""SHA-512/256 (FIPS 180-4 §6.7) in pure Python: the fallback for a Python whose OpenSSL does
not offer ``hashlib.new("sha512_256")``.

The round constants and the initial hash value are derived here rather than typed in: K are the
first 64 bits of the fractional parts of the cube roots of the first 80 primes (§4.2.3), and the
SHA-512/t IV is SHA-512, started from its own IV XOR ``a5a5...``, over the text "SHA-512/256"
(§5.3.6).  Slow (~100 µs a call) but only used when OpenSSL cannot do it; the tests compare it
with hashlib and with the FIPS example ("abc").
"""

from __future__ import annotations

__all__ = ["sha512_256_hex"]

_MASK = (1 << 64) - 1


def _primes(count: int) -> list[int]:
    found: list[int] = []
    candidate = 2
    while len(found) < count:
        if all(candidate % p for p in found if p * p <= candidate):
            found.append(candidate)
        candidate += 1
    return found


def _iroot(value: int, k: int) -> int:
    """floor(value ** (1/k)) for big integers (Newton's method)."""
    x = 1 << ((value.bit_length() + k - 1) // k)
    while True:
        y = ((k - 1) * x + value // x ** (k - 1)) // k
        if y >= x:
            return x
        x = y


_PRIMES = _primes(80)
_K = [_iroot(p << 192, 3) & _MASK for p in _PRIMES]
_SHA512_IV = [_iroot(p << 128, 2) & _MASK for p in _PRIMES[:8]]


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (64 - n))) & _MASK


def _compress(state: list[int], block: bytes) -> None:
    w = [int.from_bytes(block[i : i + 8], "big") for i in range(0, 128, 8)]
    for t in range(16, 80):
        s0 = _rotr(w[t - 15], 1) ^ _rotr(w[t - 15], 8) ^ (w[t - 15] >> 7)
        s1 = _rotr(w[t - 2], 19) ^ _rotr(w[t - 2], 61) ^ (w[t - 2] >> 6)
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & _MASK)
    a, b, c, d, e, f, g, h = state
    for t in range(80):
        t1 = (h + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + ((e & f) ^ (~e & g))
              + _K[t] + w[t]) & _MASK
        t2 = ((_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))) & _MASK
        h, g, f, e, d, c, b, a = g, f, e, (d + t1) & _MASK, c, b, a, (t1 + t2) & _MASK
    for i, v in enumerate((a, b, c, d, e, f, g, h)):
        state[i] = (state[i] + v) & _MASK


def _sha512_words(data: bytes, iv: list[int]) -> list[int]:
    state = list(iv)
    length = len(data)
    padded = data + b"\x80" + b"\x00" * ((111 - length) % 128) + (length * 8).to_bytes(16, "big")
    for i in range(0, len(padded), 128):
        _compress(state, padded[i : i + 128])
    return state


_SHA512_256_IV = _sha512_words(b"SHA-512/256", [v ^ 0xA5A5A5A5A5A5A5A5 for v in _SHA512_IV])


def sha512_256_hex(data: bytes) -> str:
    words = _sha512_words(data, _SHA512_256_IV)
    return "".join(f"{v:016x}" for v in words[:4])
