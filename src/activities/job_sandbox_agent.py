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
# Why only modules written in C: the job's first command usually comes while its sandbox is being
# set up, and waits for this agent's "ready". Importing json, re, subprocess, selectors and signal's
# enums took 20-30 ms of a 40-48 ms set-up (docs/PERFORMANCE.md); os, select, binascii, time and
# _signal (the module signal.py wraps in enums, the same since Python 3.5) are ready in about half
# that. So the agent forks and execs by hand, polls with select.poll, and reads no JSON.
#
# When the command's first process has exited, everything else alive in the namespace is what the
# command left behind (setsid daemons included): the agent kills it and reaps it before it reports
# the command closed, so the next command of the job starts in a namespace as empty as a new one.
#
# The channel is the spawner's Node IPC channel (fd NODE_CHANNEL_FD), one message per line.
# in:  a JSON string: base64 of NUL-separated fields (no field can hold a NUL: execve takes none)
#      run  <id> <file> <cwd> <number of args> <args...> <NAME=value...>
#      kill <id> <signal name>
# out: JSON objects: {t:'ready'}; {t:'started', id, pid}; {t:'data', id, fd, chunk (base64)};
#      {t:'closed', id, code, signal: null}; {t:'refused', id}: it could not be started, nothing ran
# The agent exits when the channel closes, and the namespace with it.
import binascii
import os
import select
import time

try:
    import _signal as signals
except ImportError:  # a Python whose signal module is not the wrapper of _signal
    import signal as signals

CHANNEL = int(os.environ.get('NODE_CHANNEL_FD', '3'))
os.set_blocking(CHANNEL, True)
# Every file this agent opens is closed at exec (PEP 446); so is the channel. The spawner has closed
# whatever else it inherited (spawner.ts), so a command inherits its stdin, stdout and stderr only.
os.set_inheritable(CHANNEL, False)


def send(line):
    # Blocking: a spawner slower than the command's output holds the command back, not our memory.
    data = line.encode() + b'\n'
    while data:
        data = data[os.write(CHANNEL, data):]


def alive(pid):
    """Whether `pid` is a process that has not ended (a zombie has)."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as stat:
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
                os.kill(pid, signals.SIGKILL)
                killed.add(pid)
                found += 1
            except OSError:
                pass
        if found == 0:
            return killed


def exec_candidates(file, env):
    """Where execvp would look for `file`: itself if it has a '/', else in the command's own PATH."""
    if b'/' in file:
        return [file]
    path = env.get(b'PATH', os.defpath.encode())
    return [os.path.join(directory, file) for directory in path.split(b':')]


