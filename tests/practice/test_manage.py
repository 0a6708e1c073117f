import os
from unittest import mock

import pytest

import manage


def test_dot_env_fills_only_what_the_environment_does_not_set(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\n\nDEBUG=1\nTIME_ZONE = Europe/Paris\n")
    with mock.patch.dict(os.environ, {"TIME_ZONE": "UTC"}, clear=True):
        manage.read_dot_env(env_file)
        assert os.environ["DEBUG"] == "1"
        assert os.environ["TIME_ZONE"] == "UTC"


def test_missing_dot_env_changes_nothing(tmp_path):
    with mock.patch.dict(os.environ, {}, clear=True):
        manage.read_dot_env(tmp_path / ".env")
        assert dict(os.environ) == {}


def test_malformed_dot_env_line_stops_with_its_line_number(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nnot a setting\n")
    with mock.patch.dict(os.environ, {}, clear=True), pytest.raises(SystemExit) as excinfo:
        manage.read_dot_env(env_file)
    assert ".env:2: expected NAME=value" in str(excinfo.value)


def test_only_manage_py_reads_dot_env():
    # gunicorn imports practice.wsgi; a stray .env on a server must not switch DEBUG on there.
    from pathlib import Path

    root = Path(manage.__file__).parent
    readers = {
        path.relative_to(root).as_posix()
        for path in root.glob("*/**/*.py")
        if path.parts[len(root.parts)] in {"practice", "clients", "sessions"} and "read_dot_env" in path.read_text()
    }
    assert readers == set()
    assert "read_dot_env()" in (root / "manage.py").read_text()
