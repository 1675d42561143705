/* Plain-C anchors for the benchmark's workloads: how fast libssh2 itself goes
   with no Python at all, so each row of the benchmark shows what the binding
   costs.  The same loops as bench/workloads.py, on the same libssh2.

   usage: anchors PORT KEYFILE MODE ARG
     MODE=exec      ARG bytes of `head -c ARG /dev/zero` read in BUF-byte reads -> MB/s
     MODE=download  the file ARG read over SFTP in BUF-byte reads              -> MB/s
     MODE=upload    ARG bytes written over SFTP in BUF-byte writes             -> MB/s
     MODE=nbread    ARG non-blocking reads on an idle channel (each EAGAIN)    -> calls/s
     MODE=blockdir  ARG calls of libssh2_session_block_directions()            -> calls/s
     MODE=pingpong  ARG 64-byte write + read round trips through `cat`         -> trips/s
     MODE=stat      ARG SFTP stat("/tmp")                                      -> ops/s
   Environment: CIPHER (both directions), NODELAY (set TCP_NODELAY), BUF (bytes
   per read or write, default 65536).  Prints "<value> <unit>". */
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what)
{
    fprintf(stderr, "anchors: %s failed\n", what);
    exit(1);
}

static LIBSSH2_SESSION *connect_session(int port, const char *key, int *sock_out)
{
    const char *cipher = getenv("CIPHER");
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr))
        fail("connect");
    if (getenv("NODELAY")) {
        int one = 1;
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    LIBSSH2_SESSION *session = libssh2_session_init();
    if (cipher) {
        libssh2_session_method_pref(session, LIBSSH2_METHOD_CRYPT_CS, cipher);
        libssh2_session_method_pref(session, LIBSSH2_METHOD_CRYPT_SC, cipher);
    }
    if (libssh2_session_handshake(session, sock))
        fail("handshake");
    if (libssh2_userauth_publickey_fromfile(session, "root", NULL, key, NULL))
        fail("auth");
    *sock_out = sock;
    return session;
}

static LIBSSH2_CHANNEL *exec_channel(LIBSSH2_SESSION *session, const char *command)
{
    LIBSSH2_CHANNEL *channel = libssh2_channel_open_session(session);
    if (!channel || libssh2_channel_exec(channel, command))
        fail("exec");
    return channel;
}

static size_t buffer_size(size_t most)
{
    size_t size = getenv("BUF") ? (size_t)atol(getenv("BUF")) : 65536;
    if (size == 0 || size > most)
        fail("BUF");
    return size;
}

static char bulk[1 << 22];  /* the largest BUF the benchmark uses is 2 MiB */

static double exec_stream(LIBSSH2_SESSION *session, long total)
{
    char command[64];
    size_t size = buffer_size(sizeof bulk);
    snprintf(command, sizeof command, "head -c %ld /dev/zero", total);
    LIBSSH2_CHANNEL *channel = exec_channel(session, command);
    long got = 0;
    double start = seconds();
    for (;;) {
        ssize_t rc = libssh2_channel_read(channel, bulk, size);
        if (rc < 0)
            fail("read");
        if (rc == 0)
            break;
        got += rc;
    }
    double elapsed = seconds() - start;
    if (got != total)
        fail("exec stream length");
    return got / elapsed / 1e6;
}

static double sftp_download(LIBSSH2_SESSION *session, const char *path)
{
    size_t size = buffer_size(sizeof bulk);
    LIBSSH2_SFTP *sftp = libssh2_sftp_init(session);
    if (!sftp)
        fail("sftp_init");
    LIBSSH2_SFTP_HANDLE *handle = libssh2_sftp_open(sftp, path, LIBSSH2_FXF_READ, 0);
    if (!handle)
        fail("sftp_open");
    long got = 0;
    double start = seconds();
    for (;;) {
        ssize_t rc = libssh2_sftp_read(handle, bulk, size);
        if (rc < 0)
            fail("sftp_read");
        if (rc == 0)
            break;
        got += rc;
    }
    double elapsed = seconds() - start;
    libssh2_sftp_close(handle);
    libssh2_sftp_shutdown(sftp);
    return got / elapsed / 1e6;
}

