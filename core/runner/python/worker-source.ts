// The Python side of a Python tool's worker (docs/dev/authoring.md, "Python tools"), shipped as
// text inside Keel's bundles and started with `python -c`, so no file has to be found beside the
// CLI, the language server or the extension. It reads one call at a time from fd 3 and answers on
// fd 4, one JSON object a line; what the tool prints goes to Keel on fd 4 as `out` messages of
// its call, and anything written at the file-descriptor level reaches the worker's own stdout and
// stderr, which Keel keeps with the call in flight. The worker never writes its protocol to stdout.

export const WORKER_SOURCE = String.raw`
import asyncio, codecs, hashlib, inspect, io, json, math, os, select, sys, threading, time, traceback

CHUNK = 65536
commands = os.fdopen(3, "rb")
replies = os.fdopen(4, "wb")
lock = threading.Lock()
current = [None]


def send(message):
    line = (json.dumps(message) + "\n").encode("ascii")
    with lock:
        replies.write(line)
        replies.flush()


class Capture(io.TextIOBase):
    """sys.stdout and sys.stderr: text printed during a call goes to Keel with the call's id."""

    def __init__(self, fallback):
        self.fallback = fallback

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not " + type(text).__name__)
        call = current[0]
        if call is None:
            self.fallback.write(text)
            self.fallback.flush()
        else:
            for start in range(0, len(text), CHUNK):
                send({"id": call, "out": text[start:start + CHUNK]})
        return len(text)

    def flush(self):
        pass


sys.stdout = Capture(sys.__stdout__)
sys.stderr = Capture(sys.__stderr__)
sys.dont_write_bytecode = True

# Text written to fd 1 or 2 (a C extension, a subprocess) comes back through a pipe of the worker's
# own, read by a thread that sends it with the call in flight. At the end of a call the worker
# reads what the pipe still holds before its reply (under the same lock, without waiting for the
# thread), so nothing a call printed arrives after its reply.
low_read, low_write = os.pipe()
os.dup2(low_write, 1)
os.dup2(low_write, 2)
os.close(low_write)
os.set_blocking(low_read, False)
low_lock = threading.Lock()
low_text = codecs.getincrementaldecoder("utf-8")("replace")


def take():
    """Sends what the pipe holds now with the call in flight; False at its end. Hold low_lock."""
    while True:
        try:
            data = os.read(low_read, CHUNK)
        except BlockingIOError:
            return True
        if not data:
            return False
        text = low_text.decode(data)
        call = current[0]
        if text and call is not None:
            for start in range(0, len(text), CHUNK):
                send({"id": call, "out": text[start:start + CHUNK]})


def pump():
    while True:
        select.select([low_read], [], [])
        with low_lock:
            if not take():
                return


threading.Thread(target=pump, daemon=True).start()


def drain():
    with low_lock:
        take()


def watch_parent(parent):
    # Keel died while a call is stuck (so fd 3 is never read again): end the worker's process
    # group, with what the tool started in it, all the same.
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            if hasattr(os, "killpg"):
                os.killpg(os.getpgid(0), 9)
            os._exit(3)


threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()

modules = {}
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)


def load(path):
    """The module at path, executed again only when its bytes changed since the last call."""
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    known = modules.get(path)
    if known is not None and known[0] == digest:
        return known[1]
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = "keel_tool_" + hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]
    code = compile(data, path, "exec")
    module = type(sys)(name)
    module.__file__ = path
    sys.modules[name] = module
    exec(code, module.__dict__)
    modules[path] = (digest, module)
    return module


def not_json(value, path, depth=0):
    """Where value stops being JSON, and the type found there; None when it is JSON."""
    if depth > 200:
        return (path, "value nested deeper than 200 levels")
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "float " + repr(value))
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = not_json(item, path + "[" + str(i) + "]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return (path, "dict with a key of type " + type(key).__name__)
            found = not_json(item, path + "." + key, depth + 1)
            if found:
                return found
        return None
    return (path, type(value).__module__ + "." + type(value).__qualname__
            if type(value).__module__ != "builtins" else type(value).__name__)


def tool_frames(error):
    """The traceback without the worker's own frames."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def place(error, path):
    """The file and line in the tool's module nearest to where error was raised."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == path:
            found = frame
    return (found.lineno, found.name) if found else None


def call(message):
    path, name, args = message["module"], message["fn"], message["args"]
    try:
        module = load(path)
    except SyntaxError as e:
        return {"error": type(e).__name__ + ": " + str(e.msg), "kind": "config",
                "file": e.filename or path, "line": e.lineno}
    except FileNotFoundError:
        return {"error": "the module does not exist", "kind": "config", "file": path}
    except BaseException as e:
        return {"error": type(e).__name__ + ": " + str(e), "stage": "import",
                "traceback": tool_frames(e), "where": place(e, path)}
    fn = getattr(module, name, None)
    if not callable(fn):
        known = sorted(k for k, v in vars(module).items()
                       if callable(v) and not k.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        return {"error": "no function '" + name + "'", "kind": "config", "file": path,
                "known": known}
    try:
        value = fn(**args)
        if inspect.isawaitable(value):
            value = loop.run_until_complete(value)
    except BaseException as e:
        kind = getattr(e, "kind", None)
        retry = getattr(e, "retry_after_ms", None)
        return {"error": type(e).__name__ + ": " + str(e), "traceback": tool_frames(e),
                "where": place(e, path), "kind": kind if isinstance(kind, str) else None,
                "retryAfterMs": retry if isinstance(retry, (int, float)) else None}
    found = not_json(value, "$")
    if found:
        return {"error": "not_json", "path": found[0], "found": found[1]}
    return {"value": value}


send({"hello": {"version": sys.version.split()[0], "executable": sys.executable}})
for line in commands:
    message = json.loads(line)
    current[0] = message["id"]
    try:
        reply = call(message)
    finally:
        drain()
        current[0] = None
    reply["id"] = message["id"]
    send(reply)
os._exit(0)
`;
