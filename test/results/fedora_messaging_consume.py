"""Consume ONE message with the real fedora-messaging library (fedora_messaging.api.consume), the way a
Fedora consumer would, and print what the library made of it as JSON on stdout. The library validates
the headers and body on the way in; a message it refuses never reaches the callback, so the script
gives up after a deadline with exit code 3 and the library's own log lines on stderr say why.

usage: fedora_messaging_consume.py AMQP_URL QUEUE TOPIC DEADLINE_SECONDS
The queue is declared by the caller before anything is published (same settings as below), so
nothing is missed; the library re-declares it idempotently and binds it to TOPIC on amq.topic.
"""
import json
import logging
import os
import sys
import tempfile
import threading

amqp_url, queue, topic, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

# fedora-messaging reads its TOML config at import time: write a minimal one and point at it.
config = os.path.join(tempfile.mkdtemp(), 'fedora-messaging.toml')
with open(config, 'w') as f:
    f.write('amqp_url = %s\n[tls]\nca_cert = ""\nkeyfile = ""\ncertfile = ""\n'
            '[client_properties]\napp = "taskotron interop test"\n' % json.dumps(amqp_url))
os.environ['FEDORA_MESSAGING_CONF'] = config

from fedora_messaging import api, exceptions  # noqa: E402


def give_up():
    sys.stderr.write('no valid message within %s s\n' % deadline)
    sys.stderr.flush()
    os._exit(3)


threading.Timer(deadline, give_up).start()


def callback(message):
    print(json.dumps({
        'topic': message.topic,
        'id': message.id,
        'severity': message.severity,
        'schema': message._properties.headers.get('fedora_messaging_schema'),
        'headers': {k: v for k, v in message._properties.headers.items() if isinstance(v, (str, int, bool))},
        'body': message.body,
        'summary': message.summary,
        'url': message.url,
    }), flush=True)
    os._exit(0)


queues = {queue: {'durable': False, 'auto_delete': False, 'exclusive': False, 'arguments': {}}}
bindings = [{'exchange': 'amq.topic', 'queue': queue, 'routing_keys': [topic]}]
try:
    api.consume(callback, bindings=bindings, queues=queues)
except exceptions.HaltConsumer:
    pass
