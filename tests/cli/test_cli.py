"""The command line: help, light start-up and the simulator end to end (the demo: tests/link)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hipdrop.cli import main
from hipdrop.paths import engine_key

LIGHT = (
    "import sys, contextlib, io\n"
    "from hipdrop.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try: main(sys.argv[1:])\n"
    "    except SystemExit: pass\n"
    "heavy = [m for m in ('numba', 'PySide6', 'PyQt6', 'pyqtgraph', 'numpy') if m in sys.modules]\n"
    "print(','.join(heavy))\n"
)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["demo", "--help"],
        ["simulate", "--help"],
        ["sessions", "--help"],
        ["sessions", "delete", "--help"],
        ["export", "--help"],
    ],
)
def test_light_commands_import_neither_numba_nor_qt(argv):
    result = subprocess.run(
        [sys.executable, "-c", LIGHT, *argv], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "demo" in text and "simulate" in text


def test_numba_cache_goes_to_a_user_folder():
    code = "import hipdrop, os; print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": "/nonexistent-home", "XDG_CACHE_HOME": "/tmp/xdg-cache"},
    )
    assert out.stdout.strip().startswith("/tmp/xdg-cache/hipdrop/numba/")


def test_numba_cache_goes_to_a_keyed_temporary_folder_when_home_cannot_be_written(tmp_path):
    """Else Numba would fall back, silently, to an unkeyed cache beside the sources."""
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    code = "import hipdrop, os; print(os.environ['NUMBA_CACHE_DIR'])"
    env = {"HOME": "/nonexistent", "XDG_CACHE_HOME": str(not_a_folder), "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    expected = tmp_path / f"hipdrop-{os.getuid()}" / "numba" / engine_key()
    assert Path(out.stdout.strip()) == expected


def test_numba_cache_is_keyed_even_when_numba_was_imported_first():
    """Numba checks only a kernel's own file for changes: an in-tree cache would keep the engine
    loop compiled against kernels edited since (their old state layout included)."""
    code = (
        "import numba, os; import hipdrop.engine.stream; from numba.core import config; "
        "print(config.CACHE_DIR == os.environ['NUMBA_CACHE_DIR'])"
    )
    env = {"HOME": "/nonexistent-home", "XDG_CACHE_HOME": "/tmp/xdg-cache"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_bad_input_is_a_message_not_a_traceback(capsys):
    assert main(["demo", "--faults", "explode@3", "--db", "/nonexistent/never.db"]) == 2
    assert "unknown fault kind" in capsys.readouterr().err
    assert main(["simulate", "no_such_scenario"]) == 2


def test_simulate_writes_csv_and_truth(tmp_path, capsys):
    out = tmp_path / "run.csv"
    assert (
        main(["simulate", "band_walk_set", "--seed", "3", "--rate", "104", "--out", str(out)]) == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
    assert len(lines) - 1 == pytest.approx(73 * 104, rel=0.01)
    truth = json.loads((tmp_path / "run.truth.json").read_text())
    assert truth["sample_rate_hz"] == 104 and truth["steps"][0]["side"] in ("L", "R")


def test_analyze_prints_a_summary_and_writes_the_documented_json(tmp_path, capsys):
    csv = tmp_path / "run.csv"
    assert main(["simulate", "treadmill_quick", "--seed", "4", "--out", str(csv)]) == 0
    assert main(["analyze", str(csv)]) == 0
    text = capsys.readouterr().out
    assert "run: " in text and "left-stance drop" in text
    assert "events: neutral taken at 0:0" in text  # standing at the start
    out = tmp_path / "run.json"
    assert main(["analyze", str(csv), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["schema"] == "hipdrop.analysis/1" and doc["drop_metric"] == "pelvic_drop_deg"
    step = doc["steps"][10]
    for key in (
        "t_ic",
        "side",
        "side_confidence",
        "activity",
        "pelvic_drop_deg",
        "drop_from_contact_deg",
        "contact_time_s",
    ):
        assert key in step
    assert step["side"] in ("L", "R") and 0.5 <= step["side_confidence"] <= 1
    assert {"onset_s", "side", "evidence"} <= set(doc["fatigue"])
    assert doc["minutes"][1]["steps"] > 100
    assert doc["events"][0]["type"] == "calibration"


def test_an_unwritable_json_target_is_said_before_the_analysis(tmp_path, capsys):
    csv = tmp_path / "run.csv"
    csv.write_text("not even read\n")  # the target is checked first
    for target, said in (
        (tmp_path / "no" / "such" / "folder.json", "there is no folder"),
        (tmp_path, "is a folder; give a file name"),
    ):
        assert main(["analyze", str(csv), "--json", str(target)]) == 2
        assert said in capsys.readouterr().err


def test_simulate_says_where_it_cannot_write(tmp_path, capsys):
    assert main(["simulate", "treadmill_quick", "--out", str(tmp_path / "no" / "r.csv")]) == 2
    assert "there is no folder" in capsys.readouterr().err
    assert main(["simulate", "treadmill_quick", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux's /proc")
def test_a_failed_write_is_a_message_not_a_traceback(capsys):
    assert main(["simulate", "band_walk_set", "--out", "/proc/version"]) == 2
    assert capsys.readouterr().err.startswith("hipdrop: cannot write /proc/version: ")


@pytest.mark.parametrize(
    "argv, said",
    [
        (["demo", "--every", "0"], "--every: '0': give a number of seconds above 0"),
        (["demo", "--every", "soon"], "--every: 'soon': give a number of seconds above 0"),
        (["scan", "--sim", "treadmill_quick", "--seconds", "-3"], "seconds above 0"),
        (["record", "--sim", "treadmill_quick", "--minutes", "0"], "minutes above 0"),
    ],
)
def test_spans_of_time_must_be_above_zero(argv, said, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and said in capsys.readouterr().err


def test_a_negative_seed_is_a_message(tmp_path, capsys):
    assert main(["simulate", "band_walk_set", "--seed", "-1", "--out", str(tmp_path / "r.csv")])
    assert "seed -1: give 0 or more" in capsys.readouterr().err


def test_analyze_refuses_a_mirror_axis_map(tmp_path, capsys):
    csv = tmp_path / "run.csv"
    main(["simulate", "single_leg_balance", "--out", str(csv)])
    assert main(["analyze", str(csv), "--axes", "x=y,y=x,z=z"]) == 2
    assert "left and right" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--acc-unit", "g"], "leave out --acc-unit g"),
        (["--gyr-unit", "rad/s"], "leave out --gyr-unit rad/s"),
    ],
)
def test_analyze_names_a_unit_option_the_data_do_not_need(tmp_path, capsys, option, said):
    """The simulator writes m/s² and deg/s: read in g or rad/s they are said to be wrong, with
    the option to drop, before the engine starts."""
    csv = tmp_path / "walk.csv"
    main(["simulate", "band_walk_set", "--out", str(csv)])
    assert main(["analyze", str(csv), *option]) == 2
    assert said in capsys.readouterr().err


def test_a_sensor_worn_upside_down_is_detected_and_still_measured(tmp_path, capsys):
    from dataclasses import replace

    from hipdrop.sim import RUN, Bout, Session, simulate, write_csv
    from hipdrop.sim.sensor import REALISTIC

    session = Session((Bout("stand", 10), Bout("run", 60, replace(RUN, drop_deg=(5.0, 5.0)))))
    rec = simulate(session, replace(REALISTIC, mount_deg=(0.0, 12.0, 180.0)), seed=3)
    csv, _ = write_csv(rec, tmp_path / "flipped.csv")
    out = tmp_path / "flipped.json"
    assert main(["analyze", str(csv), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert any("upside down" in note for note in doc["notes"])
    drops = [s["pelvic_drop_deg"] for s in doc["steps"] if s["activity"] == "run"]
    assert abs(np.median(drops) - 5.0) < 1.0


def test_a_known_treadmill_speed_reaches_the_minutes(tmp_path):
    csv = tmp_path / "run.csv"
    main(["simulate", "treadmill_quick", "--seed", "8", "--out", str(csv)])
    out = tmp_path / "run.json"
    assert main(["analyze", str(csv), "--speed", "3.2", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert {m["speed_mps"] for m in doc["minutes"]} == {3.2}