/* Each mode below runs a warm-up of count/10 first, like the Python workloads. */
static double nbread(LIBSSH2_SESSION *session, long count)
{
    char buf[1024];
    LIBSSH2_CHANNEL *channel = exec_channel(session, "sleep 60");
    libssh2_session_set_blocking(session, 0);
    double start = 0;
    for (int phase = 0; phase < 2; phase++) {
        long n = phase ? count : count / 10;
        start = seconds();
        for (long i = 0; i < n; i++)
            if (libssh2_channel_read(channel, buf, sizeof buf) != LIBSSH2_ERROR_EAGAIN)
                fail("idle read");
    }
    return count / (seconds() - start);
}

static double block_directions(LIBSSH2_SESSION *session, long count)
{
    volatile int sink = 0;  /* keeps the compiler from dropping the calls */
    double start = 0;
    for (int phase = 0; phase < 2; phase++) {
        long n = phase ? count : count / 10;
        start = seconds();
        for (long i = 0; i < n; i++)
            sink += libssh2_session_block_directions(session);
    }
    (void)sink;
    return count / (seconds() - start);
}

static double pingpong(LIBSSH2_SESSION *session, long count)
{
    char message[64], buf[64];
    memset(message, 'x', sizeof message);
    LIBSSH2_CHANNEL *channel = exec_channel(session, "cat");
    double start = 0;
    for (int phase = 0; phase < 2; phase++) {
        long n = phase ? count : count / 10;
        start = seconds();
        for (long i = 0; i < n; i++) {
            if (libssh2_channel_write(channel, message, sizeof message) != sizeof message)
                fail("write");
            size_t got = 0;
            while (got < sizeof buf) {
                ssize_t rc = libssh2_channel_read(channel, buf, sizeof buf - got);
                if (rc <= 0)
                    fail("read");
                got += (size_t)rc;
            }
        }
    }
    return count / (seconds() - start);
}

static double sftp_stat(LIBSSH2_SESSION *session, long count)
{
    LIBSSH2_SFTP *sftp = libssh2_sftp_init(session);
    LIBSSH2_SFTP_ATTRIBUTES attrs;
    if (!sftp)
        fail("sftp_init");
    double start = 0;
    for (int phase = 0; phase < 2; phase++) {
        long n = phase ? count : count / 10;
        start = seconds();
        for (long i = 0; i < n; i++)
            if (libssh2_sftp_stat(sftp, "/tmp", &attrs))
                fail("stat");
    }
    return count / (seconds() - start);
}

static double sftp_upload(LIBSSH2_SESSION *session, long total)
{
    char *chunk = bulk;
    size_t size = buffer_size(sizeof bulk);
    LIBSSH2_SFTP *sftp = libssh2_sftp_init(session);
    if (!sftp)
        fail("sftp_init");
    LIBSSH2_SFTP_HANDLE *handle = libssh2_sftp_open(
        sftp, "/tmp/ssh2cffi-bench-upload",
        LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644);
    if (!handle)
        fail("sftp_open");
    long sent = 0;
    double start = seconds();
    while (sent < total) {
        size_t done = 0;
        while (done < size) {  /* sftp_write may take part of the buffer */
            ssize_t rc = libssh2_sftp_write(handle, chunk + done, size - done);
            if (rc < 0)
                fail("sftp_write");
            done += (size_t)rc;
        }
        sent += (long)size;
    }
    libssh2_sftp_close(handle);
    double elapsed = seconds() - start;
    libssh2_sftp_shutdown(sftp);
    return sent / elapsed / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: anchors PORT KEYFILE "
                "exec|download|upload|nbread|blockdir|pingpong|stat ARG\n");
        return 2;
    }
    int sock;
    long count = atol(argv[4]);
    libssh2_init(0);
    LIBSSH2_SESSION *session = connect_session(atoi(argv[1]), argv[2], &sock);
    if (!strcmp(argv[3], "exec"))
        printf("%.1f MB/s\n", exec_stream(session, count));
    else if (!strcmp(argv[3], "download"))
        printf("%.1f MB/s\n", sftp_download(session, argv[4]));
    else if (!strcmp(argv[3], "blockdir"))
        printf("%.1f calls/s\n", block_directions(session, count));
    else if (!strcmp(argv[3], "nbread"))
        printf("%.1f calls/s\n", nbread(session, count));
    else if (!strcmp(argv[3], "pingpong"))
        printf("%.1f trips/s\n", pingpong(session, count));
    else if (!strcmp(argv[3], "stat"))
        printf("%.1f ops/s\n", sftp_stat(session, count));
    else if (!strcmp(argv[3], "upload"))
        printf("%.1f MB/s\n", sftp_upload(session, count));
    else
        fail("mode");
    /* No orderly disconnect: the idle channel of nbread would block it. */
    close(sock);
    return 0;
}
