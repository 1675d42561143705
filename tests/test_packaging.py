"""Packaging: the sdist, a wheel built from it, and the self-contained wheel.

* ``test_sdist_then_wheel``: ``python -m build --sdist`` from the tracked files
  (what a clean clone holds), a check of the sdist's file list and metadata,
  a wheel built from the unpacked sdist, installed into a fresh virtualenv,
  where the sdist's own example tests run against the sshd fixture.  Once per
  interpreter: in the variants of scripts/test.sh that use the system's
  libssh2 (Debian 12's 1.10.0, Debian 13's 1.11.1).
* The self-contained wheels of scripts/build-wheel.sh (auditwheel repair,
  libssh2 1.11.1 from .deps bundled), built once, in the cpython-1.11 variant:
  the one ``cp39-abi3`` wheel and the ``pp311`` wheel (built with Debian 13's
  PyPy 3.11 in the root of scripts/debian13.sh).

  - ``test_abi3_wheel_bundles_libssh2``: the abi3 wheel installed into a fresh
    CPython 3.11 virtualenv and run with every system copy of libssh2
    (library, headers, pkg-config file) and the .deps build hidden in a
    private mount namespace.
  - ``test_wheels_on_debian13``: the same abi3 wheel file on Debian 13's
    CPython 3.13 and the pp311 wheel on its PyPy 3.11, each in a fresh
    virtualenv, loading the bundled libssh2 and passing tests/test_examples.py.

Builds run with ``--no-isolation`` using the tools pinned in
scripts/requirements-wheel.txt (installed by scripts/setup.sh), so they need
no network; installing the wheel into a fresh CPython venv fetches cffi.
"""
from __future__ import annotations

import email
import glob
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from helpers import sshd_login

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYPY = platform.python_implementation() == "PyPy"
# Both set by scripts/test.sh: the variant's name, and the libssh2 it builds against.
VARIANT = os.environ.get("SSH2CFFI_TEST_VARIANT")
EXPECTED_LIBSSH2 = os.environ.get("SSH2CFFI_EXPECT_LIBSSH2")
# The variants whose ssh2cffi is built against the system's libssh2.
SYSTEM_LIBSSH2_VARIANTS = ("cpython-1.10", "pypy-1.10", "cpython3.13-1.11", "pypy3.11-1.11")
# Debian 13's PyPy 3.11, in the root scripts/debian13.sh makes (scripts/setup.sh).
DEBIAN13_PYPY = os.path.join(REPO, ".venv", "pypy3.11-1.11", "bin", "python")
DEBIAN13_ROOT_READY = os.path.join(REPO, ".deps", "debian13", ".ssh2cffi-root-ready")
BUILD_TIMEOUT = 600

pytestmark = pytest.mark.packaging


