"""Run named checks and report each as ``ok NAME`` (or ``n/a NAME`` when a check returns False,
or ``FAIL NAME: error``), then ``DONE``; raise if any failed. The MicroPython entry scripts
share it (the runner copies it beside them); it runs on MicroPython and CPython alike."""


def named_checks(namespace):
    """The ``check_*`` functions in a module's globals, sorted by name."""
    return sorted((name, f) for name, f in namespace.items() if name.startswith("check_"))


def run_checks(checks, what):
    failed = 0
    for name, check in checks:
        try:
            print("n/a" if check() is False else "ok", name)
        except Exception as e:  # report every failing check, then raise
            print(f"FAIL {name}: {e!r}")
            failed += 1
    print("DONE")
    if failed:
        raise AssertionError(f"{failed} {what} checks failed on MicroPython")
