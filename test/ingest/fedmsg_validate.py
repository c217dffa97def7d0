"""Ask the real fedmsg library what it decides for one message under several configurations.

usage: fedmsg_validate.py SSLDIR CERTNAME CASES.json
Signs one message with SSLDIR/CERTNAME.{crt,key} as fedmsg does and validates it once per case;
CASES.json is {"name": {fedmsg config keys: ca_cert_location, crl_location, routing_policy, ...}}.
Prints {"signed": <the signed message>, "results": {"name": true|false}}.
"""
import json
import logging
import sys

import fedmsg.crypto

# fedmsg logs each refusal at ERROR; the verdicts are the output.
logging.basicConfig(level=logging.CRITICAL)

ssldir, certname, cases_file = sys.argv[1:4]
with open(cases_file) as f:
    cases = json.load(f)
message = dict(
    topic='org.fedoraproject.prod.buildsys.build.state.change',
    msg={'build_id': 1, 'name': 'bash', 'new': 1, 'old': 0, 'instance': 'primary'},
    i=1,
    msg_id='2026-interop',
    timestamp=1764316800,
    username='apache',
)
signed = fedmsg.crypto.sign(dict(message), crypto_backend='x509', ssldir=ssldir, certname=certname)
results = {}
for name, config in cases.items():
    results[name] = bool(fedmsg.crypto.validate(dict(signed), crypto_validate_backends=['x509'], **config))
print(json.dumps({'signed': signed, 'results': results}))
