"""ssh2cffi against the real ssh2-python, scenario by scenario.

tests/parity_driver.py runs the same scenarios (every public method of the
session, its channel, SFTP session and handles) once with ssh2-python 1.2.0
and once with ssh2cffi, each in its own child interpreter, against the sshd
fixture: on a session that never connected, on a live blocking session, on a
non-blocking one (where ssh2-python returns EAGAIN, so must we), with wrong
argument types, after the children were closed, and after the session was
disconnected.  The outcomes (return shape, exception class, EAGAIN returned
or raised) must be the same, except for the differences listed in
``INTENDED``: each is an improvement that the README's "What differs from
ssh2-python" section describes, the README phrase it names must be there, and
that section lists exactly INTENDED's names.

ssh2-python comes from its PyPI wheel, in a virtualenv of its own made by
scripts/setup.sh (``.venv/ssh2-python-cpython3.X``): CPython only, since that
is where users run it.  In ssh2-python a crash (a signal) or a hang ends its
child; the driver is then restarted at the next scenario, and the crash is
an outcome like any other.
"""
from __future__ import annotations

import json
import os
import platform
import pwd
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Callable, NamedTuple, Tuple

import pytest

from helpers import TEST_VARIANT, sshd_login

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DRIVER = os.path.join(HERE, "parity_driver.py")
REFERENCE_PYTHON = os.path.join(REPO, ".venv", "ssh2-python-cpython%d.%d" % sys.version_info[:2],
                                "bin", "python")
HANG_SECONDS = 20
PHASES = ("nosession", "blocking", "nonblocking", "badargs", "closed", "disconnected")

pytestmark = pytest.mark.skipif(platform.python_implementation() != "CPython",
                                reason="ssh2-python is compared on CPython, where its users run it")

class Intended(NamedTuple):
    """A difference from ssh2-python that is on purpose: which scenarios it covers,
    and the phrase of the README's "What differs from ssh2-python" that states it."""
    phases: Tuple[str, ...]
    applies: Callable[[str, Any, Any], bool]    # (scenario, theirs, ours) -> covered?
    readme: str


def raised(outcome: Any, *classes: str) -> bool:
    return isinstance(outcome, dict) and outcome.get("raise") in classes


# Each difference found must be covered by one of these, and each of these must
# cover at least one difference (or it is stale).
INTENDED = {
    "ssh2-python crashes or hangs; ssh2cffi returns or raises": Intended(
        PHASES, lambda name, theirs, ours: theirs == "hang" or str(theirs).startswith("crash"),
        "Where ssh2-python crashes the interpreter or hangs"),
    "closed SFTP handles raise SFTPHandleError": Intended(
        ("closed",), lambda name, theirs, ours: name.startswith(("handle.", "dir_handle."))
        and raised(ours, "SFTPHandleError"),
        "any later call raises `SFTPHandleError`"),
    "after disconnect, every child raises SocketDisconnectError": Intended(
        ("disconnected",), lambda name, theirs, ours: raised(ours, "SocketDisconnectError"),
        "used after its session disconnected raises `SocketDisconnectError`"),
    "a float is no read size": Intended(
        ("badargs",), lambda name, theirs, ours: name == "handle.read(1.5)"
        and raised(ours, "TypeError"),
        "a float size raises `TypeError`"),
    "an unknown host key hash type": Intended(
        ("badargs",), lambda name, theirs, ours: name == "session.hostkey_hash(99)"
        and raised(ours, "ValueError"),
        "an unknown hash type raises `ValueError`"),
    # Debian's CVE-2025-15661 backport reads the request id of the reply as its
    # status: whether a given symlink() is hit depends on that id.
    "symlink on Debian's libssh2 builds": Intended(
        ("blocking", "closed"), lambda name, theirs, ours: name.startswith("sftp.symlink(")
        and raised(ours, "SFTPProtocolError"),
        "`SFTP.symlink()` that worked can raise `SFTPProtocolError`"),
}


def readme_what_differs() -> str:
    with open(os.path.join(REPO, "README.md")) as fobj:
        text = fobj.read()
    start = text.index("## What differs from ssh2-python")
    return text[start:text.index("\n## ", start + 1)]