def run(cmd, timeout=BUILD_TIMEOUT, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (cmd, result.stdout, result.stderr)
    return result


def tracked_tree(dest):
    """Copy the files git tracks (a clean clone's content) into ``dest``."""
    files = run(["git", "-C", REPO, "ls-files", "-z"]).stdout.split("\0")
    files = [name for name in files if name and os.path.isfile(os.path.join(REPO, name))]
    for name in files:
        os.makedirs(os.path.join(dest, os.path.dirname(name)), exist_ok=True)
        shutil.copy2(os.path.join(REPO, name), os.path.join(dest, name))
    return files


def build_env(**extra):
    env = dict(os.environ)
    for name in ("PKG_CONFIG_PATH", "PYTHONPATH", "SSH2CFFI_AS_SSH2"):
        env.pop(name, None)
    env.update(extra)
    return env


def fresh_venv(path):
    """A new virtualenv of this interpreter; returns its python."""
    run([sys.executable, "-m", "venv", str(path)], timeout=300)
    return os.path.join(str(path), "bin", "python")


# Tracked files that have no business in an sdist.
NOT_SHIPPED = (".ci/", ".gitignore")


def wheel_tag() -> str:
    """The tag a wheel built here gets: one abi3 wheel for CPython, one per PyPy."""
    if PYPY:
        return "pp%d%d-pypy%d%d_pp73" % (sys.version_info[:2] * 2)
    return "cp39-abi3"


@pytest.mark.skipif(VARIANT not in (None,) + SYSTEM_LIBSSH2_VARIANTS,
                    reason="once per interpreter: runs in the variants on the system's libssh2")
def test_sdist_then_wheel(sshd, tmp_path):
    if shutil.which("git") is None or run(["git", "-C", REPO, "rev-parse", "--is-inside-work-tree"],
                                          timeout=60).stdout.strip() != "true":
        pytest.skip("not a git checkout")
    tree = tmp_path / "tree"
    tracked = tracked_tree(str(tree))

    # -- the sdist --------------------------------------------------------------------
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
         str(tmp_path / "dist"), str(tree)], env=build_env())
    (sdist,) = glob.glob(str(tmp_path / "dist" / "ssh2cffi-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
        pkg_info = tar.extractfile("ssh2cffi-0.1.0/PKG-INFO").read().decode()
        # The "data" filter where tarfile has it (3.12, and 3.9.17+/3.11.4+): 3.14
        # makes it the default, and 3.13 warns without it.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(str(tmp_path / "unpacked"), **safe)
    names = {name.split("/", 1)[1] for name in members if "/" in name}
    # Everything tracked is shipped (build script, cdef headers, helpers.c, sources,
    # docs, tests, examples, scripts, benchmarks), except the CI hook.
    missing = sorted(name for name in tracked
                     if name not in names and not name.startswith(NOT_SHIPPED))
    assert missing == []
    for needed in ("build_ffi.py", "setup.py", "pyproject.toml", "ffi/helpers.c",
                   "ffi/session.h", "src/ssh2cffi/py.typed", "src/ssh2cffi/_libssh2.pyi",
                   "docs/conf.py", "docs/index.rst", "tests/conftest.py",
                   "scripts/requirements-wheel.txt", "LICENSE", "README.md"):
        assert needed in names
    # ... and nothing built or local: no extension, no virtualenv, no libssh2 build.
    strays = [name for name in names
              if name.endswith((".so", ".o", ".pyc")) or name.startswith((".venv", ".deps", "build/",
                                                                          "dist/", "docs/_build"))]
    assert strays == []

    meta = email.message_from_string(pkg_info)
    assert meta["Name"] == "ssh2cffi"
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.9"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "ssh2cffi" in meta.get_payload()          # the README is the long description
    classifiers = meta.get_all("Classifier")
    # Every Python version the test matrix runs (scripts/test.sh): PyPy 3.9 and 3.11,
    # CPython 3.11 and 3.13.
    for wanted in ("Programming Language :: Python :: 3.9",
                   "Programming Language :: Python :: 3.11",
                   "Programming Language :: Python :: 3.13",
                   "Programming Language :: Python :: Implementation :: CPython",
                   "Programming Language :: Python :: Implementation :: PyPy",
                   "Operating System :: POSIX :: Linux", "Typing :: Typed"):
        assert wanted in classifiers
    assert meta.get_all("Project-URL")
    assert meta.get_all("Requires-Dist") == [
        "cffi>=1.15; platform_python_implementation != \"PyPy\""]

    # -- a wheel from the unpacked sdist (Debian's libssh2, found by pkg-config) -----------
    source = str(tmp_path / "unpacked" / "ssh2cffi-0.1.0")
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
         str(tmp_path / "wheels"), source], env=build_env())
    (wheel,) = glob.glob(str(tmp_path / "wheels" / "ssh2cffi-0.1.0-*.whl"))
    assert os.path.basename(wheel).startswith("ssh2cffi-0.1.0-%s-" % wheel_tag())
    with zipfile.ZipFile(wheel) as whl:
        wheel_names = whl.namelist()
    for needed in ("ssh2cffi/py.typed", "ssh2cffi/session.py", "ssh2cffi-as-ssh2.pth",
                   "ssh2cffi-0.1.0.dist-info/licenses/LICENSE"):
        assert needed in wheel_names
    (extension,) = [n for n in wheel_names if n.startswith("ssh2cffi/_libssh2") and n.endswith(".so")]
    if not PYPY:
        assert extension == "ssh2cffi/_libssh2.abi3.so"    # the stable ABI the tag claims

    # -- installed into a fresh venv, the sdist's example tests pass ------------------
    python = fresh_venv(tmp_path / "venv")
    run([python, "-m", "pip", "install", "-q", wheel, "pytest==8.3.5"], timeout=600)
    where = run([python, "-c", "import ssh2cffi.session, ssh2cffi.utils as u; "
                 "print(ssh2cffi.session.__file__); print(u.version().decode())"],
                cwd=str(tmp_path)).stdout.split()
    assert where[0].startswith(str(tmp_path / "venv"))
    expected = EXPECTED_LIBSSH2 or "1.10"
    assert where[1].startswith(expected + ".")
    result = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/test_examples.py", "tests/test_build.py"],
                            cwd=source, env=build_env(SSH2CFFI_EXPECT_LIBSSH2=expected),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1]


