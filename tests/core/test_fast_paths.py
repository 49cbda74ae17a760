"""The registration core's shortcuts (issue 14) give what the long way gives.

Each shortcut is checked against the way it replaces, done by hand here: the URI text parsed,
the header rows given to ``Headers``, the frozen initial state built field by field, the 200's
extensions read from a response that carries them."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm import strategies
from sipfsm.core.classify import Asked, classify_response
from sipfsm.core.inputs import Success
from sipfsm.core.registration import (
    RegisterPlan,
    RegistrationModel,
    assemble_register,
    build_register,
    contact_uri,
    initial_state,
    register_template,
)
from sipfsm.core.values import ContactSpec, IntentKind, RegistrationConfig
from sipfsm.errors import LocalProtocolError
from sipfsm.message import Headers, Response, SipUri, parse, parse_uri
from sipfsm.ports import HostPort, Target


def _sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


class _Random:
    def token(self, nbits: int) -> str:
        return "t" * (nbits // 8)

    def uniform(self, low: float, high: float) -> float:
        return low


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
@pytest.mark.parametrize(("local", "transport", "text"), [
    (HostPort("192.0.2.7", 5070), "UDP", "sip:bob@192.0.2.7:5070"),
    (HostPort("192.0.2.7", 5070), "TCP", "sip:bob@192.0.2.7:5070;transport=tcp"),
    (HostPort("2001:db8::7", 5061), "TLS", "sip:bob@[2001:db8::7]:5061;transport=tls"),
    (HostPort("host.example.com", 5060), "UDP", "sip:bob@host.example.com:5060"),
])
def test_an_automatic_contact_is_the_uri_its_text_parses_to(local: HostPort, transport: str,
                                                            text: str) -> None:
    made = contact_uri("bob", local, Target(transport, "192.0.2.1", 5060))
    assert made == parse_uri(text)
    assert str(made) == text


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
@pytest.mark.parametrize("registrar_target", [None, Target("UDP", "192.0.2.1", 5060)])
def test_a_new_clients_model_is_the_initial_state(registrar_target: Target | None) -> None:
    config = RegistrationConfig(aor=_sip("sip:alice@example.com"), expires=1800,
                                registrar_target=registrar_target,
                                contacts=(ContactSpec(q=0.5),))
    for resolver, credentials in ((True, False), (False, True)):
        model = RegistrationModel.initial(config, _Random(), has_resolver=resolver,
                                          has_credentials=credentials)
        assert model.state == "unregistered"
        assert model.freeze() == initial_state(config, has_resolver=resolver,
                                               has_credentials=credentials)


def _plan(call_id: str = "c1", from_tag: str = "f1") -> RegisterPlan:
    return RegisterPlan(_sip("sip:example.com"), call_id, 4, from_tag, IntentKind.REGISTER,
                        (ContactSpec(),), 600)


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
def test_register_rows_are_what_headers_makes_of_them() -> None:
    config = RegistrationConfig(aor=_sip("sip:alice@example.com"), user_agent="agent 1 \t")
    auth = [("Authorization", 'Digest username="alice", realm="r"')]
    request = build_register(_plan(call_id=" c1 "), config, (_sip("sip:alice@192.0.2.7"),),
                             auth)
    assert request.headers == Headers(list(request.headers))
    assert request.headers.get("User-Agent") == "agent 1"  # blanks stripped, as Headers does
    assert request.headers.get("Call-ID") == "c1"
    assert request.headers.get("Authorization") == 'Digest username="alice", realm="r"'


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
@pytest.mark.parametrize("where", ["call_id", "from_tag", "user_agent", "authorization"])
def test_a_line_break_in_any_register_value_is_refused(where: str) -> None:
    config = RegistrationConfig(aor=_sip("sip:alice@example.com"),
                                user_agent="x\r\nEvil: 1" if where == "user_agent" else "x")
    plan = _plan(call_id="c\r\nEvil: 1" if where == "call_id" else "c1",
                 from_tag="f\nEvil: 1" if where == "from_tag" else "f1")
    auth = [("Authorization", "Digest a\r\nEvil: 1")] if where == "authorization" else []
    with pytest.raises(LocalProtocolError):
        build_register(plan, config, (_sip("sip:alice@192.0.2.7"),), auth)


def _ok(*headers: str) -> Response:
    lines = ["SIP/2.0 200 OK", "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKa",
             "From: <sip:alice@example.com>;tag=1", "To: <sip:alice@example.com>;tag=2",
             "Call-ID: c1", "CSeq: 4 REGISTER", *headers, "Content-Length: 0", "", ""]
    message = parse("\r\n".join(lines).encode())
    assert isinstance(message, Response)
    return message


OURS = _sip("sip:alice@192.0.2.7:5060")
ASKED = Asked(IntentKind.REGISTER, contacts=(OURS,), expires=600)


@pytest.mark.requirement("RFC5627-4.1-READ-GRUUS")
def test_gruus_are_read_whatever_the_case_of_their_parameter_names() -> None:
    """RFC 3261 §7.3.1: parameter names are case-insensitive; RFC 5627 §4.1: the GRUUs of our
    binding are its pub-gruu and temp-gruu parameters."""
    got = classify_response(_ok('m: <sip:alice@192.0.2.7:5060>;expires=600;'
                                'PUB-GRUU="sip:alice@example.com;gr=x";'
                                'Temp-Gruu="sip:t1@example.com;gr"'), ASKED)
    assert isinstance(got, Success)
    assert got.extensions.pub_gruu == "sip:alice@example.com;gr=x"
    assert got.extensions.temp_gruu == "sip:t1@example.com;gr"


@pytest.mark.requirement("RFC5627-4.1-READ-GRUUS")
def test_a_plain_200_says_nothing_about_extensions_and_one_with_them_is_read() -> None:
    plain = classify_response(_ok("Contact: <sip:alice@192.0.2.7:5060>;expires=600"), ASKED)
    assert isinstance(plain, Success)
    assert (plain.extensions.pub_gruu, plain.extensions.path, plain.extensions.flow_timer,
            plain.extensions.outbound) == (None, (), None, False)
    full = classify_response(_ok("Contact: <sip:alice@192.0.2.7:5060>;expires=600",
                                 "Path: <sip:edge.example.com;lr>", "Flow-Timer: 120",
                                 "Require: outbound", "Service-Route: <sip:sr.example.com;lr>"),
                             ASKED)
    assert isinstance(full, Success)
    assert full.extensions.path == ("sip:edge.example.com;lr",)
    assert (full.extensions.flow_timer, full.extensions.outbound) == (120, True)
    assert full.service_route == ("<sip:sr.example.com;lr>",)  # the name-addr, as listed
    assert [(str(u), e) for u, e in full.granted] == [(str(OURS), 600)]


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
def test_our_contact_written_differently_is_still_ours() -> None:
    """§19.1.4: the host compares case-insensitively, parameters in any order -- the exact
    comparison tried first must fall back to the rule."""
    asked = Asked(IntentKind.REGISTER, contacts=(_sip("sip:alice@host.example.com:5060;a=1;b=2"),),
                  expires=600)
    got = classify_response(_ok("Contact: <sip:alice@HOST.example.com:5060;b=2;a=1>;expires=60"),
                            asked)
    assert isinstance(got, Success)
    assert [e for _, e in got.granted] == [60]
    assert got.bindings[0].ours


@pytest.mark.requirement("RFC3261-10.2-REQUEST-URI-DOMAIN")
def test_the_default_request_uri_is_the_aors_domain_shared_by_its_clients() -> None:
    """§10.2: "The Request-URI names the domain of the location service for which the
    registration is meant (for example, "sip:chicago.com").  The "userinfo" and "@" components
    of the SIP URI MUST NOT be present." -- one value for every client of that domain."""
    first = initial_state(RegistrationConfig(aor=_sip("sip:alice@chicago.com")))
    second = initial_state(RegistrationConfig(aor=_sip("sip:bob@chicago.com")))
    other = initial_state(RegistrationConfig(aor=_sip("sip:bob@chicago.com:5080")))
    assert str(first.registrar_uri) == "sip:chicago.com"
    assert first.registrar_uri is second.registrar_uri
    assert str(other.registrar_uri) == "sip:chicago.com:5080"


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
def test_values_with_a_quick_init_keep_their_fields_defaults_and_frozenness() -> None:
    import dataclasses
    import inspect

    from sipfsm.core.inputs import INPUTS
    from sipfsm.core.registration import Notify, RegisterPlan, Send
    from sipfsm.core.values import Failed, Registered, StateChanged

    for cls in (*INPUTS, Notify, RegisterPlan, Send, Failed, Registered, StateChanged):
        declared = dataclasses.fields(cls)
        if declared:  # (the quick __init__ is the one that runs)
            assert any(n.startswith("_set_") for n in cls.__init__.__code__.co_names), cls
        signature = inspect.signature(cls)
        assert list(signature.parameters) == [f.name for f in declared], cls
        for f in declared:
            default = signature.parameters[f.name].default
            assert default == (inspect.Parameter.empty if f.default is dataclasses.MISSING
                               else f.default), (cls, f.name)
        given = [object() for _ in declared]
        value = cls(*given)
        assert [getattr(value, f.name) for f in declared] == given
        assert value == cls(**{f.name: v for f, v in zip(declared, given, strict=True)})
        for f in declared:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(value, f.name, None)


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
def test_quick_init_refuses_what_it_cannot_copy() -> None:
    import dataclasses

    from sipfsm.core.values import quick_init

    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    for cls in (Mutable, Factory):
        with pytest.raises(TypeError):
            quick_init(cls)


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@settings(max_examples=300, deadline=None)
@given(ours=strategies.sip_uris(headers=False),
       expires=st.one_of(st.integers(0, 100_000), st.integers(2**32 - 2, 2**40)),
       listed=st.booleans(), register=st.booleans())