def spawn(file, args, cwd, env):
    """Starts the command as subprocess.Popen(start_new_session=True, close_fds=True) would.

    Returns (pid, stdout, stderr), the two read ends non-blocking; raises OSError when it could not
    be started (a missing program or working directory, a bad #! line), and then nothing ran.
    """
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    # Closed at a successful exec; otherwise the child writes its errno here before it exits.
    status_read, status_write = os.pipe()
    candidates = exec_candidates(file, env)
    try:
        pid = os.fork()
    except OSError:  # EAGAIN, ENOMEM: nothing ran, and the pipes must not stay open
        for fd in (out_read, out_write, err_read, err_write, status_read, status_write):
            os.close(fd)
        raise
    if pid == 0:
        try:
            os.setsid()
            os.chdir(cwd)
            null = os.open('/dev/null', os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            # Python ignores these two; a command gets the defaults, as from Popen(restore_signals=True).
            for number in (signals.SIGPIPE, signals.SIGXFSZ):
                signals.signal(number, signals.SIG_DFL)
            # As execvp: a later directory of PATH is tried after one without the program, and the
            # error reported is the first that is not "not there".
            error = None
            for candidate in candidates:
                try:
                    os.execve(candidate, [file, *args], env)
                except OSError as failure:
                    if error is None or error.errno in (2, 20):  # ENOENT, ENOTDIR
                        error = failure
            raise error
        except OSError as failure:
            os.write(status_write, b'%d' % (failure.errno or 0))
        except BaseException:
            os.write(status_write, b'0')
        finally:
            os._exit(255)
    for fd in (out_write, err_write, status_write):
        os.close(fd)
    failed = b''
    while True:
        chunk = os.read(status_read, 16)
        if not chunk:
            break
        failed += chunk
    os.close(status_read)
    if failed:
        os.waitpid(pid, 0)
        os.close(out_read)
        os.close(err_read)
        raise OSError(int(failed), 'could not start ' + os.fsdecode(file))
    os.set_blocking(out_read, False)
    os.set_blocking(err_read, False)
    return pid, out_read, err_read


class Command:
    def __init__(self, id, pid):
        self.id = id
        self.pid = pid
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
signals.set_wakeup_fd(wake_write)
signals.signal(signals.SIGCHLD, lambda number, frame: None)
signals.signal(signals.SIGINT, signals.SIG_DFL)

poller = select.poll()
poller.register(CHANNEL, select.POLLIN)
poller.register(wake_read, select.POLLIN)
# The output pipes being read: fd -> 1 or 2.
outputs = {}
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
        if current is not None and pid == current.pid:
            current.status = status
            current.leftovers = sweep()
            current.swept_at = time.monotonic()


def finish_if_done():
    global current
    if current is None or current.status is None or current.open > 0:
        return
    current.leftovers = {pid for pid in current.leftovers if os.path.exists('/proc/%d' % pid)}
    # One stuck in the kernel (uninterruptible I/O) dies when the kernel lets it; the step does not wait for it.
    if current.leftovers and time.monotonic() - current.swept_at < LEFTOVER_WAIT_S:
        return
    send('{"t":"closed","id":%d,"code":%d,"signal":null}' % (current.id, exit_code(current.status)))
    current = None


LEFTOVER_WAIT_S = 5


def run(id, fields):
    global current
    try:
        file, cwd, count = fields[0], fields[1], int(fields[2])
        args, assignments = fields[3:3 + count], fields[3 + count:]
        env = dict(assignment.split(b'=', 1) for assignment in assignments)
        pid, stdout, stderr = spawn(file, args, cwd, env)
    except (OSError, ValueError, IndexError):
        send('{"t":"refused","id":%d}' % id)
        return
    current = Command(id, pid)
    send('{"t":"started","id":%d,"pid":%d}' % (id, pid))
    for fd, stream in ((1, stdout), (2, stderr)):
        outputs[stream] = fd
        poller.register(stream, select.POLLIN)


def received(line):
    fields = binascii.a2b_base64(line.strip()[1:-1]).split(b'\0')
    kind, id = fields[0], int(fields[1])
    if kind == b'run':
        # One at a time; the spawner never sends a second, but one must not wait forever if it did.
        if current is None:
            run(id, fields[2:])
        else:
            send('{"t":"refused","id":%d}' % id)
    elif kind == b'kill' and current is not None and current.id == id and current.status is None:
        number = getattr(signals, fields[2].decode(), None) if fields[2].startswith(b'SIG') else None
        if isinstance(number, int):
            try:
                os.killpg(current.pid, number)
            except OSError:
                pass


send('{"t":"ready"}')
while True:
    # Leftovers being killed are waited for in short steps; otherwise the loop sleeps until woken.
    waiting = current is not None and current.status is not None and current.open == 0
    for fd, _ in poller.poll(2 if waiting else None):
        if fd == wake_read:
            try:
                while os.read(wake_read, 512):
                    pass
            except BlockingIOError:
                pass
            reap()
        elif fd == CHANNEL:
            data = os.read(CHANNEL, 65536)
            if not data:
                raise SystemExit(0)
            pending += data
            *lines, pending = pending.split(b'\n')
            for line in lines:
                if line.strip():
                    received(line)
        elif fd in outputs:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if chunk:
                send('{"t":"data","id":%d,"fd":%d,"chunk":"%s"}' % (current.id, outputs[fd], binascii.b2a_base64(chunk, newline=False).decode()))
            else:
                poller.unregister(fd)
                del outputs[fd]
                os.close(fd)
                current.open -= 1
    reap()
    finish_if_done()
