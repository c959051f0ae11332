"""A fake ESP32 running MicroPython, minus the silicon: its filesystem, its Python, its boot.

Code the host sends (mpremote's commands, hipdrop's probe) runs in CPython in a namespace
whose ``open``, ``os``, ``sys``, ``machine``, ``time`` and imports are the board's: modules
are imported from the board's own filesystem (``/``, then ``/lib``; ``.py`` before ``.mpy``,
as MicroPython does), the board-only modules come from ``fake_modules``, and of CPython's
standard library only what MicroPython also has. So ``main.py`` and the ``hipdrop_fw`` the
host copied really run at boot, up to the app's first hardware access.

A ``.mpy`` file cannot run here (it is ESP32 bytecode): its header is checked the way
MicroPython checks it, then the source it was compiled from (the host's firmware tree) runs.

Boot model: ``boot()`` runs ``boot.py`` and ``main.py``; a ``main.py`` that reaches the app's
hardware leaves the board in ``app`` mode with the watchdog armed. Once Ctrl-C stops the
app, nothing feeds the watchdog any more: after ``watchdog_commands`` further raw-REPL
commands (the stand-in for its 8 s) the board resets itself. A crash loop (main.py failing
and resetting) is cut after 3 boots.
"""

import builtins
import errno
import importlib
import threading
from pathlib import Path

import fake_modules as fm
from fake_os import DIR, BoardOs, board_open

from hipdrop.vsensor.fake_flash import FakeFlash

STDLIB = {"struct", "binascii", "math", "array", "errno", "hashlib", "io", "json", "select"}
BOOT_NOISE = b"ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\n"


