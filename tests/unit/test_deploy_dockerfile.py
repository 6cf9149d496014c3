"""The Dockerfile, read with BuildKit's own parser: stages, non-root user, HEALTHCHECK, commands that exist."""

from __future__ import annotations

import re

import dockerfile
import typer

from cli.main import cli
from testbed.manifests import ROOT, compose_commands

INSTRUCTIONS = dockerfile.parse_file(str(ROOT / "Dockerfile"))


def _stages() -> list[list[dockerfile.Command]]:
    stages: list[list[dockerfile.Command]] = []
    for instruction in INSTRUCTIONS:
        if instruction.cmd == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def _final(cmd: str) -> dockerfile.Command:
    found = [i for i in _stages()[-1] if i.cmd == cmd]
    assert found, f"the runtime stage has no {cmd}"
    return found[-1]


def test_multi_stage_node_then_slim_python() -> None:
    bases = [stage[0].value for stage in _stages()]
    assert bases[0][0].startswith("node:") and bases[0][-1] == "frontend"
    assert bases[-1][0].startswith("python:3.11-slim")
    runtime_copies = [i for i in _stages()[-1] if i.cmd == "COPY"]
    assert any(i.flags == ("--from=frontend",) and "dist" in i.value[0] for i in runtime_copies)
    assert not any(i.cmd == "RUN" and re.search(r"\bnpm\b|pip install", i.value[0]) for i in _stages()[-1])


def test_runs_as_a_non_root_user() -> None:
    user = _final("USER").value[0].split(":")[0]
    assert user not in ("root", "0")


def test_healthcheck_and_default_command_are_headroom_subcommands() -> None:
    commands = typer.main.get_command(cli).commands  # type: ignore[attr-defined]
    check = _final("HEALTHCHECK")
    assert check.value[0] == "CMD" and check.value[1] == "headroom" and check.value[2] in commands
    assert any(flag.startswith("--interval=") for flag in check.flags)
    default = _final("CMD")
    assert default.json and default.value[0] == "headroom" and default.value[1] in commands
    for argv in compose_commands().values():  # one image: every process is a command of it
        assert argv[1] in commands


def test_the_same_pinned_install_as_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    make_extras = set(re.search(r'pip install --quiet -e "\.\[([a-z,]+)\]"', makefile).group(1).split(","))  # type: ignore[union-attr]
    runs = " ".join(i.value[0] for i in INSTRUCTIONS if i.cmd == "RUN")
    image_extras = set(re.search(r'pip install "\.\[([a-z,]+)\]"', runs).group(1).split(","))  # type: ignore[union-attr]
    assert image_extras == make_extras - {"dev"}
    copied = {i.value[0] for i in INSTRUCTIONS if i.cmd == "COPY"}
    assert "pyproject.toml" in copied  # the pins come from pyproject.toml, as for `make install`


def test_dockerignore_keeps_the_context_small_and_secret_free() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "var", "frontend/node_modules"):
        assert entry in ignored
