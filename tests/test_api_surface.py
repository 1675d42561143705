"""ssh2cffi has every public name ssh2-python 1.2.0 has (tests/data holds its dump)."""
import importlib
import inspect
import json
import os

import pytest

SURFACE = json.load(open(os.path.join(os.path.dirname(__file__), "data",
                                      "ssh2-python-1.2.0.surface.json")))
COMPLETE_MODULES = ["channel", "exceptions", "error_codes", "utils", "session", "sftp",
                    "sftp_handle", "fileinfo", "statinfo", "agent", "pkey", "knownhost",
                    "listener", "publickey"]
# Modules with classes (whose members are checked) and no stray names.
CLASS_MODULES = ["channel", "session", "sftp", "sftp_handle", "fileinfo", "statinfo", "agent",
                 "pkey", "knownhost", "listener", "publickey"]
# Exceptions ssh2-python's modules re-export as a side effect of their imports
# (kept so that `from ssh2.agent import AgentConnectionError` works).
SSH2_PYTHON_REEXPORTS = {
    "agent": {"AgentError", "AgentConnectionError", "AgentListIdentitiesError",
              "AgentGetIdentityError", "AgentAuthenticationError"},
    "knownhost": {"KnownHostError", "KnownHostAddError", "KnownHostCheckError",
                  "KnownHostCheckFailure", "KnownHostCheckMisMatchError",
                  "KnownHostCheckNotFoundError", "KnownHostDeleteError", "KnownHostGetError",
                  "KnownHostReadFileError", "KnownHostReadLineError", "KnownHostWriteFileError",
                  "KnownHostWriteLineError"},
}


def public_names(module):
    return {name for name in dir(module) if not name.startswith("_")}


@pytest.mark.parametrize("name", COMPLETE_MODULES)
def test_module_has_every_public_name(name):
    module = importlib.import_module("ssh2cffi." + name)
    expected = SURFACE[name]
    missing = set(expected["constants"]) | set(expected["classes"]) | set(expected["functions"])
    missing -= public_names(module)
    assert missing == set()


@pytest.mark.parametrize("name", COMPLETE_MODULES)
def test_int_constants_have_ssh2_python_values(name):
    module = importlib.import_module("ssh2cffi." + name)
    for constant, value in SURFACE[name]["constants"].items():
        if isinstance(value, int):
            assert getattr(module, constant) == value, constant


@pytest.mark.parametrize("name", CLASS_MODULES)
def test_classes_have_every_member(name):
    module = importlib.import_module("ssh2cffi." + name)
    for cls_name, spec in SURFACE[name]["classes"].items():
        members = set(spec["members"])
        assert members - public_names(getattr(module, cls_name)) == set(), cls_name


@pytest.mark.parametrize("name", sorted(SSH2_PYTHON_REEXPORTS))
def test_ssh2_python_reexports_are_the_exception_classes(name):
    from ssh2cffi import exceptions
    module = importlib.import_module("ssh2cffi." + name)
    for attr in SSH2_PYTHON_REEXPORTS[name]:
        assert getattr(module, attr) is getattr(exceptions, attr), attr


def test_exception_hierarchy_matches():
    from ssh2cffi import exceptions
    for cls_name, spec in SURFACE["exceptions"]["classes"].items():
        cls = getattr(exceptions, cls_name)
        assert cls.__bases__[0].__name__ == spec["base"], cls_name
    assert len(SURFACE["exceptions"]["classes"]) == 79


@pytest.mark.parametrize("name", CLASS_MODULES + ["utils"])
def test_no_stray_public_names_leak_from_imports(name):
    # Names a module imports for itself must not look like API.
    module = importlib.import_module("ssh2cffi." + name)
    stray = {attr for attr in public_names(module)
             if inspect.ismodule(getattr(module, attr)) is False
             and attr not in SURFACE[name]["constants"]
             and attr not in SURFACE[name]["classes"]
             and attr not in SURFACE[name]["functions"]
             and not attr.startswith("LIBSSH2_")
             and attr not in SSH2_PYTHON_REEXPORTS.get(name, ())
             and attr not in {"ENCODING", "Any", "List", "Optional", "Tuple", "Union",
                              "Callable", "Sequence", "StrOrBytes", "KbdCallback",
                              "SignCallback", "IgnoreCallback", "DebugCallback",
                              "DisconnectCallback", "ChannelError", "KnownHostError",
                              "PublicKeyInitError", "SessionHostKeyError",
                              "BULK_TRANSFER_SIZE", "DEFAULT_READ_SIZE", "Dict",
                              "NoReturn", "Iterator", "SFTPAttributes", "SFTPHandle",
                              "SFTPStatVFS", "Type"}}
    assert stray == set(), name