def test_a_200_listing_our_contact_as_we_wrote_it_reads_as_the_general_way_reads_it(
        ours: SipUri, expires: int, listed: bool, register: bool) -> None:
    """§10.2.4: the usual 200 (our one contact, written as we wrote it, ``;expires=N``) is read
    without parsing its Contact; the same row with a blank before the parameter -- the same
    contact for the parser -- takes the general reading, which must give the same input."""
    from sipfsm.core.classify import _as_we_wrote_it, _contact_rows

    asked = Asked(IntentKind.REGISTER if register else IntentKind.UNREGISTER, contacts=(ours,),
                  expires=600, bindings=listed)
    usual = _ok(f"Contact: <{ours}>;expires={expires}", "Expires: 77")
    spaced = _ok(f"Contact: <{ours}> ;expires={expires}", "Expires: 77")
    assert _as_we_wrote_it(_contact_rows(usual.headers), asked) is not None  # the short way
    assert _as_we_wrote_it(_contact_rows(spaced.headers), asked) is None
    assert classify_response(usual, asked) == classify_response(spaced, asked)


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@pytest.mark.parametrize("row", [
    "<sip:alice@192.0.2.7:5060>;expires=600;q=0.5",  # another parameter
    "<sip:alice@192.0.2.7:5060>;expires=",  # no value: 3600 (§10.2 SHOULD)
    "<sip:alice@192.0.2.7:5060>;expires=6x",
    "<sip:alice@192.0.2.7:5060>;expires=\u0661\u0662",  # not ASCII digits
    "<sip:alice@192.0.2.7:5060>;expires=60, <sip:bob@192.0.2.8>;expires=60",
    "<sip:alice@192.0.2.7:5061>;expires=60",  # not ours
    "<sip:alice@192.0.2.7:506>;expires=60",
    "<SIP:alice@192.0.2.7:5060>;expires=60",  # ours by §19.1.4, not as written
])
def test_any_other_contact_row_takes_the_general_reading(row: str) -> None:
    from sipfsm.core.classify import _as_we_wrote_it, _contact_rows

    response = _ok(f"Contact: {row}")
    assert _as_we_wrote_it(_contact_rows(response.headers), ASKED) is None


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
def test_a_configuration_with_a_quick_init_keeps_its_fields_defaults_checks_and_frozenness(
        ) -> None:
    import dataclasses
    import inspect

    from sipfsm.errors import ConfigError

    declared = dataclasses.fields(RegistrationConfig)
    assert any(n.startswith("_set") for n in RegistrationConfig.__init__.__code__.co_names)
    signature = inspect.signature(RegistrationConfig)
    assert list(signature.parameters) == [f.name for f in declared]
    for f in declared:
        assert signature.parameters[f.name].default == (
            inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default), f.name
    aor = _sip("sip:alice@example.com")
    config = RegistrationConfig(aor, None, Target("UDP", "192.0.2.1", 5060), expires=900,
                                user_agent=None)
    assert (config.aor, config.registrar_target, config.expires, config.user_agent) == (
        aor, Target("UDP", "192.0.2.1", 5060), 900, None)
    assert config == RegistrationConfig(aor=aor, registrar_target=Target("UDP", "192.0.2.1", 5060),
                                        expires=900, user_agent=None)
    assert dataclasses.replace(config, expires=60).expires == 60
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.expires = 1  # type: ignore[misc]
    with pytest.raises(ConfigError):  # __post_init__ still checks
        RegistrationConfig(aor, expires=0)
    with pytest.raises(ConfigError):
        dataclasses.replace(config, aor=_sip("sip:example.com"))


