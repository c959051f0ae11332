"""Is the process that records a session still running? (the ``writers`` table)

A writer is named by host name, process id and, where the OS tells it cheaply (Linux), the
process's start time, so a recycled process id is not mistaken for the recorder. A writer on
another host cannot be asked: it counts as alive while it has committed recently.
"""

import os
import socket
import sys

STALE_AFTER_S = 120.0
"""A writer on another host that has not committed for this long is taken to be gone."""


def this_process() -> tuple[str, int, str | None]:
    """(host, pid, start time or None) of the running process."""
    pid = os.getpid()
    return socket.gethostname(), pid, process_start(pid)


def process_start(pid) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), else None."""
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def _proc_stat(pid) -> list[str] | None:
    """/proc/PID/stat after the command name (field 3 on: state, ...), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].decode().split()  # the name may hold spaces and ')'


def writer_alive(host, pid, start, seen_at, now, stale_after_s=STALE_AFTER_S) -> bool:
    """Whether the writer (a ``writers`` row) may still be recording."""
    if host != socket.gethostname():
        return now - seen_at < stale_after_s
    if not pid_alive(pid):
        return False
    fields = _proc_stat(pid)
    if fields is None:
        return True
    return fields[0] != "Z" and start in (None, fields[19])  # a zombie, or a recycled pid


def pid_alive(pid) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def _windows_pid_alive(pid) -> bool:
    """OpenProcess + GetExitCodeProcess (os.kill(pid, 0) would send Ctrl-C on Windows)."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, int(pid))  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    code = ctypes.c_ulong()
    try:
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    finally:
        kernel32.CloseHandle(handle)
    return bool(ok) and code.value == 259  # STILL_ACTIVE
