"""Hand-written messages a registration client meets (RFC 3261 §24 style, real-server shapes)."""

from __future__ import annotations

from .conftest import crlf

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

# A 401 carrying two challenges on two rows (RFC 8760 §2.4: SHA-256 first, MD5 for old clients).
UNAUTHORIZED = crlf(
    """SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4;rport=5060
From: Bob <sip:bob@biloxi.com>;tag=456248
To: Bob <sip:bob@biloxi.com>;tag=2493k59kd
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
WWW-Authenticate: Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=SHA-256, qop="auth", opaque="5ccc069c403ebaf9f0171e9517f40e41"
WWW-Authenticate: Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=MD5, qop="auth", opaque="5ccc069c403ebaf9f0171e9517f40e41"
Server: kamailio (5.7.4 (x86_64/linux))
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
Contact: <sip:bob@192.0.2.4>;expires=3598;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1, <sip:bob@198.51.100.7:5062;transport=tcp>;expires=120;q=0.5
Contact: "Bob's desk" <sip:bob@[2001:db8::7]:5060;ob>;expires=3600
Date: Sat, 13 Nov 2010 23:29:00 GMT
Server: kamailio (5.7.4 (x86_64/linux))
Content-Length: 0

"""
)
