"""ssh2cffi.compat: ssh2-python's import names resolve to ssh2cffi's modules."""
import importlib
import importlib.util
import os
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


def test_register_twice_keeps_the_same_ssh2_package(registered):
    import ssh2

    assert compat.register() is ssh2
    assert sys.modules["ssh2"] is ssh2
    assert importlib.util.find_spec("ssh2") is not None
    assert importlib.util.find_spec("ssh2.session").name == "ssh2cffi.session"


#: Every ``ssh2`` import that parallel-ssh 2.16 (pssh/clients/native and
#: pssh/clients/base) and ssh2-python's README and examples make.
SSH2_PYTHON_USERS_IMPORTS = """
    from ssh2.error_codes import LIBSSH2_ERROR_EAGAIN
    from ssh2.exceptions import SFTPHandleError, SFTPProtocolError, Timeout as SSH2Timeout
    from ssh2.exceptions import AgentConnectionError, AgentListIdentitiesError, \\
        AgentAuthenticationError, AgentGetIdentityError
    from ssh2.session import Session, LIBSSH2_SESSION_BLOCK_INBOUND, \\
        LIBSSH2_SESSION_BLOCK_OUTBOUND, LIBSSH2_FLAG_COMPRESS
    from ssh2.sftp import LIBSSH2_FXF_READ, LIBSSH2_FXF_CREAT, LIBSSH2_FXF_WRITE, \\
        LIBSSH2_FXF_TRUNC, LIBSSH2_SFTP_S_IRUSR, LIBSSH2_SFTP_S_IRGRP, \\
        LIBSSH2_SFTP_S_IWUSR, LIBSSH2_SFTP_S_IXUSR, LIBSSH2_SFTP_S_IROTH, \\
        LIBSSH2_SFTP_S_IXGRP, LIBSSH2_SFTP_S_IXOTH
    from ssh2.utils import find_eol, wait_socket, version
    from ssh2.session import LIBSSH2_HOSTKEY_HASH_SHA1, LIBSSH2_HOSTKEY_TYPE_RSA
    from ssh2.knownhost import LIBSSH2_KNOWNHOST_TYPE_PLAIN, \\
        LIBSSH2_KNOWNHOST_KEYENC_RAW, LIBSSH2_KNOWNHOST_KEY_SSHRSA
    import ssh2.utils
    ssh2.utils.ENCODING
"""


@pytest.mark.parametrize("activate", ["register", "environment"])
def test_imports_parallel_ssh_and_ssh2_python_examples_make(activate):
    """A fresh interpreter, activated either way, resolves each name to ssh2cffi's object."""
    code = "import ssh2cffi.compat; ssh2cffi.compat.register()\n" if activate == "register" else ""
    code += SSH2_PYTHON_USERS_IMPORTS.replace("\n    ", "\n") + """
import sys, ssh2cffi.session, ssh2cffi.exceptions, ssh2cffi.utils
assert Session is ssh2cffi.session.Session
assert SSH2Timeout is ssh2cffi.exceptions.Timeout
assert find_eol is ssh2cffi.utils.find_eol
assert sorted(n for n in sys.modules if n.startswith("ssh2.")) == sorted(
    "ssh2." + n for n in ssh2cffi.compat.MODULES)
print(version().decode())
"""
    result = run_python(code, env={"SSH2CFFI_AS_SSH2": "1" if activate == "environment" else ""})
    assert result.returncode == 0, result.stderr
    from ssh2cffi.utils import version

    assert result.stdout.strip() == version().decode()


def test_versions_behave_as_ssh2_pythons(registered):
    import importlib.metadata

    import ssh2
    import ssh2.utils
    import ssh2cffi

    # ssh2-python: ssh2.__version__ is a str; utils.version() is libssh2's, as bytes.
    assert isinstance(ssh2cffi.__version__, str)
    assert ssh2cffi.__version__ == importlib.metadata.version("ssh2cffi")
    assert isinstance(ssh2.__version__, str)
    version = ssh2.utils.version()
    assert isinstance(version, bytes) and version.count(b".") == 2
    assert ssh2.utils.version(0x7fffffff) is None
    expected = os.environ.get("SSH2CFFI_EXPECT_LIBSSH2")
    if expected:
        assert version.decode().startswith(expected + ".")
