"""Summarise memcheck logs: the errors whose stack passes through libssh2 or ssh2cffi.

Usage: valgrind_summary.py LOG...   Exit status 1 if any of them is an
invalid read, invalid write or invalid/mismatched free.
"""
import re
import sys

OURS = re.compile(r"libssh2\.so|_libssh2[^ ]*\.so|\(libssh2_|ssh2cffi_")
SERIOUS = ("Invalid read", "Invalid write", "Invalid free", "Mismatched free",
           "Source and destination overlap")


def errors(path):
    """Each error block of a memcheck log: a list of its lines."""
    block = []
    with open(path, errors="replace") as fobj:
        for line in fobj:
            text = re.sub(r"^==\d+== ?", "", line.rstrip("\n"))
            if not text.strip():
                if block:
                    yield block
                block = []
            else:
                block.append(text)
    if block:
        yield block


def main(paths):
    totals = {"logs": 0, "errors": 0, "ours": 0, "serious": 0}
    kinds = {}
    for path in paths:
        totals["logs"] += 1
        for block in errors(path):
            head = block[0]
            if not re.match(r"(Invalid|Conditional|Use of uninit|Syscall param|Mismatched|"
                            r"Source and dest|Argument)", head):
                continue
            totals["errors"] += 1
            if not any(OURS.search(line) for line in block[1:]):
                continue
            totals["ours"] += 1
            kind = re.sub(r" of size \d+", "", head)
            kinds[kind] = kinds.get(kind, 0) + 1
            if head.startswith(SERIOUS):
                totals["serious"] += 1
                print("\n".join(["--- %s" % path] + block[:25]))
    print("[valgrind] %(logs)d logs, %(errors)d memcheck errors in all, %(ours)d in "
          "libssh2/ssh2cffi frames, %(serious)d invalid reads/writes/frees there" % totals)
    for kind, count in sorted(kinds.items()):
        print("[valgrind]   %5d  %s" % (count, kind))
    return 1 if totals["serious"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