# The names _success asks about, and spellings of rows a registrar may send.
_ASKED_NAMES = ["Expires", "Date", "Service-Route", "Authentication-Info", "Path", "Flow-Timer",
                "Require", "Contact"]
_ROW_NAMES = [*_ASKED_NAMES, "m", "CONTACT", "expires", "X-Other", "Server", "Route"]


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(_ROW_NAMES),
                               st.sampled_from(["", "1", " 60 ", "<sip:a@b>;gruu", "x, y"])),
                     max_size=6))
def test_the_parsers_table_answers_what_the_headers_answer(rows: list[tuple[str, str]]) -> None:
    """_success asks the parser's table of first rows whether a name is present, and takes the
    Contact rows from it: the same answers as the headers' own lookups, whatever the rows."""
    from sipfsm.core.classify import _contact_rows, _present

    headers = _ok(*(f"{name}: {value}" for name, value in rows)).headers
    present = _present(headers)
    for name in _ASKED_NAMES:
        assert (name in present) == (name in headers), name
    assert _contact_rows(headers) == headers.get_lines("Contact")


_CONFIGS = [RegistrationConfig(aor=_sip("sip:alice@example.com")),
            RegistrationConfig(aor=_sip("sip:alice@example.com"), user_agent="ua 2",
                               instance_id="urn:uuid:00000000-0000-0000-0000-000000000001",
                               reg_id=1)]