class Interpreter:
    """One boot's Python: modules, the REPL namespace, captured output."""

    def __init__(self, board):
        self.board = board
        self.out = []
        self.modules = {}
        self.builtins = dict(vars(builtins))
        self.builtins.update(open=board.open, print=self._print, __import__=self._import)
        sys_mod = fm.sys_module(self.modules, board.mpy, self._print_exception)
        self.fakes = fm.board_modules(sys_mod)
        self.fakes["os"] = fm.module("os", **_public(board.os))
        self.globals = {"__name__": "__main__", "__builtins__": self.builtins}

    def run(self, source, filename="<stdin>", namespace=None):
        """Execute ``source``: (stdout, stderr) as the board prints them (``\\r\\n``)."""
        self.out = []
        err = ""
        try:
            code = compile(source, filename, "exec")
            exec(code, self.globals if namespace is None else namespace)
        except (fm.AppStarted, fm.HardReset):
            raise
        except BaseException as e:  # noqa: BLE001 (the board prints any exception)
            err = traceback_text(e, filename)
        return _cooked("".join(self.out)), _cooked(err)

    def _print(self, *args, sep=" ", end="\n", file=None):
        text = sep.join(str(a) for a in args) + end
        (file.write if file is not None else self.out.append)(text)

    def _print_exception(self, e, file=None):
        self._print(traceback_text(e, "main.py"), end="", file=file)

    # -- imports -----------------------------------------------------------------------

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level:
            raise ImportError("relative import on the fake board")
        parts = name.split(".")
        for i in range(len(parts)):
            self._load(".".join(parts[: i + 1]))
        leaf = self.modules[name]
        for item in fromlist or ():
            if not hasattr(leaf, item) and hasattr(leaf, "__path__"):
                self._load(f"{name}.{item}")
        return leaf if fromlist else self.modules[parts[0]]

    def _load(self, name):
        if name in self.modules:
            return self.modules[name]
        if name in self.fakes:
            self.modules[name] = self.fakes[name]
        else:
            found = self._find(name)
            if found is None and name not in STDLIB:
                raise ImportError(f"no module named '{name}'")
            self.modules[name] = self._exec_file(name, *found) if found else _std(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(self.modules[parent], child, self.modules[name])
        return self.modules[name]

    def _find(self, name):
        parent, _, leaf = name.rpartition(".")
        dirs = self.modules[parent].__path__ if parent else ["", "/lib"]
        for d in dirs:
            base = f"{d}/{leaf}"
            if self.board.is_dir(base):
                for ext in (".py", ".mpy"):
                    if self.board.is_file(f"{base}/__init__{ext}"):
                        return f"{base}/__init__{ext}", base
            for ext in (".py", ".mpy"):
                if self.board.is_file(base + ext):
                    return base + ext, None
        return None

    def _exec_file(self, name, path, package_dir):
        mod = fm.module(name, __file__=path, __builtins__=self.builtins)
        if package_dir is not None:
            mod.__path__ = [package_dir]
        self.modules[name] = mod
        try:
            exec(compile(self.board.source_of(path), path, "exec"), mod.__dict__)
        except BaseException:
            del self.modules[name]
            raise
        return mod


class Board:
    """The fake board: flash, mode (``app``, ``repl``, ``raw`` or ``silent``), boots."""

    def __init__(self, flash=None, mpy=fm.MPY_ESP32, mpy_sources=None, watchdog_commands=12):
        self.flash = flash or FakeFlash()
        self.os = BoardOs(self.flash)
        self.open = board_open(self.flash)
        self.mpy = mpy
        self.mpy_sources = Path(mpy_sources) if mpy_sources else None
        self.watchdog_commands = watchdog_commands
        self.lock = threading.RLock()
        self.emit = lambda data: None  # set by the serial port
        self.mode = "repl"
        self.boots = 0
        self.watchdog_left = None  # commands until the watchdog fires; None: not armed
        self.app_board = None  # the board profile main.py loaded when the app started
        self.crash_loop = False
        self.interp = Interpreter(self)

    # -- files -------------------------------------------------------------------------

    def is_dir(self, path):
        return self._mode_of(path) == DIR

    def is_file(self, path):
        return self._mode_of(path) not in (None, DIR)

    def _mode_of(self, path):
        try:
            return self.flash.stat(path)[0]
        except OSError:
            return None

    def files(self):
        """path -> bytes of every file on the board."""
        return {"/" + path: bytes(data) for path, data in self.flash.live.items()}

    def put(self, path, data):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            if not self.is_dir("/".join(parts[:i])):
                self.flash.mkdir("/".join(parts[:i]))
        with self.flash.open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def source_of(self, path):
        with self.flash.open(path, "rb") as f:
            data = f.read()
        if not path.endswith(".mpy"):
            return data.decode()
        check_mpy_header(data, self.mpy)
        return (self.mpy_sources / path.removeprefix("/lib/")).with_suffix(".py").read_text()

    # -- boot, REPL commands, the watchdog ---------------------------------------------

    def boot(self, noise=True):
        """Power-on or hard reset: run boot.py and main.py; end in ``app`` or ``repl``."""
        if noise:
            self.emit(BOOT_NOISE)
        for _ in range(3):
            self.boots += 1
            self.watchdog_left = None
            self.interp = Interpreter(self)
            try:
                self._run_entry_files()
            except fm.AppStarted:
                self._app_started()
                return
            except fm.HardReset:
                continue
            self._enter_repl()
            return
        self.crash_loop = True
        self._enter_repl()

    def _run_entry_files(self):
        for path in ("boot.py", "main.py"):
            if self.is_file(path):
                ns = {"__name__": "__main__", "__builtins__": self.interp.builtins}
                out, err = self.interp.run(self.source_of(path), path, ns)
                self.emit(out + err)

    def _app_started(self):
        self.mode = "app"
        self.watchdog_left = self.watchdog_commands
        loaded = [m for m in self.interp.modules if m.startswith("hipdrop_fw.boards.")]
        self.app_board = loaded[0].rpartition(".")[2] if loaded else None

    def _enter_repl(self):
        self.mode = "repl"
        self.emit(fm.BANNER)

    def interrupt(self):
        """Ctrl-C while the app runs: KeyboardInterrupt out of main.py, then the REPL."""
        self.emit(b"Traceback (most recent call last):\r\n  File \"main.py\", line 80, in <module>"
                  b"\r\nKeyboardInterrupt: \r\n")  # fmt: skip
        self.app_board = None
        self._enter_repl()

    def soft_reset(self):
        """Ctrl-D in the raw REPL: a fresh Python (False: the watchdog reset the board first)."""
        if self._watchdog_fires():
            return False
        self.interp = Interpreter(self)
        return True

    def command(self, source):
        """One raw-REPL command: (stdout, stderr), or None when the board reset meanwhile."""
        if self._watchdog_fires():
            return None
        try:
            return self.interp.run(source)
        except fm.HardReset:
            self.boot()
            return None

    def _watchdog_fires(self):
        if self.watchdog_left is None:
            return False
        self.watchdog_left -= 1
        if self.watchdog_left > 0:
            return False
        self.boot()
        return True


def check_mpy_header(data, board_mpy):
    """Raise ValueError as MicroPython's import does for a .mpy it cannot load."""
    arch = data[2] >> 2 if len(data) > 2 else 0
    ok = data[:1] == b"M" and data[1] == board_mpy & 0xFF
    if arch and (data[2] != board_mpy >> 8 & 0xFF):
        ok = False
    if not ok:
        raise ValueError("incompatible .mpy file")


def traceback_text(e, filename):
    return (
        "Traceback (most recent call last):\n"
        f'  File "{filename}", line 1, in <module>\n{exception_line(e)}\n'
    )


def exception_line(e):
    """``OSError: [Errno 2] ENOENT``, as MicroPython prints an exception."""
    if isinstance(e, OSError) and e.errno is not None:
        return f"OSError: [Errno {e.errno}] {errno.errorcode.get(e.errno, e.errno)}"
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _cooked(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _public(obj):
    return {n: getattr(obj, n) for n in dir(obj) if not n.startswith("_")}


def _std(name):
    return importlib.import_module(name)
