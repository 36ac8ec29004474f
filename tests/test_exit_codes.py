"""One error tree, one table of exit codes (``sensor.errors``): each code produced by a real
failure through ``main(argv)``, the table as the README documents it, and subcommands that
cannot be imported failing loudly instead of vanishing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from sensor import errors
from sensor.cli import build_parser, main
from sensor.devices.polar import PolarProtocolError, parse_settings
from sensor.errors import ExitCode, exit_code
from sensor.store import DB_FILE

README = Path(__file__).resolve().parent.parent / "README.md"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().err.strip().splitlines()


def _sim(capsys: pytest.CaptureFixture[str], out: Path) -> None:
    assert main(["simulate", "--seed", "31", "--short", "--rate", "25", "--exercises", "bridge", "--out", str(out)]) == ExitCode.OK
    capsys.readouterr()


def test_bad_input_file_exits_2_naming_file_and_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,9.8,0,0,0\n0.01,0,zero,9.8,0,0,0\n")
    code, err = _run(capsys, "analyze", str(bad))
    assert code == ExitCode.INPUT == 2
    assert len(err) == 1 and err[0].startswith("holdtrack: error: ") and str(bad) in err[0] and "row 3" in err[0], err


def test_bad_command_line_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "dashboard", "--host", "0.0.0.0", "--no-demo", "--data-dir", str(tmp_path))
    assert code == ExitCode.INPUT and len(err) == 1 and "--allow-remote" in err[0]
    assert not (tmp_path / DB_FILE).exists()  # refused before anything was created


@pytest.mark.parametrize("command", [["history"], ["import", "{rec}"], ["evaluate", "--labels"]])
def test_damaged_store_exits_4(command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "s.htrec"
    _sim(capsys, rec)
    data = tmp_path / "data"
    data.mkdir()
    junk = b"this is not sqlite at all" * 100
    (data / DB_FILE).write_bytes(junk)
    code, err = _run(capsys, *[c.format(rec=rec) for c in command], "--data-dir", str(data))
    assert code == ExitCode.STORE == 4
    assert len(err) == 1 and err[0].startswith("holdtrack: error: ") and DB_FILE in err[0], err
    assert (data / DB_FILE).read_bytes() == junk  # nothing lost


def test_no_bluetooth_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'nobus'}")
    code, err = _run(capsys, "scan", "--timeout", "1")
    assert code == ExitCode.DEVICE == 3
    assert len(err) == 1 and "D-Bus" in err[0], err


def test_refused_overwrite_exits_1_and_ok_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "s.htrec"
    _sim(capsys, rec)
    before = rec.read_bytes()
    code, err = _run(capsys, "simulate", "--seed", "32", "--short", "--out", str(rec))
    assert code == ExitCode.OTHER == 1 and len(err) == 1 and "--force" in err[0] and str(rec) in err[0]
    assert rec.read_bytes() == before
    code, err = _run(capsys, "analyze", str(rec), "--json")
    assert code == ExitCode.OK == 0 and err == []


def test_interrupt_and_closed_pipe(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C gives 130 and a reader that went away (``| head``) is not a failure."""
    import sensor.analyze

    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sensor.analyze, "analyze_path", interrupted)
    assert main(["analyze", "x.csv"]) == ExitCode.INTERRUPTED == 130

    def closed(*a: object, **k: object) -> None:
        raise BrokenPipeError

    monkeypatch.setattr(sensor.analyze, "analyze_path", closed)
    assert main(["analyze", "x.csv"]) == ExitCode.OK


def test_table_maps_every_error_class() -> None:
    assert exit_code(errors.InputError("f.csv", "bad", row=3)) == ExitCode.INPUT
    assert exit_code(errors.RecordingError("f.htrec", "bad magic")) == ExitCode.INPUT
    assert exit_code(errors.UsageError("no")) == ExitCode.INPUT
    assert exit_code(errors.DeviceNotFoundError("AA:BB")) == ExitCode.DEVICE
    assert exit_code(errors.ProtocolError("bad frame")) == ExitCode.DEVICE
    assert exit_code(errors.StoreError("locked")) == ExitCode.STORE
    assert exit_code(errors.HoldTrackError("other")) == ExitCode.OTHER
    assert exit_code(RuntimeError("a bug")) == ExitCode.OTHER


def test_polar_protocol_error_is_in_the_tree_and_still_a_value_error() -> None:
    with pytest.raises(PolarProtocolError) as e:
        parse_settings(b"\x00\x05")  # a setting block that claims more values than it has
    assert isinstance(e.value, errors.ProtocolError) and isinstance(e.value, ValueError)
    assert exit_code(e.value) == ExitCode.DEVICE


def test_errors_carry_structured_fields() -> None:
    e = errors.InputError("a/b.csv", "time goes backwards", row=40)
    assert (e.identifier, e.row, e.reason) == ("a/b.csv", 40, "time goes backwards")
    assert (e.path, e.message) == ("a/b.csv", "time goes backwards")  # the older names
    assert str(e) == "a/b.csv, row 40: time goes backwards"
    s = errors.StoreError("cannot be written", identifier="/d/sessions.db")
    assert str(s) == "/d/sessions.db: cannot be written" and s.row is None
    assert str(errors.HoldTrackError("plain")) == "plain"
    d = errors.DeviceNotFoundError("Polar H10")
    assert d.identifier == "Polar H10" and "'Polar H10' not found" in str(d)


def test_readme_documents_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| `?(\d+)`? \|", section, flags=re.M)}
    assert documented == {int(c) for c in ExitCode}


def test_subcommands_are_registered_and_a_broken_one_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = "simulate analyze evaluate scan record export fake-sensors import dashboard history convert"
    assert set(sub.choices) >= set(commands.split())  # type: ignore[arg-type]
    import sensor.cli

    monkeypatch.setitem(sys.modules, "sensor.cli.record", None)  # importing it now raises ImportError
    monkeypatch.delattr(sensor.cli, "record")
    with pytest.raises(ImportError):
        build_parser()


def _fail_in_worker(kind: str) -> None:
    if kind == "input":
        raise errors.InputError("a.csv", "not IMU data", row=7)
    raise errors.DeviceNotFoundError("AA:BB:CC:DD:EE:FF")


@pytest.mark.parametrize("kind", ["input", "device"])
def test_errors_cross_a_process_pool_whole(kind: str) -> None:
    """An error raised in a worker (``evaluate --jobs``, parallel imports) reaches the
    parent as itself, with its line and fields: it used to fail to unpickle
    (``InputError(path, message)``), which broke the pool into an "internal error"."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as ex, pytest.raises(errors.HoldTrackError) as got:
        ex.submit(_fail_in_worker, kind).result(timeout=60)
    if kind == "input":
        assert isinstance(got.value, errors.InputError)
        assert str(got.value) == "a.csv, row 7: not IMU data" and got.value.row == 7 and got.value.path == "a.csv"
        assert exit_code(got.value) == ExitCode.INPUT
    else:
        assert isinstance(got.value, errors.DeviceNotFoundError)
        assert "AA:BB:CC:DD:EE:FF" in str(got.value) and got.value.identifier == "AA:BB:CC:DD:EE:FF"
        assert exit_code(got.value) == ExitCode.DEVICE
