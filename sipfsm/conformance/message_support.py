"""Helpers for the conformance checks of the SIP message layer (sipfsm.message; spec/message.toml):
messages written by hand (a registration client's REGISTER, 401 and 200; messages modelled on the
RFC 4475 torture tests), builders that put a line or two into an otherwise valid message, the
RFC 3261 §19.1.4 URI comparison examples, byte soups for fuzzing, and :func:`read_everything`,
which reads every typed header of a message.

Hypothesis strategies for SIP values are in :mod:`sipfsm.strategies`; this module adds only the
malformed-input soups.  Public so that tests and users' own harnesses can drive the parser the
same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.aio_support import raises
from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, SipUri, parse, parse_uri

__all__ = [
    "EQUIVALENT_URIS",
    "ESC01",
    "ESC02",
    "ESCNULL",
    "ESCRURI",
    "FIVE_DIGIT_PORT_NAME_ADDRS",
    "GRAMMAR_SOUP",
    "INTMETH",
    "INV2543",
    "INVALID_TORTURE",
    "LWSDISP",
    "MISMATCH01",
    "NOREASON",
    "NOT_EQUIVALENT_URIS",
    "OK_THREE_CONTACTS",
    "REGISTER",
    "REGISTER_HEAD",
    "REQUEST_HEADERS",
    "RESPONSE_HEAD",
    "SDP",
    "SEMIURI",
    "TEXT_SOUP",
    "TRANSPORTS",
    "TYPED",
    "UNAUTHORIZED",
    "UNKSCM",
    "UNKSM2",
    "UNQUOTED_NAME_ADDRS",
    "WSINV",
    "case",
    "crlf",
    "message_with",
    "only_parse_errors",
    "parse_error",
    "read_everything",
    "read_field",
    "response_with",
    "sip_uri",
    "with_length",
    "with_start",
]


# -- reading and writing -------------------------------------------------------------------------

# Every typed property of a message: reading them all exercises every header parser.
TYPED = (
    "vias", "from_", "to", "call_id", "cseq", "max_forwards", "contacts", "contact_star",
    "expires", "min_expires", "date", "retry_after", "routes", "record_routes", "paths",
    "service_routes", "supported", "require", "unsupported", "www_authenticate",
    "proxy_authenticate", "authorization", "proxy_authorization", "authentication_info",
    "content_length",
)  # fmt: skip


def read_everything(message: Request | Response) -> None:
    """Read every typed property and the parameters derived from them."""
    for name in TYPED:
        getattr(message, name)
    for via in message.vias:
        _ = via.rport, via.branch, via.sent_by
    for contact in message.contacts:
        _ = contact.expires, contact.q


def crlf(text: str) -> bytes:
    """A message written with \\n line ends, sent with CRLF (UTF-8)."""
    return text.replace("\n", "\r\n").encode("utf-8")


def sip_uri(text: str) -> SipUri:
    """``parse_uri(text)``, which must be a SIP or SIPS URI."""
    uri = parse_uri(text)
    assert isinstance(uri, SipUri), f"{text!r} is not a SIP URI"
    return uri


@contextlib.contextmanager
def case(label: object) -> Iterator[None]:
    """Name ``label`` (one case of a table) in any failure raised inside the block."""
    try:
        yield
    except Exception as exc:
        raise AssertionError(f"case {label!r}: {type(exc).__name__}: {exc}") from exc


def parse_error(func: Callable[..., object], *args: object, match: str | None = None) -> ParseError:
    """``func(*args)`` must raise ParseError (``match``: a regular expression searched in its
    text); return the error."""
    with raises(ParseError, match=match) as info:
        func(*args)
    assert info.value is not None
    return info.value


def read_field(data: bytes, name: str) -> object:
    """``parse(data).<name>``: parse a message and read one of its typed properties."""
    return getattr(parse(data), name)


def only_parse_errors(data: bytes) -> None:
    """Parse ``data`` and read every typed header: anything but ParseError fails.

    parse() turns an unexpected exception into ParseError("internal parser failure ...") chained
    to it; that message must never be reached either."""
    try:
        message = parse(data)
    except ParseError as exc:
        assert "internal parser failure" not in exc.message, exc.message
        assert exc.__cause__ is None, repr(exc.__cause__)
        return
    with contextlib.suppress(ParseError):
        read_everything(message)


# -- messages with one thing changed -------------------------------------------------------------

# The mandatory header fields of a request (§8.1.1), Max-Forwards last.
REQUEST_HEADERS = """Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: a@b
CSeq: 1 REGISTER
Max-Forwards: 70
"""

REGISTER_HEAD = """REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: a@b
CSeq: 1 REGISTER
"""

RESPONSE_HEAD = """SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>;tag=2
Call-ID: a@b
CSeq: 1 REGISTER
"""


def with_start(start_line: str) -> bytes:
    """``start_line`` followed by :data:`REQUEST_HEADERS` and the empty line."""
    return crlf(start_line + "\n" + REQUEST_HEADERS + "\n")


def message_with(*lines: str) -> bytes:
    """A REGISTER (:data:`REGISTER_HEAD`) with ``lines`` added to its header section."""
    return crlf(REGISTER_HEAD + "".join(line + "\n" for line in lines) + "\n")


def response_with(*lines: str) -> bytes:
    """A 200 OK (:data:`RESPONSE_HEAD`) with ``lines`` added to its header section."""
    return crlf(RESPONSE_HEAD + "".join(line + "\n" for line in lines) + "\n")


def with_length(length: str | None, body: bytes) -> bytes:
    """A 200 OK with ``Content-Length: length`` (none when None) and then ``body``."""
    line = "" if length is None else f"Content-Length: {length}\n"
    return crlf(RESPONSE_HEAD + line + "\n") + body


# -- what a registration client meets (RFC 3261 §24 style, real-server shapes) --------------------

REGISTER = crlf(
    """REGISTER sip:registrar.biloxi.com SIP/2.0
Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.com>
From: Bob <sip:bob@biloxi.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
Contact: <sip:bob@192.0.2.4>
Expires: 7200
Supported: path, outbound
User-Agent: sipfsm/0.1
Content-Length: 0

