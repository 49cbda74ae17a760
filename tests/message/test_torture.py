"""Messages modelled on the RFC 4475 torture tests a registration client's parser meets.

Each case names its RFC 4475 test.  Valid ones (§3.1.1, §3.3, §3.4) must parse and read back the
values the RFC describes; invalid ones (§3.1.2, §3.3) must raise ParseError -- on parse, or when
the malformed field is read -- and nothing else.
"""

from __future__ import annotations

import pytest

from sipfsm.errors import ParseError
from sipfsm.message import AbsoluteUri, Request, Response, SipUri, parse

from .conftest import crlf, read_everything

SDP = (
    "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    "t=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"
).encode()
assert len(SDP) == 150

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

INTMETH = (
    b"!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    b":&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
    b'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>\r\n'
    b"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
    + '"работающий"'.encode()
    + b";tag=_token~1'+`*%!-.\r\n"
    b"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
    b"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
    b"Max-Forwards: 255\r\n"
    b"extensionHeader-!.%*+_`'~:" + "\ufeff大停電".encode() + b"\r\n"
    b"Content-Length: 0\r\n\r\n"
)

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


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
@pytest.mark.requirement("RFC3261-7.3.1-LINE-FOLDING")
@pytest.mark.requirement("RFC3261-7.3.3-COMPACT-FORM")
def test_wsinv_a_short_tortuous_invite() -> None:
    message = parse(WSINV)
    assert isinstance(message, Request)
    read_everything(message)
    assert message.uri.params == {"unknownparam": None}  # type: ignore[union-attr]
    assert (str(message.to.uri), message.to.tag) == ("sip:vivekg@chair-dnrc.example.com", "1918181833n")
    assert (message.from_.display_name, message.from_.tag) == ('J Rosenberg \\"', "98asjd8")
    assert message.max_forwards == 68
    assert (message.cseq.number, message.cseq.method) == (9, "INVITE")
    assert [(v.transport, v.host, v.branch) for v in message.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert message.headers.get("Subject") == ""
    assert message.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert message.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    (contact,) = message.contacts
    assert contact.display_name == 'Quoted string ""'
    assert (contact.params["newparam"], contact.params["secondparam"], contact.q) == ("newvalue", None, 0.33)
    assert message.routes[0].uri.params["unknown-no-value"] is None  # type: ignore[union-attr]
    assert message.body == SDP


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
def test_intmeth_a_wide_range_of_valid_characters() -> None:
    message = parse(INTMETH)
    assert isinstance(message, Request)
    read_everything(message)
    assert message.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert isinstance(message.uri, SipUri)
    assert message.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert message.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert message.vias[0].branch == "z9hG4bK-.!%66*_+`'~"
    assert message.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert message.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert message.from_.params.unquoted("fromparam''~+*_!.-%") == "работающий"
    assert message.from_.tag == "_token~1'+`*%!-."
    assert message.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert message.cseq.method == message.method
    assert message.headers.get("extensionheader-!.%*+_`'~") == "\ufeff大停電"
    assert parse(message.to_bytes()) == message


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
@pytest.mark.requirement("RFC3261-19.1.4-ESCAPES")
def test_esc01_valid_use_of_escapes() -> None:
    message = parse(ESC01)
    read_everything(message)
    assert message.uri.user == "sips%3Auser%40example.com"  # type: ignore[union-attr]
    assert message.to.uri == parse(ESC01).to.uri
    from sipfsm.message import parse_uri, uri_equal

    assert uri_equal(message.to.uri, parse_uri("sip:user@example.com"))
    assert uri_equal(message.contacts[0].uri, parse_uri("sip:caller@host5.example.net;lr;name=value%25%34%31"))
    assert message.headers.get("Content-Type") == "application/sdp"


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
def test_escnull_and_esc02() -> None:
    message = parse(ESCNULL)
    read_everything(message)
    assert [c.uri.user for c in message.contacts] == ["%00", "%00%00"]  # type: ignore[union-attr]
    assert message.content_length == 0
    esc02 = parse(ESC02)
    read_everything(esc02)
    assert isinstance(esc02, Request) and esc02.method == "RE%47IST%45R"
    assert esc02.to.display_name == "%Z%45"
    assert [c.uri.host for c in esc02.contacts] == ["host1.example.com", "host3.example.com"]  # type: ignore[union-attr]
    assert esc02.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
def test_lwsdisp_semiuri_transports_noreason() -> None:
    assert parse(LWSDISP).from_.display_name == "caller"
    semiuri = parse(SEMIURI)
    assert semiuri.uri.user == "user;par=u%40example.net"  # type: ignore[union-attr]
    assert semiuri.headers.get_all("Accept")[-1] == "message/sipfrag"
    assert [v.transport for v in parse(TRANSPORTS).vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    noreason = parse(NOREASON)
    assert isinstance(noreason, Response) and (noreason.status, noreason.reason) == (100, "")


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
@pytest.mark.requirement("RFC3261-19.1.1-ABSOLUTE-URI")
def test_unknown_schemes_are_kept() -> None:
    message = parse(UNKSCM)
    assert message.uri == AbsoluteUri("nobodyknowsthisscheme", "totallyopaquecontent")  # type: ignore[union-attr]
    unksm2 = parse(UNKSM2)
    read_everything(unksm2)
    assert unksm2.to.uri == AbsoluteUri("isbn", "2983792873")
    assert unksm2.contacts[0].uri == AbsoluteUri("name", "John_Smith")


@pytest.mark.requirement("RFC4475-3.1.1-VALID-MESSAGES")
@pytest.mark.requirement("RFC3261-18.3-DATAGRAM-NO-CONTENT-LENGTH")
def test_inv2543_an_rfc_2543_request() -> None:
    message = parse(INV2543)
    read_everything(message)
    assert message.vias[0].branch is None
    assert message.from_.tag is None
    assert message.max_forwards is None
    assert message.body == SDP


BASE = """Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
Max-Forwards: 70
Call-ID: torture.0ha0isndaksdj
CSeq: 8 INVITE
"""

INVALID = {
    # §3.1.2.1 badinv01: extraneous ;; and , separators
    "badinv01": "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;;tag=134161461246\n" + BASE + 'Contact: "Joe" <sip:joe@example.org>;;;;\n\n',
    # §3.1.2.2 clerr: Content-Length larger than the datagram's body
    "clerr": "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=134161461246\n" + BASE + "Content-Length: 9999\n\nv=0\n",
    # §3.1.2.3 ncl: negative Content-Length
    "ncl": "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=134161461246\n" + BASE + "Content-Length: -999\n\n",
    # §3.1.2.4 scalar02: CSeq above 2**32-1, Max-Forwards above 255
    "scalar02": "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"
    "To: <sip:user@example.com>\nFrom: <sip:user@example.com>;tag=239232jh3\n"
    "CSeq: 36893488147419103232 REGISTER\nCall-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\n"
    "Max-Forwards: 300\nExpires: 1000000000000000000000\n"
    "Contact: <sip:user@host129.example.com>;expires=280297596632815\nl: 0\n\n",
    # §3.1.2.5 scalarlg: Retry-After above 2**32-1 in a response
    "scalarlg": "SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\n"
    "To: <sip:user@example.com>\nFrom: <sip:other@example.net>;tag=2easdjfejw\nCSeq: 9292394834772304023312 OPTIONS\n"
    "Call-ID: scalarlg.noase0of0234hn2er0949rf2\nRetry-After: 949302838503028349304023988\n"
    'Warning: 1812 overture "In Progress"\nContent-Length: 0\n\n',
    # §3.1.2.6 quotbal: unterminated quoted string in a display name
    "quotbal": 'INVITE sip:user@example.com SIP/2.0\nTo: "Mr. J. User <sip:j.user@example.com>\n'
    "From: sip:caller@example.net;tag=93334\n" + BASE + "\n",
    # §3.1.2.7 ltgtruri, §3.1.2.8 lwsruri, §3.1.2.9 lwsstart, §3.1.2.10 trws
    "ltgtruri": "INVITE <sip:user@example.com> SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=39291\n" + BASE + "\n",
    "lwsruri": "INVITE sip:user@example.com; lr SIP/2.0\nTo: sip:user@example.com;tag=3xfe-9921883-z9f\n"
    "From: sip:caller@example.net;tag=231413434\n" + BASE + "\n",
    "lwsstart": "INVITE  sip:user@example.com  SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=8814\n" + BASE + "\n",
    "trws": "OPTIONS sip:remote-target@example.com SIP/2.0  \nTo: <sip:remote-target@example.com>\n"
    "From: <sip:local-resource@example.com>;tag=329429089\n" + BASE + "\n",
    # §3.1.2.12 baddate: a Date not in GMT
    "baddate": "INVITE sip:user@example.com SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=2234923\n" + BASE + "Date: Fri, 01 Jan 2010 16:00:00 EST\n\n",
    # §3.1.2.13 regbadct: a URI with headers in addr-spec form
    "regbadct": "REGISTER sip:example.com SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:user@example.com;tag=998332\n" + BASE
    + "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\nl: 0\n\n",
    # §3.1.2.14 badaspec: spaces within addr-spec
    "badaspec": 'OPTIONS sip:user@example.org SIP/2.0\nTo: "Watson, Thomas" < sip:t.watson@example.org >\n'
    'From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=43\n' + BASE + "\n",
    # §3.1.2.15 baddn: non-token characters in an unquoted display name
    "baddn": "OPTIONS sip:t.watson@example.org SIP/2.0\nTo: sip:t.watson@example.org\n"
    "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\n" + BASE + "\n",
    # §3.1.2.16 badvers
    "badvers": "OPTIONS sip:t.watson@example.org SIP/7.0\nTo: sip:t.watson@example.org\n"
    "From: sip:a.g.bell@example.com;tag=242\n" + BASE + "\n",
    # §3.1.2.19 bigcode: an overlarge status code
    "bigcode": "SIP/2.0 4294967301 better not break the receiver\nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"
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
    "To: sip:user@example.com\nTo: sip:other@example.net\nFrom: sip:caller@example.net;tag=2923420123\nl: 0\n\n",
    # §3.3 mcl01: several Content-Length values
    "mcl01": "OPTIONS sip:user@example.com SIP/2.0\nVia: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423\n"
    "To: sip:user@example.com\nFrom: sip:other@example.net;tag=3923942\n"
    "Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf\nCSeq: 15932 OPTIONS\n"
    "Content-Length: 13\nMax-Forwards: 60\nContent-Length: 5\n\nfoo\nbar\n",
}  # fmt: skip


@pytest.mark.requirement("RFC4475-3.1.2-INVALID-MESSAGES")
@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_torture_messages_raise_parse_error(name: str) -> None:
    data = crlf(INVALID[name])
    with pytest.raises(ParseError):
        read_everything(parse(data))


@pytest.mark.requirement("RFC4475-3.1.2-INVALID-MESSAGES")
def test_mismatch01_and_escruri_parse_their_rejection_is_the_uas_business() -> None:
    mismatch = crlf(
        "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
        "From: sip:caller@example.net;tag=34525\n" + BASE + "\n"
    )
    message = parse(mismatch)
    assert isinstance(message, Request) and message.method != message.cseq.method
    escruri = crlf(
        "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0\nTo: sip:user@example.com\n"
        "From: sip:caller@example.net;tag=341518\n" + BASE + "\n"
    )
    assert parse(escruri).uri.headers == (("Route", "%3Csip:example.com%3E"),)  # type: ignore[union-attr]
