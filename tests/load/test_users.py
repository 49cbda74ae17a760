"""Users of ``sipfsm load``: patterns, CSV files, and the errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipfsm.cli import main
from sipfsm.errors import ConfigError
from sipfsm.load.users import UsersFileError, pattern_users, read_users_csv, shard


def test_patterns_make_numbered_users_with_their_passwords() -> None:
    users = pattern_users(3, domain="example.com", password_pattern="pw-{user}", first=7)
    assert [u.name for u in users] == ["u7", "u8", "u9"]
    assert [u.password for u in users] == ["pw-u7", "pw-u8", "pw-u9"]
    assert [str(u.aor) for u in users] == [f"sip:u{n}@example.com" for n in (7, 8, 9)]


def test_a_password_never_shows_in_a_repr() -> None:
    (user,) = pattern_users(1, domain="example.com", password_pattern="s3cret-{n}")
    assert "s3cret" not in repr(user)


def test_a_fixed_password_pattern_is_refused() -> None:
    with pytest.raises(ConfigError, match="--password-env"):
        pattern_users(2, domain="example.com", password_pattern="hunter2")


def test_the_shared_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOAD_TEST_PW", "from-env")
    users = pattern_users(2, domain="example.com", password_env="LOAD_TEST_PW")
    assert {u.password for u in users} == {"from-env"}
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        pattern_users(2, domain="example.com", password_env="NOT_SET_ANYWHERE")


def test_csv_rows_with_and_without_an_aor(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("# user,password,aor\nalice,secret\n\nbob,pw,sip:robert@example.org\n")
    users = read_users_csv(path, domain="example.com")
    assert [(u.name, u.password, str(u.aor)) for u in users] == [
        ("alice", "secret", "sip:alice@example.com"),
        ("bob", "pw", "sip:robert@example.org"),
    ]
    assert [u.name for u in read_users_csv(path, domain="example.com", limit=1)] == ["alice"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("alice,secret\nbob\n", 2, "1 field"),
        ("alice,secret\nbob,pw,sip:x@y,extra\n", 2, "4 field"),
        ("alice,\n", 1, "empty password"),
        (",pw\n", 1, "empty user"),
        ("alice,pw\nbob,pw,mailto:bob@example.com\n", 2, "not a sip: URI"),
        ("alice,pw\ncarol,pw,sip:carol@exa mple.com\n", 2, "not a SIP URI"),
        ("alice,pw\nalice,pw2\n", 2, "twice"),
        ('alice,"unterminated\n', 1, "not CSV"),
        ("# only a comment\n", 1, "no user rows"),
    ],
)
def test_a_bad_csv_names_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "users.csv"
    path.write_text(text)
    with pytest.raises(UsersFileError, match=words) as caught:
        read_users_csv(path, domain="example.com")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(b"alice,pw\nbob,\xff\xfe\n")
    with pytest.raises(UsersFileError) as caught:
        read_users_csv(path, domain="example.com")
    assert caught.value.line == 2


def test_the_command_exits_3_on_a_bad_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.csv"
    path.write_text("alice,pw\nbob\n")
    code = main(["load", "--registrar", "udp:127.0.0.1:9", "--users-csv", str(path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 3
    assert f"{path}:2:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--users", "3"],  # no password source
        ["--users", "3", "--password-pattern", "fixed"],
        ["--users", "0", "--password-pattern", "pw-{user}"],
        ["--users", "3", "--password-pattern", "pw-{user}", "--rate", "0"],
        ["--users", "3", "--password-pattern", "pw-{user}", "--processes", "0"],
        ["--users-csv", "/nonexistent/users.csv"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "--registrar", "udp:127.0.0.1:9", "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("sipfsm: ") and "Traceback" not in err


def test_shards_split_the_users_round_robin() -> None:
    users = pattern_users(5, domain="example.com", password_pattern="pw-{user}")
    parts = [shard(users, k, 2) for k in range(2)]
    assert [[u.name for u in part] for part in parts] == [["u0", "u2", "u4"], ["u1", "u3"]]
