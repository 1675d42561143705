"""ssh2cffi.compat: ssh2-python's import names resolve to ssh2cffi's modules."""
import importlib
import sys

import pytest

from helpers import run_python
from ssh2cffi import compat


@pytest.fixture
def registered():
    saved = {name: module for name, module in sys.modules.items()
             if name == "ssh2" or name.startswith("ssh2.")}
    compat.register()
    yield
    for name in [n for n in sys.modules if n == "ssh2" or n.startswith("ssh2.")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_every_available_module_is_the_same_object(registered):
    names = compat.available_modules()
    assert {"session", "channel", "sftp", "sftp_handle", "exceptions", "error_codes", "utils",
            "fileinfo", "statinfo"} <= set(names)
    for name in names:
        alias = importlib.import_module("ssh2." + name)
        assert alias is importlib.import_module("ssh2cffi." + name)
        for attr in dir(alias):
            assert getattr(alias, attr) is getattr(sys.modules["ssh2cffi." + name], attr)


def test_ssh2_python_style_imports_and_except_clauses(registered, sshd):
    from ssh2.exceptions import AuthenticationError
    from ssh2.session import Session
    from ssh2.utils import version
    import ssh2

    assert ssh2.__version__ == compat.SSH2_PYTHON_VERSION
    assert version().count(b".") == 2
    sock = sshd.connect_socket()
    session = Session()
    session.handshake(sock)
    with pytest.raises(AuthenticationError):
        session.userauth_password(sshd.user, "definitely wrong")
    import ssh2cffi.exceptions
    assert AuthenticationError is ssh2cffi.exceptions.AuthenticationError
    sock.close()


def test_environment_variable_activates_the_pth_hook():
    result = run_python("""
        import ssh2.session, ssh2cffi.session
        print(ssh2.session.Session is ssh2cffi.session.Session)
    """, env={"SSH2CFFI_AS_SSH2": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_hook_does_nothing_without_the_variable():
    result = run_python("""
        import sys
        try:
            import ssh2
        except ImportError:
            print("absent", "ssh2cffi" in sys.modules)
    """, env={"SSH2CFFI_AS_SSH2": ""})
    assert result.stdout.strip() == "absent False", result.stderr


def test_hook_leaves_a_real_ssh2_python_alone(tmp_path):
    fake = tmp_path / "ssh2"
    fake.mkdir()
    (fake / "__init__.py").write_text("REAL = True\n")
    result = run_python("""
        import ssh2
        print(getattr(ssh2, "REAL", False))
    """, env={"SSH2CFFI_AS_SSH2": "1", "PYTHONPATH": str(tmp_path)})
    assert result.stdout.strip() == "True", result.stderr
