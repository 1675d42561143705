"""Drop-in for ssh2-python: make ``import ssh2...`` resolve to ssh2cffi.

    import ssh2cffi.compat
    ssh2cffi.compat.register()
    from ssh2.session import Session      # ssh2cffi.session.Session

Every ``ssh2.X`` module is aliased to the *same* module object as
``ssh2cffi.X``, so classes are identical and ``except``/``isinstance`` match
whichever name a program imported them by.  For programs one cannot edit, set
``SSH2CFFI_AS_SSH2=1``: the ``ssh2cffi-as-ssh2.pth`` hook installed with the
package calls ``register()`` at interpreter start-up, unless the real
ssh2-python is installed.
"""
import importlib
import importlib.machinery
import importlib.util
import sys
import types
from typing import List

#: ssh2-python's public modules, in an order with no forward imports.
MODULES: List[str] = ["exceptions", "error_codes", "utils", "channel", "statinfo", "fileinfo",
                      "sftp_handle", "sftp", "session", "agent", "pkey", "knownhost", "listener",
                      "publickey"]

#: The ssh2-python release whose API ssh2cffi provides.
SSH2_PYTHON_VERSION = "1.2.0.post1"


def real_ssh2_installed() -> bool:
    """True if the real ssh2-python package can be imported."""
    module = sys.modules.get("ssh2")
    if module is not None:
        return not getattr(module, "__ssh2cffi__", False)
    try:
        return importlib.util.find_spec("ssh2") is not None
    except (ImportError, ValueError):
        return False


def available_modules() -> List[str]:
    """The ssh2 modules ssh2cffi provides in this release."""
    return [name for name in MODULES
            if importlib.util.find_spec("ssh2cffi." + name) is not None]


def register() -> types.ModuleType:
    """Alias ``ssh2`` and every ``ssh2.X`` in sys.modules to ssh2cffi; returns ``ssh2``.

    Calling it again returns the same ``ssh2`` module object.
    """
    package = sys.modules.get("ssh2")
    if package is None or not getattr(package, "__ssh2cffi__", False):
        package = types.ModuleType("ssh2", "ssh2-python's API, provided by ssh2cffi.")
        package.__version__ = SSH2_PYTHON_VERSION  # type: ignore[attr-defined]
        package.__ssh2cffi__ = True  # type: ignore[attr-defined]
        package.__path__ = []  # a package: submodules come from sys.modules
        # A spec, so importlib.util.find_spec("ssh2") finds this package.
        package.__spec__ = importlib.machinery.ModuleSpec("ssh2", None, is_package=True)
        sys.modules["ssh2"] = package
    for name in available_modules():
        module = importlib.import_module("ssh2cffi." + name)
        sys.modules["ssh2." + name] = module
        setattr(package, name, module)
    return package


def register_from_environment() -> None:
    """The .pth hook: register() if SSH2CFFI_AS_SSH2=1 and ssh2-python is absent."""
    import os

    if os.environ.get("SSH2CFFI_AS_SSH2") == "1" and not real_ssh2_installed():
        register()
