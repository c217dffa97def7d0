"""Publish messages with the real fedmsg library, as an "active" publisher (the way Koji's plugin and
git hooks did: connect to the relay's inbound endpoint), optionally X.509-signed from an ssldir.

usage: fedmsg_publish.py ENDPOINT SSLDIR|- CERTNAME MESSAGES.json
MESSAGES.json is a list of {"modname", "topic", "msg"}. Prints each sent envelope's msg_id.
"""
import json
import os
import socket
import sys
import tempfile

endpoint, ssldir, certname, messages_file = sys.argv[1:5]
sign = ssldir != '-'
hostname = socket.gethostname().split('.', 1)[0]

# fedmsg.init() insists on a config file (/etc/fedmsg-config.py, ./fedmsg-config.py, ...): give it
# a minimal one of our own in a scratch working directory.
messages_file = os.path.abspath(messages_file)
ssldir = os.path.abspath(ssldir) if sign else ssldir
os.chdir(tempfile.mkdtemp())
with open('fedmsg-config.py', 'w') as f:
    f.write('config = dict(endpoints={}, relay_inbound=[%r])\n' % endpoint)

import fedmsg  # noqa: E402

fedmsg.init(
    active=True,
    name='relay_inbound',
    relay_inbound=[endpoint],
    endpoints={},
    topic_prefix='org.fedoraproject',
    environment='prod',
    sign_messages=sign,
    validate_signatures=False,
    crypto_backend='x509',
    ssldir=ssldir if sign else None,
    certnames={'shell.' + hostname: certname},
    post_init_sleep=1.0,
    zmq_linger=2000,
)
with open(messages_file) as f:
    messages = json.load(f)
for m in messages:
    sent = {}
    fedmsg.publish(topic=m['topic'], modname=m['modname'], msg=m['msg'], pre_fire_hook=sent.update)
    print(sent['msg_id'], flush=True)
fedmsg.destroy()