"""
)

_CHALLENGE = (
    'Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm={}, '
    'qop="auth", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)

# A 401 carrying two challenges on two rows (RFC 8760 §2.4: SHA-256 first, MD5 for old clients).
UNAUTHORIZED = crlf(
    """SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4;rport=5060
From: Bob <sip:bob@biloxi.com>;tag=456248
To: Bob <sip:bob@biloxi.com>;tag=2493k59kd
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
"""
    f"WWW-Authenticate: {_CHALLENGE.format('SHA-256')}\n"
    f"WWW-Authenticate: {_CHALLENGE.format('MD5')}\n"
    """Server: kamailio (5.7.4 (x86_64/linux))
Content-Length: 0

"""
)

# A Kamailio-like 200 OK to a REGISTER: every binding of the AOR, each with its expires param.
OK_THREE_CONTACTS = crlf(
    """SIP/2.0 200 OK
Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds8;received=192.0.2.4;rport=5060
From: Bob <sip:bob@biloxi.com>;tag=456248
To: Bob <sip:bob@biloxi.com>;tag=2493k59kd
Call-ID: 843817637684230@998sdasdh09
CSeq: 1827 REGISTER
"""
    "Contact: <sip:bob@192.0.2.4>;expires=3598;"
    '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1, '
    "<sip:bob@198.51.100.7:5062;transport=tcp>;expires=120;q=0.5\n"
    """Contact: "Bob's desk" <sip:bob@[2001:db8::7]:5060;ob>;expires=3600
Date: Sat, 13 Nov 2010 23:29:00 GMT
Server: kamailio (5.7.4 (x86_64/linux))
Content-Length: 0

"""
)


# -- messages modelled on the RFC 4475 torture tests ---------------------------------------------

# 150 bytes: the Content-Length of the torture messages that carry it.
SDP = (
    b"v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    b"t=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"
)

# §3.1.1.1 wsinv: a short tortuous INVITE.
WSINV = (
    crlf(
        """INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

"""
    )
    + SDP
)

# §3.1.1.2 intmeth: a wide range of valid characters.
INTMETH = (
    b"!interesting-Method0123456789_*+`.%indeed'~ "
    b"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    b":&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
    b'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" '
    b"<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\r\n"
    b"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
    + '"работающий"'.encode()
    + b";tag=_token~1'+`*%!-.\r\n"
    b"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
    b"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
    b"Max-Forwards: 255\r\n"
    b"extensionHeader-!.%*+_`'~:" + "\ufeff大停電".encode() + b"\r\n"
    b"Content-Length: 0\r\n\r\n"
)

# §3.1.1.3 esc01: valid use of the % escaping mechanism.
ESC01 = (
    crlf(
        """INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

"""
    )
    + SDP
)

# §3.1.1.4 escnull: escaped nulls in URIs.
ESCNULL = crlf(
    """REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

"""
)

# §3.1.1.5 esc02: use of % when it is not an escape.
ESC02 = crlf(
    """RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

"""
)

# §3.1.1.7 lwsdisp: no LWS between the display name and <.
LWSDISP = crlf(
    """OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

"""
)

# §3.1.1.9 semiuri: a semicolon-separated parameter in the userinfo part.
SEMIURI = crlf(
    """OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
      multipart/mixed, multipart/signed,
      message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

