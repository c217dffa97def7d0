# The agent of a job's sandbox (sandbox.ts JobSandbox, spawner.ts). bwrap starts it as pid 1 of the
# sandbox's PID namespace (--as-pid-1) once the namespaces and mounts are made; it then runs the
# job's commands of one kind one at a time, for the runner's spawner outside, as a bwrap of the
# command's own would have run it: in a session of its own, stdin /dev/null, exactly the environment
# it is given, and a death by signal N reported as exit code 128+N (bwrap's convention).
#
# Why pid 1, and why Python: a task must not be able to take its sandbox down. The kernel drops
# every signal sent to a namespace's init from inside the namespace unless init handles it, so
# `kill -9 $PPID`, `kill -KILL 1` or `pkill python3` from a task do nothing, as they did to bwrap's
# own init. Init also inherits every orphan and must reap it; Python can wait for any child
# (os.waitpid(-1)), which Node cannot.
#
# When the command's first process has exited, everything else alive in the namespace is what the
# command left behind (setsid daemons included): the agent kills it and reaps it before it reports
# the command closed, so the next command of the job starts in a namespace as empty as a new one.
#
# The channel is the spawner's Node IPC channel (fd NODE_CHANNEL_FD), JSON, one message per line.
# in:  {t:'run', id, file, args, cwd, env}; {t:'kill', id, signal}
# out: {t:'ready'}; {t:'started', id, pid}; {t:'data', id, fd, chunk (base64)};
#      {t:'closed', id, code, signal: null}; {t:'refused', id}: it could not be started, nothing ran
# The agent exits when the channel closes, and the namespace with it.
import base64
import json
import os
import selectors
import signal
import subprocess
import time

CHANNEL = int(os.environ.get('NODE_CHANNEL_FD', '3'))
os.set_blocking(CHANNEL, True)


def send(message):
    # Blocking: a spawner slower than the command's output holds the command back, not our memory.
    data = (json.dumps(message) + '\n').encode()
    while data:
        data = data[os.write(CHANNEL, data):]


def alive(pid):
    """Whether `pid` is a process that has not ended (a zombie has)."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as stat:
            return stat.read().rsplit(b')', 1)[1].split()[0] != b'Z'
    except (OSError, IndexError):
        return False


def sweep():
    """Kills every process in the namespace but this one, until a pass finds nothing new."""
    killed = set()
    while True:
        found = 0
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid == os.getpid() or pid in killed or not alive(pid):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
                found += 1
            except OSError:
                pass
        if found == 0:
            return killed


class Command:
    def __init__(self, message, process):
        self.id = message['id']
        self.process = process
        self.status = None
        self.open = 2
        self.leftovers = set()
        self.swept_at = None


# A SIGCHLD handler of our own (children get the default back at exec) so that the wake-up pipe
# tells the loop when to reap. SIGINT goes back to the default: Python's KeyboardInterrupt handler
# would make init take a task's Ctrl-C.
wake_read, wake_write = os.pipe()
os.set_blocking(wake_read, False)
os.set_blocking(wake_write, False)
signal.set_wakeup_fd(wake_write)
signal.signal(signal.SIGCHLD, lambda number, frame: None)
signal.signal(signal.SIGINT, signal.SIG_DFL)

selector = selectors.DefaultSelector()
selector.register(CHANNEL, selectors.EVENT_READ, 'channel')
selector.register(wake_read, selectors.EVENT_READ, 'wake')
current = None
pending = b''


def exit_code(status):
    """As bwrap reports it: the exit status, or 128+N for a death by signal N."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if current is not None and pid == current.process.pid:
            current.status = status
            # Popen must not wait for it again.
            current.process.returncode = exit_code(status)
            current.leftovers = sweep()
            current.swept_at = time.monotonic()


def finish_if_done():
    global current
    if current is None or current.status is None or current.open > 0:
        return
    current.leftovers = {pid for pid in current.leftovers if os.path.exists(f'/proc/{pid}')}
    # One stuck in the kernel (uninterruptible I/O) dies when the kernel lets it; the step does not wait for it.
    if current.leftovers and time.monotonic() - current.swept_at < LEFTOVER_WAIT_S:
        return
    send({'t': 'closed', 'id': current.id, 'code': exit_code(current.status), 'signal': None})
    current = None


LEFTOVER_WAIT_S = 5


def run(message):
    global current
    try:
        process = subprocess.Popen(
            [message['file'], *message['args']],
            cwd=message['cwd'],
            env=message['env'],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        send({'t': 'refused', 'id': message['id']})
        return
    current = Command(message, process)
    send({'t': 'started', 'id': current.id, 'pid': process.pid})
    for fd, stream in ((1, process.stdout), (2, process.stderr)):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream.fileno(), selectors.EVENT_READ, (fd, stream))


def received(message):
    if message.get('t') == 'run':
        # One at a time; the spawner never sends a second, but one must not wait forever if it did.
        if current is None:
            run(message)
        else:
            send({'t': 'refused', 'id': message.get('id')})
    elif message.get('t') == 'kill' and current is not None and current.id == message.get('id') and current.status is None:
        try:
            os.killpg(current.process.pid, signal.Signals[message['signal']])
        except (OSError, KeyError):
            pass


send({'t': 'ready'})
while True:
    # Leftovers being killed are waited for in short steps; otherwise the loop sleeps until woken.
    waiting = current is not None and current.status is not None and current.open == 0
    for key, _ in selector.select(0.002 if waiting else None):
        if key.data == 'wake':
            try:
                while os.read(wake_read, 512):
                    pass
            except BlockingIOError:
                pass
            reap()
        elif key.data == 'channel':
            data = os.read(CHANNEL, 65536)
            if not data:
                raise SystemExit(0)
            pending += data
            *lines, pending = pending.split(b'\n')
            for line in lines:
                if line.strip():
                    received(json.loads(line))
        else:
            fd, stream = key.data
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                continue
            if chunk:
                send({'t': 'data', 'id': current.id, 'fd': fd, 'chunk': base64.b64encode(chunk).decode()})
            else:
                selector.unregister(stream.fileno())
                stream.close()
                current.open -= 1
    reap()
    finish_if_done()
