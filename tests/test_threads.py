"""Sessions used from several threads at once (one session per thread)."""
import hashlib
import threading

from helpers import login

SIZE = 8 * 1024 * 1024


def stream(sshd, index, results):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    try:
        channel = session.open_session()
        # Each thread gets different data: a thread mixing up buffers would show.
        channel.execute("head -c %d /dev/zero | tr '\\0' '%s'" % (SIZE, chr(ord("a") + index)))
        digest = hashlib.sha256()
        total = 0
        while True:
            size, data = channel.read(65536)
            if size <= 0:
                break
            digest.update(data)
            total += size
        channel.wait_closed()
        results[index] = (total, digest.hexdigest(), channel.get_exit_status())
    finally:
        session.disconnect()
        sock.close()


def test_threads_stream_in_parallel_with_correct_bytes(sshd):
    results = {}
    threads = [threading.Thread(target=stream, args=(sshd, i, results)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(results) == list(range(6))
    for index, (total, digest, status) in results.items():
        expected = hashlib.sha256(chr(ord("a") + index).encode() * SIZE).hexdigest()
        assert (total, digest, status) == (SIZE, expected, 0)


def test_calls_release_the_gil(sshd):
    # While one thread sits in a blocking libssh2 read (the remote command
    # sleeps), another thread keeps running Python code.
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    channel = session.open_session()
    channel.execute("sleep 1; echo done")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.01)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        assert channel.read() == (5, b"done\n")
    finally:
        stop.set()
        thread.join()
    assert len(ticks) > 20  # ~100 if the GIL is free during the read; 1 if not
    session.disconnect()
    sock.close()
