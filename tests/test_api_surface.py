"""ssh2cffi has every public name ssh2-python 1.2.0 has (tests/data holds its dump)."""
import importlib
import inspect
import json
import os

import pytest

SURFACE = json.load(open(os.path.join(os.path.dirname(__file__), "data",
                                      "ssh2-python-1.2.0.surface.json")))
COMPLETE_MODULES = ["channel", "exceptions", "error_codes", "utils", "session"]
# Session methods that later issues add (SFTP, SCP, agent, known hosts, forwarding).
SESSION_LATER = {"agent_auth", "agent_init", "direct_streamlocal_ex", "direct_tcpip",
                 "direct_tcpip_ex", "forward_listen", "forward_listen_ex", "knownhost_init",
                 "publickey_init", "scp_recv2", "scp_send64", "sftp_init"}


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


@pytest.mark.parametrize("name", ["channel", "session"])
def test_classes_have_every_member(name):
    module = importlib.import_module("ssh2cffi." + name)
    for cls_name, spec in SURFACE[name]["classes"].items():
        members = set(spec["members"])
        if cls_name == "Session":
            members -= SESSION_LATER
        assert members - public_names(getattr(module, cls_name)) == set(), cls_name


def test_exception_hierarchy_matches():
    from ssh2cffi import exceptions
    for cls_name, spec in SURFACE["exceptions"]["classes"].items():
        cls = getattr(exceptions, cls_name)
        assert cls.__bases__[0].__name__ == spec["base"], cls_name
    assert len(SURFACE["exceptions"]["classes"]) == 79


def test_no_stray_public_names_leak_from_imports():
    # Names a module imports for itself must not look like API.
    for name in ["channel", "session", "utils"]:
        module = importlib.import_module("ssh2cffi." + name)
        stray = {attr for attr in public_names(module)
                 if inspect.ismodule(getattr(module, attr)) is False
                 and attr not in SURFACE[name]["constants"]
                 and attr not in SURFACE[name]["classes"]
                 and attr not in SURFACE[name]["functions"]
                 and not attr.startswith("LIBSSH2_")
                 and attr not in {"ENCODING", "Any", "List", "Optional", "Tuple", "Union",
                                  "Callable", "Sequence", "StrOrBytes", "KbdCallback",
                                  "SignCallback", "ChannelError", "KnownHostError",
                                  "PublicKeyInitError", "SessionHostKeyError"}}
        assert stray == set(), name
