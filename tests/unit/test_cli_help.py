"""``support-agent --help``: every argument of every subcommand says what it is, every subcommand shows an example."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from cli.main import build_parser


def commands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every leaf subcommand (``keys list``, ``process`` …) with its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from commands(child, f"{path} {name}".strip())


LEAVES = dict(commands(build_parser()))


def test_the_known_commands_are_all_there() -> None:
    assert {"process", "batch", "reviews", "review", "show", "report", "keys list", "keys revoke", "index", "kb search"} <= set(LEAVES)


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_argument_has_help_and_every_command_an_example(path: str) -> None:
    parser = LEAVES[path]
    missing = [a.dest for a in parser._actions if not a.help or a.help == argparse.SUPPRESS]
    assert missing == [], f"{path}: arguments without help: {missing}"
    assert parser.epilog and f"support-agent {path}" in parser.epilog, f"{path}: no example in its help"
    assert parser.description, path
    assert f"support-agent {path}" in parser.format_help()


def test_argument_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["review", "S-1", "--accept", "--reject"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("support-agent review: ") and "not allowed with" in err