_CONTACT_URIS = [_sip("sip:alice@192.0.2.7:5070"), _sip("sip:alice@192.0.2.8;transport=tcp")]


@st.composite
def _register_plans(draw: st.DrawFn) -> tuple[RegisterPlan, tuple[SipUri, ...]]:
    """Plans that differ from each other in one field or several, often in none but CSeq."""
    count = draw(st.integers(0, 2))
    specs = tuple(ContactSpec(q=draw(st.sampled_from([None, 0.5]))) for _ in range(count))
    plan = RegisterPlan(draw(st.sampled_from([_sip("sip:example.com"), _sip("sip:b.example")])),
                        draw(st.sampled_from(["c1", "c2"])), draw(st.integers(1, 2**31 - 2)),
                        draw(st.sampled_from(["f1", "f2"])), draw(st.sampled_from(IntentKind)),
                        specs, draw(st.sampled_from([None, 0, 600, 3600])), draw(st.booleans()))
    uris = tuple(draw(st.sampled_from(_CONTACT_URIS)) for _ in range(count))
    return plan, uris


@pytest.mark.requirement("RFC3261-10.2-REQUIRED-HEADERS")
@settings(max_examples=300, deadline=None)
@given(first=_register_plans(), second=_register_plans(), configs=st.tuples(
           st.sampled_from(_CONFIGS), st.sampled_from(_CONFIGS)),
       authorization=st.sampled_from([[], [("Authorization", 'Digest username="alice"')],
                                      [("Proxy-Authorization", " spaced ")]]))
