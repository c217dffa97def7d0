"""Publish messages with the real fedora-messaging library (fedora_messaging.api.publish), the way
Koji's and Bodhi's publishers do: topic_prefix applied by the library, headers and body built by its
Message class. The broker URL comes from the command line; everything else is the library's own.

usage: fedora_messaging_publish.py AMQP_URL TOPIC_PREFIX MESSAGES.json
MESSAGES.json is a list of {"topic", "body", "severity"?}. Prints each message's id.
"""
import json
import os
import sys
import tempfile

amqp_url, topic_prefix, messages_file = sys.argv[1:4]

# fedora-messaging reads its TOML config at import time: write a minimal one and point at it.
config = os.path.join(tempfile.mkdtemp(), 'fedora-messaging.toml')
with open(config, 'w') as f:
    f.write('amqp_url = %s\npublish_exchange = "amq.topic"\ntopic_prefix = %s\n'
            '[tls]\nca_cert = ""\nkeyfile = ""\ncertfile = ""\n'
            '[client_properties]\napp = "taskotron interop test"\n' % (json.dumps(amqp_url), json.dumps(topic_prefix)))
os.environ['FEDORA_MESSAGING_CONF'] = config

from fedora_messaging import api, message  # noqa: E402

with open(messages_file) as f:
    messages = json.load(f)
for m in messages:
    sent = message.Message(topic=m['topic'], body=m['body'], severity=m.get('severity', message.INFO))
    api.publish(sent)
    print(sent.id, flush=True)
