"""The README's two commands and what CI runs cannot drift apart.

CI (``.ci/run``) must run the README's test command word for word, with only
the distribution's folders on the PATH, so that a green CI means the command a
reader pastes works with Debian's own Python (which refuses ``pip install``
outside a virtual environment, PEP 668), not only with a Python that happens to
come first on CI's PATH.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
CI_RUN = REPO / ".ci" / "run"

# The folders of Debian's own programs; no /usr/local, no pyenv, no venv.
DISTRIBUTION_PATH = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def fenced_blocks(markdown: str, language: str) -> list[str]:
    """The contents of the README's ```language fenced blocks."""
    pattern = rf"^```{re.escape(language)}[ \t]*\n(.*?)^```[ \t]*$"
    return re.findall(pattern, markdown, re.S | re.M)


def readme_command(markdown: str, session: str) -> str:
    """The one-line bash command of the README that ends by running ``nox -s <session>``."""
    found = [
        block.strip()
        for block in fenced_blocks(markdown, "bash")
        if re.search(rf"\bnox -s {session}$", block.strip())
    ]
    assert len(found) == 1, f"README.md has {len(found)} bash blocks running nox -s {session}"
    command = found[0]
    assert "\n" not in command, f"the README's {session} command is not one line: {command!r}"
    return command


def ci_problems(readme: str, ci_run: str) -> list[str]:
    """What keeps ``ci_run`` from running the README's test command as a reader would."""
    command = readme_command(readme, "tests")
    lines = [
        line.strip()
        for line in ci_run.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    running = [line for line in lines if "nox -s tests" in line]
    if len(running) != 1:
        return [f".ci/run has {len(running)} lines that run nox -s tests, not one"]
    line = running[0]
    problems = []
    if line != lines[-1]:
        problems.append(".ci/run does more after the test command (its exit code must be CI's)")
    words = shlex.split(line)
    if len(words) != 4 or words[1:3] != ["bash", "-c"] or not words[0].startswith("PATH="):
        return [*problems, f"expected PATH=<folders> bash -c '<the README line>', got: {line}"]
    path = words[0].removeprefix("PATH=").split(":")
    foreign = [folder for folder in path if folder not in DISTRIBUTION_PATH]
    if foreign or "/usr/bin" not in path:
        problems.append(f"PATH must hold only {':'.join(DISTRIBUTION_PATH)}, got {':'.join(path)}")
    if words[3] != command:
        problems.append(f"not the README's command:\n  README: {command}\n  CI:     {words[3]}")
    return problems


def test_ci_runs_the_readme_test_command_with_the_distribution_path():
    problems = ci_problems(README.read_text(encoding="utf-8"), CI_RUN.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("session", ["docs", "tests"])
def test_readme_commands_do_not_pip_install_into_the_system_python(session):
    command = readme_command(README.read_text(encoding="utf-8"), session)
    assert "--break-system-packages" not in command
    # PEP 668: Debian's python3 refuses this outside a virtual environment.
    assert not re.search(r"\bpip3? install\b", command), command
    assert command.startswith("apt-get update && apt-get install -y "), command
    assert "pipx" in command.split(" && ")[1].split(), "pipx is not installed by apt-get"
    assert command.endswith(f" && pipx run nox -s {session}"), command


# The check above has to be able to fail: each of these edits of the real files
# is a drift that it must report.
DRIFTS = {
    "README changed, CI not": ("readme", "chromium-driver pipx", "chromium-driver pipx git"),
    "CI changed, README not": ("ci", "pipx run nox -s tests'", "pipx run nox -s tests -x'"),
    "CI with /usr/local first": ("ci", "PATH=/usr/sbin:", "PATH=/usr/local/bin:/usr/sbin:"),
    "CI without the PATH": ("ci", "PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c ", "bash -c "),
    "CI's line commented out": ("ci", "\nPATH=", "\n# PATH="),
    "CI runs more after it": ("ci", "nox -s tests'\n", "nox -s tests'\necho done\n"),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_the_check_catches_a_drift(drift):
    where, old, new = DRIFTS[drift]
    readme = README.read_text(encoding="utf-8")
    ci_run = CI_RUN.read_text(encoding="utf-8")
    if where == "readme":
        assert old in readme
        readme = readme.replace(old, new)
    else:
        assert old in ci_run
        ci_run = ci_run.replace(old, new)
    assert ci_problems(readme, ci_run), f"a drift went unnoticed: {drift}"