def hidden_libssh2_files():
    """Every system file of libssh2 (runtime library, static library, headers,
    pkg-config file) and the real files behind the symlinks."""
    patterns = ("/usr/lib/*/libssh2*", "/usr/lib/libssh2*", "/lib/*/libssh2*",
                "/usr/lib64/libssh2*", "/usr/include/libssh2*",
                "/usr/lib/*/pkgconfig/libssh2.pc", "/usr/share/pkgconfig/libssh2.pc")
    files = set()
    for pattern in patterns:
        for path in glob.glob(pattern):
            real = os.path.realpath(path)
            if os.path.isfile(real):
                files.add(real)
    return sorted(files)


ONCE_FOR_WHEELS = pytest.mark.skipif(
    PYPY or VARIANT not in (None, "cpython-1.11"),
    reason="once: runs in the cpython-1.11 variant (auditwheel runs on CPython; "
           "scripts/build-wheel.sh repairs the PyPy wheels too)")


@pytest.fixture(scope="module")
def repaired_wheels(tmp_path_factory):
    """scripts/build-wheel.sh's wheels: {"abi3": path, "pp311": path or None}."""
    prefix = os.path.join(REPO, ".deps", "libssh2-1.11.1")
    if not os.path.exists(os.path.join(prefix, "lib", "pkgconfig", "libssh2.pc")):
        pytest.skip("libssh2 1.11.1 is not built in .deps (scripts/build-libssh2.sh)")
    interpreters = [sys.executable]
    debian13 = os.path.exists(DEBIAN13_ROOT_READY) and os.path.exists(DEBIAN13_PYPY)
    if debian13:
        interpreters.append("debian13:" + DEBIAN13_PYPY)
    out = tmp_path_factory.mktemp("dist")
    result = run(["bash", os.path.join(REPO, "scripts", "build-wheel.sh")] + interpreters,
                 env=build_env(OUT=str(out)))
    assert glob.glob(str(out / "ssh2cffi-0.1.0.tar.gz"))
    # auditwheel's verdict on each repaired wheel, as the script printed it.
    verdicts = " ".join(result.stdout.split()).count(
        'is consistent with the following platform tag: "manylinux_')
    assert verdicts == len(interpreters), result.stdout
    (abi3,) = glob.glob(str(out / "ssh2cffi-0.1.0-cp39-abi3-manylinux_*_x86_64.whl"))
    wheels = {"abi3": abi3, "pp311": None}
    if debian13:
        (wheels["pp311"],) = glob.glob(
            str(out / "ssh2cffi-0.1.0-pp311-pypy311_pp73-manylinux_*_x86_64.whl"))
    for wheel in filter(None, wheels.values()):
        with zipfile.ZipFile(wheel) as whl:
            names = whl.namelist()
        bundled = [n for n in names if n.startswith("ssh2cffi.libs/")]
        assert any(os.path.basename(n).startswith("libssh2-") for n in bundled), bundled
        assert any(os.path.basename(n).startswith("libcrypto-") for n in bundled), bundled
    with zipfile.ZipFile(abi3) as whl:
        assert "ssh2cffi/_libssh2.abi3.so" in whl.namelist()
    # One libssh2 and one glibc floor for all of them: the same manylinux tag.
    if wheels["pp311"]:
        assert abi3.rsplit("-", 1)[1] == wheels["pp311"].rsplit("-", 1)[1]
    return wheels


