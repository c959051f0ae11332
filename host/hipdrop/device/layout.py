"""What lives where on the board's filesystem (LittleFS, working directory ``/``).

The firmware owns these names; each is cross-referenced here and checked against it by
``tests/device/test_device_layout.py``:

- ``firmware/main.py``: ``board.txt`` (board profile), ``crash.txt``, ``hold.txt``;
- ``hipdrop_fw/logging_service.py``: ``/boot_count``, ``/calibration``;
- ``hipdrop_fw/bonds.py``: ``/bonds`` (the hosts the board has paired with);
- ``hipdrop_fw/flashlog.py``: the logs, ``/log/NNNNN.hdl`` (erased by ``LOG_ERASE`` once the
  host has synced them, so every log on the board is one not yet synced);
- ``hipdrop_fw/boards/``: the board profiles.
"""

MAIN = "/main.py"
PACKAGE = "hipdrop_fw"
PACKAGE_DIR = "/lib/hipdrop_fw"  # /lib is on MicroPython's sys.path
BOARD_FILE = "/board.txt"
HOLD_FILE = "/hold.txt"  # while it exists main.py starts neither the app nor its watchdog
LOG_DIR = "/log"
LOG_SUFFIX = ".hdl"
BOOT_COUNT = "/boot_count"
CALIBRATION = "/calibration"
BONDS = "/bonds"
CRASH_FILE = "/crash.txt"
RESTORED = (BOOT_COUNT, CALIBRATION, BONDS)  # small files written back after an install
KEPT = (BOOT_COUNT, CALIBRATION, BONDS, CRASH_FILE)  # besides the log directory
CODE_SUFFIXES = (".py", ".mpy")
BOARDS = ("m5stickc_plus2", "diy_esp32")  # hipdrop_fw/boards/BOARDS
