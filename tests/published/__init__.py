"""Published registration-client test suites, ported as sipfsm tests (virtual time).

One module per suite; each test's docstring names the source file and test, states the
scenario in our words, and says where sipfsm diverges from the suite and why (RFC text or the
user's decisions):

* test_pjsip_regc.py            pjsip/pjproject pjsip/src/test/regc_test.c
* test_pjsua_register_scripts.py pjsip/pjproject tests/pjsua/scripts-recvfrom/2xx_reg_*.py,
                                scripts-sipp/uas-auth-two-algo
* test_sofia_nua_register.py    freeswitch/sofia-sip libsofia-sip-ua/nua/check_register.c,
                                tests/test_register.c
* test_resiprocate_dum.py       resiprocate/resiprocate tfm/tfdum/dumTests.cxx
* test_liblinphone_register.py  BelledonneCommunications/liblinphone tester/register_tester.c,
                                baresip/re test/sipreg.c
* test_asterisk_outbound_registration.py asterisk/testsuite
                                tests/channels/pjsip/registration/outbound/
* test_belle_sip_register.py    BelledonneCommunications/belle-sip
                                tester/belle_sip_register_tester.c
"""
