"""parallel-ssh on ssh2cffi: run a command on several hosts at once, on PyPy too.

Plain parallel-ssh code: with ``SSH2CFFI_AS_SSH2=1`` in the environment, the
``.pth`` hook installed with ssh2cffi makes ``import ssh2`` (and so parallel-ssh's
native client) use ssh2cffi.  Without the variable, the ImportError fallback below
does the same with ``ssh2cffi.compat.register()``.  See docs/parallel-ssh.rst.

    SSH2CFFI_AS_SSH2=1 pypy3 examples/parallel_ssh_pypy.py --port 22 --user me \\
        --key ~/.ssh/id_ed25519 host1 host2 host3

Options default to the environment (PSSH_PORT, PSSH_USER, PSSH_KEY, PSSH_COMMAND).
"""
from __future__ import annotations

import argparse
import getpass
import os
import platform
from typing import List, Optional

try:
    import ssh2  # ssh2-python, or ssh2cffi when SSH2CFFI_AS_SSH2=1
except ImportError:
    import ssh2cffi.compat

    ssh2 = ssh2cffi.compat.register()

import ssh2.utils
from pssh.clients import ParallelSSHClient


def describe_ssh2() -> str:
    """Which ssh2 parallel-ssh runs on, and where."""
    if getattr(ssh2, "__ssh2cffi__", False):
        import ssh2cffi

        name = "ssh2cffi %s" % ssh2cffi.__version__
    else:
        name = "ssh2-python %s" % ssh2.__version__
    return "ssh2 is %s on libssh2 %s under %s %s" % (
        name, ssh2.utils.version().decode(), platform.python_implementation(),
        platform.python_version())


def main(argv: Optional[List[str]] = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hosts", nargs="*", default=["127.0.0.1"])
    parser.add_argument("--port", type=int, default=int(env("PSSH_PORT", "22")))
    parser.add_argument("--user", default=env("PSSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=env("PSSH_KEY"),
                        help="private key file (default: agent and ~/.ssh identities)")
    parser.add_argument("--command", default=env("PSSH_COMMAND", "uname -s"))
    args = parser.parse_args(argv)

    print(describe_ssh2())
    client = ParallelSSHClient(args.hosts, port=args.port, user=args.user, pkey=args.key,
                               num_retries=1, timeout=60)
    output = client.run_command(args.command)
    client.join(output)
    failed = 0
    for host_output in output:
        if host_output.exception is not None:
            print("%s: error: %r" % (host_output.host, host_output.exception))
            failed += 1
            continue
        text = " | ".join(host_output.stdout)
        print("%s: exit %s: %s" % (host_output.host, host_output.exit_code, text))
        failed += host_output.exit_code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
