"""A minimal PJSIP (pjsua2) registration client, to be probed by `sipfsm probe`.

    pip install pjsua2-python
    python examples/pjsua2_register.py HOST PORT USER PASSWORD DOMAIN [--transport udp|tcp]
        [--seconds 8]

Registers sip:USER@DOMAIN at sip:HOST:PORT (no audio device), stays for --seconds handling
events, then unregisters and exits.  Exit 0 when a 2xx was seen, 1 otherwise.
"""

import argparse
import sys
import time

import pjsua2 as pj


class Account(pj.Account):
    def __init__(self):
        super().__init__()
        self.codes = []

    def onRegState(self, prm):
        self.codes.append(prm.code)


def main():
    parser = argparse.ArgumentParser()
    for name in ("host", "port", "user", "password", "domain"):
        parser.add_argument(name)
    parser.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    ep = pj.Endpoint()
    ep.libCreate()
    config = pj.EpConfig()
    config.logConfig.level = 1
    config.logConfig.consoleLevel = 1
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    ep.libInit(config)
    ep.audDevManager().setNullDev()
    kind = pj.PJSIP_TRANSPORT_UDP if args.transport == "udp" else pj.PJSIP_TRANSPORT_TCP
    transport = pj.TransportConfig()
    transport.boundAddress = "127.0.0.1"
    transport.port = 0
    ep.transportCreate(kind, transport)
    ep.libStart()

    account_config = pj.AccountConfig()
    account_config.idUri = f"sip:{args.user}@{args.domain}"
    suffix = ";transport=tcp" if args.transport == "tcp" else ""
    account_config.regConfig.registrarUri = f"sip:{args.host}:{args.port}{suffix}"
    account_config.regConfig.timeoutSec = 3600
    account_config.sipConfig.authCreds.append(
        pj.AuthCredInfo("digest", "*", args.user, 0, args.password))
    account = Account()
    account.create(account_config)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        ep.libHandleEvents(50)
    ok = any(200 <= c < 300 for c in account.codes)
    try:
        account.setRegistration(False)
        end = time.monotonic() + 2
        while time.monotonic() < end:
            ep.libHandleEvents(50)
    except pj.Error:
        pass
    account.shutdown()
    ep.libDestroy()
    print("registration codes:", account.codes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