@ONCE_FOR_WHEELS
def test_abi3_wheel_bundles_libssh2(sshd, tmp_path, repaired_wheels):
    wheel = repaired_wheels["abi3"]
    prefix = os.path.join(REPO, ".deps", "libssh2-1.11.1")
    python = fresh_venv(tmp_path / "venv")
    run([python, "-m", "pip", "install", "-q", wheel], timeout=600)
    (extension,) = glob.glob(str(tmp_path / "venv" / "lib" / "python*" / "site-packages"
                                 / "ssh2cffi" / "_libssh2*.so"))
    libs_dir = os.path.join(os.path.dirname(os.path.dirname(extension)), "ssh2cffi.libs")
    ldd = run(["ldd", extension]).stdout
    (ssh2_line,) = [line for line in ldd.splitlines() if "libssh2" in line]
    assert os.path.realpath(ssh2_line.split("=>")[1].split("(")[0].strip()).startswith(libs_dir)

    # Run it with libssh2 gone from the system: in a private mount namespace,
    # /dev/null is mounted over each system libssh2 file and an empty
    # directory over the .deps build the wheel was made from.
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "--propagation", "private", "true"],
            capture_output=True).returncode != 0:
        pytest.skip("cannot make a private mount namespace (unshare -m) here")
    empty = tmp_path / "empty"
    empty.mkdir()
    hidden = hidden_libssh2_files()
    mounts = ["mount --bind /dev/null '%s'" % path for path in hidden]
    mounts.append("mount --bind '%s' '%s'" % (empty, os.path.realpath(os.path.join(prefix, "lib"))))
    example = os.path.join(REPO, "examples", "exec_command.py")
    check = (
        "import ctypes, ssh2cffi.utils as u\n"
        "try:\n"
        "    ctypes.CDLL('libssh2.so.1')\n"
        "except OSError as exc:\n"
        "    print('system libssh2 unusable:', exc)\n"
        "else:\n"
        "    raise SystemExit('the system libssh2 is still loadable')\n"
        "print('ssh2cffi on libssh2', u.version().decode())\n")
    script = " && ".join(mounts + [
        "test ! -s /usr/include/libssh2.h",
        "'%s' -c \"$CHECK\"" % python,
        "LD_DEBUG=libs '%s' '%s' 'echo hello from a bundled libssh2' 2>'%s'"
        % (python, example, tmp_path / "ld_debug.txt"),
    ])
    env = build_env(CHECK=check, SSH_HOST=sshd.host, SSH_PORT=str(sshd.port),
                    SSH_USER=sshd_login(sshd), SSH_KEY=sshd.key_paths["id_ed25519"])
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                            env=env, capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("system libssh2 unusable:")
    assert lines[1:] == ["ssh2cffi on libssh2 1.11.1", "hello from a bundled libssh2",
                         "exit status: 0"]
    # The dynamic loader's own account: the libssh2 it initialised is the bundled one.
    loaded = [line.split("calling init:")[1].strip()
              for line in (tmp_path / "ld_debug.txt").read_text().splitlines()
              if "calling init:" in line]
    libssh2 = [path for path in loaded if os.path.basename(path).startswith("libssh2")]
    assert len(libssh2) == 1, loaded
    assert os.path.dirname(os.path.realpath(libssh2[0])) == os.path.realpath(libs_dir)


# Run in the Debian 13 root, once per (interpreter, wheel): a fresh virtualenv,
# the wheel, and what it loaded; then the example tests with that interpreter.
DEBIAN13_CHECK = r"""
set -eu
python="$1" wheel="$2" venv="$3"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" pytest==8.3.5
"$venv/bin/python" - <<'PY'
import platform, sys, ssh2cffi._libssh2 as ext, ssh2cffi.utils as u
with open("/proc/self/maps") as maps:
    libssh2 = sorted({line.split()[-1] for line in maps if "/libssh2" in line})
print(platform.python_implementation(), "%d.%d" % sys.version_info[:2],
      ext.__file__.rsplit("/", 1)[1], u.version().decode(), *libssh2)
PY
cd "$4"
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_examples.py
"""


@ONCE_FOR_WHEELS
@pytest.mark.parametrize("interpreter, kind", [("python3", "abi3"), ("pypy3", "pp311")])
def test_wheels_on_debian13(tmp_path, repaired_wheels, interpreter, kind):
    if repaired_wheels["pp311"] is None:
        pytest.skip("no Debian 13 root with PyPy 3.11 (scripts/setup.sh pypy3.11-1.11)")
    venv = tmp_path / "venv"        # /tmp is shared with the root
    result = subprocess.run(
        [os.path.join(REPO, "scripts", "debian13.sh"), "sh", "-c", DEBIAN13_CHECK, "check",
         interpreter, repaired_wheels[kind], str(venv), REPO],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    impl, version, extension, libssh2_version, *mapped = result.stdout.splitlines()[0].split()
    assert (impl, version) == {"abi3": ("CPython", "3.13"), "pp311": ("PyPy", "3.11")}[kind]
    assert extension == ("_libssh2.abi3.so" if kind == "abi3" else "_libssh2.pypy311-pp73-x86_64-linux-gnu.so")
    assert libssh2_version == "1.11.1"
    # The bundled libssh2, not Debian 13's own (which is installed in the root).
    assert len(mapped) == 1 and mapped[0].startswith(str(venv)) and "/ssh2cffi.libs/" in mapped[0], mapped
    assert " passed" in result.stdout.splitlines()[-1] and " failed" not in result.stdout