def run_phase(python: str, package: str, phase: str, env: dict) -> dict:
    """{scenario: outcome} for one package and phase, restarting after a crash or hang."""
    outcomes: dict = {}
    names: list = []       # listed at the first crash or hang, once
    start = 0
    while True:
        proc = subprocess.Popen([python, DRIVER, package, phase, str(start)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=HANG_SECONDS)
            ended = "crash (signal %d)" % -proc.returncode if proc.returncode < 0 else None
            if proc.returncode > 0:
                raise AssertionError("%s %s: the driver failed:\n%s" % (package, phase, err))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            ended = "hang"
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        for line in lines:
            outcomes[line["name"]] = line["outcome"]
        start += len(lines)
        if ended is None:
            return outcomes
        # The scenario after the last one reported is the one that crashed or hung.
        names = names or scenario_names(python, package, phase, env)
        if start >= len(names):
            return outcomes
        outcomes[names[start]] = ended
        start += 1


def scenario_names(python: str, package: str, phase: str, env: dict) -> list:
    """The names of a phase's scenarios, in order."""
    listing = subprocess.run([python, DRIVER, package, phase, "-1"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    return listing.stdout.splitlines()


@pytest.fixture(scope="module")
def reference_python():
    if not os.path.exists(REFERENCE_PYTHON):
        if TEST_VARIANT is not None:   # scripts/test.sh set it up: it must be there
            raise AssertionError("%s is missing (scripts/setup.sh makes it)" % REFERENCE_PYTHON)
        pytest.skip("no ssh2-python virtualenv (scripts/setup.sh makes %s)" % REFERENCE_PYTHON)
    return REFERENCE_PYTHON


@pytest.fixture(scope="module")
def parity_env(sshd):
    directory = tempfile.mkdtemp(prefix="parity-", dir=sshd.dir)
    entry = pwd.getpwnam(sshd_login(sshd))
    os.chown(directory, entry.pw_uid, entry.pw_gid)
    env = dict(os.environ, PARITY_HOST=sshd.host, PARITY_PORT=str(sshd.port),
               PARITY_USER=sshd_login(sshd), PARITY_KEY=sshd.key_paths["id_ed25519"],
               PARITY_DIR=directory)
    for name in ("PYTHONPATH", "SSH2CFFI_AS_SSH2"):
        env.pop(name, None)
    yield env
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def outcomes(reference_python, parity_env):
    """{phase: {scenario: (ssh2-python's outcome, ssh2cffi's)}}."""
    result = {}
    for phase in PHASES:
        theirs = run_phase(reference_python, "ssh2", phase, parity_env)
        ours = run_phase(sys.executable, "ssh2cffi", phase, parity_env)
        result[phase] = {name: (theirs.get(name), ours.get(name))
                         for name in list(theirs) + [n for n in ours if n not in theirs]}
    return result


def describe(pairs: dict) -> str:
    return "\n".join("  %s: ssh2-python %s, ssh2cffi %s" % (name, json.dumps(theirs),
                                                          json.dumps(ours))
                     for name, (theirs, ours) in pairs.items())


def covering(phase: str, name: str, theirs: Any, ours: Any) -> list:
    return [rule for rule, intended in INTENDED.items()
            if phase in intended.phases and intended.applies(name, theirs, ours)]


@pytest.mark.parametrize("phase", PHASES)
def test_same_outcomes_as_ssh2_python(outcomes, phase):
    pairs = outcomes[phase]
    assert len(pairs) > 10, pairs
    # ssh2cffi itself never crashes or hangs, and runs every scenario.
    assert not [name for name, (_, ours) in pairs.items() if not isinstance(ours, dict)], \
        describe(pairs)
    differences = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
    unexpected = {name: pair for name, pair in differences.items()
                  if not covering(phase, name, *pair)}
    assert not unexpected, ("ssh2cffi differs from ssh2-python, and no rule of INTENDED "
                            "says why:\n" + describe(unexpected))


def test_every_intended_difference_is_still_one(outcomes):
    used = {rule for phase, pairs in outcomes.items() for name, pair in pairs.items()
            if pair[0] != pair[1] for rule in covering(phase, name, *pair)}
    assert sorted(set(INTENDED) - used) == []


def test_each_intended_difference_is_in_the_readme():
    text = readme_what_differs()
    section = " ".join(text.split())
    missing = {rule: intended.readme for rule, intended in INTENDED.items()
               if " ".join(intended.readme.split()) not in section}
    assert not missing, missing
    # ... and the README's list of the differences this test records is INTENDED's.
    listed = text[text.index("`tests/test_parity.py`"):]
    names = [line.strip()[2:] for line in listed.splitlines()[1:] if line.startswith("  - ")]
    assert sorted(names) == sorted(INTENDED)