def test_a_kept_register_template_builds_what_building_afresh_builds(
        first: tuple[RegisterPlan, tuple[SipUri, ...]],
        second: tuple[RegisterPlan, tuple[SipUri, ...]],
        configs: tuple[RegistrationConfig, RegistrationConfig],
        authorization: list[tuple[str, str]]) -> None:
    """The driver keeps the REGISTER's rows (but CSeq and credentials) for the resubmission
    answering a challenge: whatever the next plan, what it builds with the kept template is what
    building it afresh gives, and the template is reused exactly when only the CSeq changed."""
    (plan, uris), (then, then_uris) = first, second
    kept = register_template(plan, configs[0], uris)
    template = register_template(then, configs[1], then_uris, kept)
    made = assemble_register(then, template, authorization)
    fresh = build_register(then, configs[1], then_uris, authorization)
    assert made == fresh and made.to_bytes() == fresh.to_bytes()
    only_cseq = (configs[0] == configs[1] and uris == then_uris
                 and dataclasses.replace(plan, cseq=then.cseq) == then)
    assert (template is kept) == only_cseq


_OUR_CONTACT = _sip("sip:alice@192.0.2.7:5060")
_GRUU_CONTACT = _sip("sip:gruu@192.0.2.7:5060")  # "gruu" in our own contact, as written
_OTHER_CONTACT = _sip("sip:alice@192.0.2.9:5060")
_200_CONTACT_ROWS = [
    "Contact: <sip:alice@192.0.2.7:5060>;expires=600",
    "Contact: <sip:gruu@192.0.2.7:5060>;expires=600",
    "Contact: <sip:alice@192.0.2.7:5060>;expires=0",
    "Contact: <sip:alice@192.0.2.7:5060>;expires=99999999999",
    "Contact: <sip:alice@192.0.2.7:5060> ;expires=600",
    "Contact: <sip:alice@192.0.2.7:5060>;expires=600;pub-gruu=\"sip:a@b;gr=1\"",
    "Contact: <sip:alice@192.0.2.7:5060;gruu>;expires=600",
    "Contact: <sip:alice@192.0.2.9:5060>;expires=60",
    "m: <sip:alice@192.0.2.7:5060>;expires=600",
    "Contact: <sip:alice@192.0.2.7:5060>;expires=600, <sip:bob@192.0.2.8>;expires=60",
]
_200_OTHER_ROWS = [
    "Expires: 300", "Date: Sat, 13 Nov 2010 23:29:00 GMT", "Service-Route: <sip:sr@b;lr>",
    'Authentication-Info: nextnonce="n2"', "Path: <sip:edge@b;lr>", "Flow-Timer: 120",
    "Require: outbound", "Server: x", "X-Other: y", "Contact: <sip:carol@192.0.2.10>",
]


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@settings(max_examples=500, deadline=None)
@given(contact=st.sampled_from(["", *_200_CONTACT_ROWS]),
       others=st.lists(st.sampled_from(_200_OTHER_ROWS), max_size=2, unique=True),
       kind=st.sampled_from([IntentKind.REGISTER, IntentKind.REGISTER, IntentKind.UNREGISTER,
                             IntentKind.QUERY]),
       bindings=st.booleans(),
       contacts=st.sampled_from([(_OUR_CONTACT,), (_OUR_CONTACT,), (_GRUU_CONTACT,),
                                 (_OUR_CONTACT, _OTHER_CONTACT), ()]),
       instance=st.sampled_from([None, None, "urn:uuid:00000000-0000-0000-0000-000000000001"]),
       via=st.sampled_from(["", ";received=198.51.100.1;rport=4000", ";rport"]))
def test_the_usual_200_read_the_short_way_is_what_the_general_reading_gives(
        contact: str, others: list[str], kind: IntentKind, bindings: bool,
        contacts: tuple[SipUri, ...], instance: str | None, via: str) -> None:
    from sipfsm.core.classify import _success, _usual_success

    rows = [row for row in (contact, *others) if row]
    lines = ["SIP/2.0 200 OK", f"Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKa{via}",
             "From: <sip:alice@example.com>;tag=1", "To: <sip:alice@example.com>;tag=2",
             "Call-ID: c1", "CSeq: 4 REGISTER", *rows, "Content-Length: 0", "", ""]
    response = parse("\r\n".join(lines).encode())
    assert isinstance(response, Response)
    asked = Asked(kind, contacts=contacts, expires=600, bindings=bindings, instance=instance)
    short = _usual_success(response, asked)
    if short is not None:
        assert short == _success(response, asked)
    if (rows == [_200_CONTACT_ROWS[0]] and kind is IntentKind.REGISTER
            and contacts == (_OUR_CONTACT,) and instance is None):
        assert short is not None  # the usual 200 takes the short way
