"""Installing MicroPython with esptool, from an image the user downloaded (never fetched here).

For the ESP32 (not the S2/S3/C3) MicroPython's ``.bin`` holds the second-stage bootloader,
the partition table and the app, and goes to flash offset ``0x1000`` after an erase
(micropython.org/download/ESP32_GENERIC: ``esptool erase_flash``, then ``write_flash 0x1000``;
esptool 5 spells the commands with dashes). The erase wipes the filesystem too.

``runner(args)`` runs one esptool command with its output on the terminal and returns the
exit status; the tests inject a fake (esptool needs a real chip in its ROM bootloader).
"""

import subprocess
import sys
from pathlib import Path

from ..errors import HipdropError

OFFSET = 0x1000
BAUD = 460800
_IMAGE_MAGIC = 0xE9  # every ESP32 image (here: the bootloader's) starts with it
_PARTITION_TABLE_AT = 0x8000 - OFFSET  # the table's first entry starts with AA 50
_DOWNLOAD = "https://micropython.org/download/ESP32_GENERIC/"


def run_esptool(args: list[str]) -> int:
    return subprocess.run(args, check=False).returncode


def check_image(image: Path) -> int:
    """The image's size, or HipdropError when it is not a whole ESP32 MicroPython image."""
    if not image.is_file():
        raise HipdropError(f"no firmware image at {image}: download one from {_DOWNLOAD}")
    with image.open("rb") as f:
        head = f.read(1)
        f.seek(_PARTITION_TABLE_AT)
        table = f.read(2)
    if head != bytes([_IMAGE_MAGIC]) or table != b"\xaa\x50":
        raise HipdropError(
            f"{image} is not a whole ESP32 firmware image for offset 0x1000 (no bootloader "
            f"and partition table): take the .bin of ESP32_GENERIC from {_DOWNLOAD}"
        )
    return image.stat().st_size


def install_commands(port: str, image: Path) -> list[list[str]]:
    """esptool's erase, then the write at 0x1000, as argument lists."""
    base = [sys.executable, "-m", "esptool", "--chip", "esp32", "--port", port]
    return [
        base + ["erase-flash"],
        base + ["--baud", str(BAUD), "write-flash", hex(OFFSET), str(image)],
    ]


def install(commands: list[list[str]], runner=run_esptool) -> None:
    for args in commands:
        status = runner(args)
        if status != 0:
            raise HipdropError(
                f"esptool failed (exit status {status}) running: {' '.join(args[3:])}. If it "
                "could not connect to the chip: check the port and the cable (data, not "
                "charge-only); a DevKitC may need its BOOT button held while esptool connects"
            )
