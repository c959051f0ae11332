"""hardware/README.md documents the board profiles: its table must match the files."""

import pytest
from fw_support import REPO

from hipdrop_fw import boards

README = REPO / "hardware" / "README.md"
_AXIS = "xyz"


def _pin(pin):
    return "—" if pin is None else f"G{pin}"


def _row(module):
    """The table row the profile ``module`` should have in hardware/README.md."""
    prof = boards.load(module)
    axes = ", ".join(("+" if sign > 0 else "−") + _AXIS[src] for src, sign in prof.AXES)
    return [
        f"`{module}.py`",
        f"`{prof.NAME}`",
        f"`{prof.IMU_PART}`",
        f"{prof.I2C_ID}, G{prof.I2C_SDA}, G{prof.I2C_SCL}, {prof.I2C_FREQ // 1000} kHz",
        f"0x{prof.IMU_ADDR:02x}",
        "—" if prof.RTC_ADDR is None else f"0x{prof.RTC_ADDR:02x}",
        axes,
        ", ".join(_pin(b) for b in prof.BUTTON_PINS),
        _pin(prof.LED_PIN),
        _pin(prof.BUZZER_PIN),
        _pin(prof.MOTOR_PIN),
        _pin(prof.POWER_HOLD_PIN),
        f"G{prof.BATTERY_ADC_PIN} (×{prof.BATTERY_DIVIDER:g})",
    ]


def _table_rows():
    rows = {}
    for line in README.read_text().splitlines():
        if line.startswith("| `") and ".py`" in line.split("|")[1]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0].strip("`").removesuffix(".py")] = cells
    return rows


def test_every_profile_is_documented_and_nothing_else():
    assert set(_table_rows()) == set(boards.BOARDS)


@pytest.mark.parametrize("module", boards.BOARDS)
def test_readme_row_matches_the_profile(module):
    assert _table_rows()[module] == _row(module)


def test_profiles_define_the_same_names():
    names = [{n for n in vars(boards.load(m)) if n.isupper()} for m in boards.BOARDS]
    assert names[0] == names[1]
    assert {"NAME", "IMU_PART", "AXES", "I2C_FREQ", "BATTERY_DIVIDER", "MOTOR_PIN"} <= names[0]