"""
)

# §3.1.1.10 transports: Via with the transport tokens, known and unknown.
TRANSPORTS = crlf(
    """OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

"""
)

# §3.1.1.13 noreason: a response with an empty reason phrase.
NOREASON = crlf(
    """SIP/2.0 100 \nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

"""
)

# §3.3.14 unkscm: an OPTIONS with an unknown scheme in the Request-URI.
UNKSCM = crlf(
    """OPTIONS nobodyknowsthisscheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

"""
)

# §3.3.15 unksm2: a REGISTER with unknown schemes in To, From and Contact.
UNKSM2 = crlf(
    """REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0

"""
)

# §3.4.1 inv2543: an RFC 2543 INVITE (no branch, no tags, no Max-Forwards, no Content-Length).
INV2543 = (
    crlf(
        """INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp

"""
    )
    + SDP
)

_BASE = """Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
Max-Forwards: 70
Call-ID: torture.0ha0isndaksdj
CSeq: 8 INVITE
"""

# The invalid ones (§3.1.2, §3.3), by RFC 4475 name: parse() or reading the malformed field
# raises ParseError.  Written with \n line ends (send them through crlf()).
INVALID_TORTURE = {
    # §3.1.2.1 badinv01: extraneous ;; and , separators
    "badinv01": "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;;tag=134161461246\n" + _BASE
    + 'Contact: "Joe" <sip:joe@example.org>;;;;\n\n',
    # §3.1.2.2 clerr: Content-Length larger than the datagram's body
    "clerr": "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=134161461246\n" + _BASE + "Content-Length: 9999\n\nv=0\n",
    # §3.1.2.3 ncl: negative Content-Length
    "ncl": "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=134161461246\n" + _BASE + "Content-Length: -999\n\n",
    # §3.1.2.4 scalar02: CSeq above 2**32-1, Max-Forwards above 255
    "scalar02": "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"
    "To: <sip:user@example.com>\nFrom: <sip:user@example.com>;tag=239232jh3\n"
    "CSeq: 36893488147419103232 REGISTER\nCall-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\n"
    "Max-Forwards: 300\nExpires: 1000000000000000000000\n"
    "Contact: <sip:user@host129.example.com>;expires=280297596632815\nl: 0\n\n",
    # §3.1.2.5 scalarlg: Retry-After above 2**32-1 in a response
    "scalarlg": "SIP/2.0 503 Service Unavailable\n"
    "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\n"
    "To: <sip:user@example.com>\nFrom: <sip:other@example.net>;tag=2easdjfejw\n"
    "CSeq: 9292394834772304023312 OPTIONS\n"
    "Call-ID: scalarlg.noase0of0234hn2er0949rf2\nRetry-After: 949302838503028349304023988\n"
    'Warning: 1812 overture "In Progress"\nContent-Length: 0\n\n',
    # §3.1.2.6 quotbal: unterminated quoted string in a display name
    "quotbal": 'INVITE sip:user@example.com SIP/2.0\nTo: "Mr. J. User <sip:j.user@example.com>\n'
    "From: sip:caller@example.net;tag=93334\n" + _BASE + "\n",
    # §3.1.2.7 ltgtruri, §3.1.2.8 lwsruri, §3.1.2.9 lwsstart, §3.1.2.10 trws
    "ltgtruri": "INVITE <sip:user@example.com> SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=39291\n" + _BASE + "\n",
    "lwsruri": "INVITE sip:user@example.com; lr SIP/2.0\n"
    "To: sip:user@example.com;tag=3xfe-9921883-z9f\n"
    "From: sip:caller@example.net;tag=231413434\n" + _BASE + "\n",
    "lwsstart": "INVITE  sip:user@example.com  SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=8814\n" + _BASE + "\n",
    "trws": "OPTIONS sip:remote-target@example.com SIP/2.0  \n"
    "To: <sip:remote-target@example.com>\n"
    "From: <sip:local-resource@example.com>;tag=329429089\n" + _BASE + "\n",
    # §3.1.2.12 baddate: a Date not in GMT
    "baddate": "INVITE sip:user@example.com SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=2234923\n" + _BASE
    + "Date: Fri, 01 Jan 2010 16:00:00 EST\n\n",
    # §3.1.2.13 regbadct: a URI with headers in addr-spec form
    "regbadct": "REGISTER sip:example.com SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:user@example.com;tag=998332\n" + _BASE
    + "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\nl: 0\n\n",
    # §3.1.2.14 badaspec: spaces within addr-spec
    "badaspec": "OPTIONS sip:user@example.org SIP/2.0\n"
    'To: "Watson, Thomas" < sip:t.watson@example.org >\n'
    'From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=43\n' + _BASE + "\n",
    # §3.1.2.15 baddn: non-token characters in an unquoted display name
    "baddn": "OPTIONS sip:t.watson@example.org SIP/2.0\nTo: sip:t.watson@example.org\n"
    "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\n" + _BASE + "\n",
    # §3.1.2.16 badvers
    "badvers": "OPTIONS sip:t.watson@example.org SIP/7.0\nTo: sip:t.watson@example.org\n"
    "From: sip:a.g.bell@example.com;tag=242\n" + _BASE + "\n",
    # §3.1.2.19 bigcode: an overlarge status code
    "bigcode": "SIP/2.0 4294967301 better not break the receiver\n"
    "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"
    "Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\nCSeq: 353494 INVITE\n"
    "From: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\n\n",
    # §3.3.1 insuf: no Call-ID, From or To
    "insuf": "INVITE sip:user@example.com SIP/2.0\nCSeq: 193942 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\nl: 0\n\n",
    # §3.3 multi01: several values in single-value fields
    "multi01": "INVITE sip:user@company.com SIP/2.0\nContact: <sip:caller@host25.example.net>\n"
    "Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw\nMax-Forwards: 70\n"
    "CSeq: 5 INVITE\nCall-ID: multi01.98asdh@192.0.2.1\nCSeq: 59 INVITE\n"
    "Call-ID: multi01.98asdh@192.0.2.2\nFrom: sip:caller@example.com;tag=3413415\n"
    "To: sip:user@example.com\nTo: sip:other@example.net\n"
    "From: sip:caller@example.net;tag=2923420123\nl: 0\n\n",
    # §3.3 mcl01: several Content-Length values
    "mcl01": "OPTIONS sip:user@example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423\n"
    "To: sip:user@example.com\nFrom: sip:other@example.net;tag=3923942\n"
    "Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf\nCSeq: 15932 OPTIONS\n"
    "Content-Length: 13\nMax-Forwards: 60\nContent-Length: 5\n\nfoo\nbar\n",
}  # fmt: skip

# §3.3.7 mismatch01: the method and the CSeq method differ (a UAS rejects it, not the parser).
MISMATCH01 = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=34525\n" + _BASE + "\n"
)

# §3.1.2.11 escruri: an escaped header in a Request-URI (a UAS rejects it, not the parser).
ESCRURI = crlf(
    "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0\n"
    "To: sip:user@example.com\nFrom: sip:caller@example.net;tag=341518\n" + _BASE + "\n"
)


# -- §19.1.4: the RFC's URI comparison examples ---------------------------------------------------

EQUIVALENT_URIS = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
     "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
    ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
     "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
]  # fmt: skip

NOT_EQUIVALENT_URIS = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
]


# -- malformed input ------------------------------------------------------------------------------

# Pieces of header-value grammar glued at random: mostly malformed values.
TEXT_SOUP = st.lists(
    st.sampled_from(
        ['"', "\\", "<", ">", "sip:", "sips:", "SIP:", "@", ":", ";", "=", " ", "\t", "a", "B",
         "1", "256", "0", ".", "-", "[::1]", "%41", "tag", "lr", "?", "&", "99999", "SIP/2.0/",
         "UDP", "é"]
    ),
    max_size=25,
).map("".join)

# Unquoted display names (tokens separated by any LWS, or none) before <uri> and parameters.
UNQUOTED_NAME_ADDRS = st.builds(
    lambda words, gap, uri, params: f"{' '.join(words)}{gap}<{uri}>{params}",
    st.lists(sip.tokens(), max_size=3),
    st.sampled_from(["", " ", "  ", "\t"]),
    sip.uris(),
    sip.header_params().map(str),
)
# Plain name-addrs (the short reader's shape) with a port of five digits, 65535 and beyond
# included: the short reader must refuse what the careful one refuses.
FIVE_DIGIT_PORT_NAME_ADDRS = st.builds(
    lambda user, host, port, tag: f"<sip:{user}@{host}:{port}>;tag={tag}",
    sip.tokens(1, 6).map(lambda t: t.replace("%", "p")),
    sip.hostnames(),
    st.integers(60000, 99999),
    sip.tokens(1, 8).map(lambda t: t.replace("%", "p")),
)

# Pieces of message grammar glued at random: mostly malformed messages.
GRAMMAR_SOUP = st.lists(
    st.sampled_from(
        [b"INVITE ", b"SIP/2.0", b" ", b"\r\n", b":", b";", b",", b"<", b">", b'"', b"\\",
         b"sip:", b"@", b"Via", b"v", b"Contact", b"m", b"Content-Length", b"l", b"To",
         b"From", b"CSeq", b"Call-ID", b"1", b"-1", b"99999999999", b"\t", b"=", b"[::1]",
         b"%", b"\xff", b"\x00", b"*", b"(", b")", b"branch", b"rport", b"expires"]
    ),
    max_size=60,
).map(b"".join)
