/* C source compiled into ssh2cffi._libssh2 (cffi set_source preamble).
   It fills the gaps between libssh2 releases so that one cdef builds against
   libssh2 >= 1.10, and holds the few helpers declared in helpers.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libssh2.h>

/* Error codes, flags and constants that only libssh2 >= 1.11 defines: their
   1.11 values, so that error_codes and session export the same names everywhere. */
#ifndef LIBSSH2_ERROR_MISSING_USERAUTH_BANNER
#define LIBSSH2_ERROR_MISSING_USERAUTH_BANNER -50
#endif
#ifndef LIBSSH2_ERROR_ALGO_UNSUPPORTED
#define LIBSSH2_ERROR_ALGO_UNSUPPORTED -51
#endif
#ifndef LIBSSH2_ERROR_MAC_FAILURE
#define LIBSSH2_ERROR_MAC_FAILURE -52
#endif
#ifndef LIBSSH2_ERROR_HASH_INIT
#define LIBSSH2_ERROR_HASH_INIT -53
#endif
#ifndef LIBSSH2_ERROR_HASH_CALC
#define LIBSSH2_ERROR_HASH_CALC -54
#endif
#ifndef LIBSSH2_FLAG_QUOTE_PATHS
#define LIBSSH2_FLAG_QUOTE_PATHS 3
#endif
#ifndef LIBSSH2_SK_PRESENCE_REQUIRED
#define LIBSSH2_SK_PRESENCE_REQUIRED 0x01
#endif
#ifndef LIBSSH2_SK_VERIFICATION_REQUIRED
#define LIBSSH2_SK_VERIFICATION_REQUIRED 0x04
#endif

/* Functions that only libssh2 >= 1.11.0 has.  On older libraries a stand-in
   keeps the symbol defined (so the extension still loads) and reports misuse;
   Python checks SSH2CFFI_HAS_* first and names the version needed. */
#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_CHANNEL_SIGNAL 1
#else
#define SSH2CFFI_HAS_CHANNEL_SIGNAL 0
static int libssh2_channel_signal_ex(LIBSSH2_CHANNEL *channel,
                                     const char *signame, size_t signame_len)
{
    (void)channel; (void)signame; (void)signame_len;
    return LIBSSH2_ERROR_BAD_USE;
}
#endif

/* The signature algorithm preference type (RSA user keys): 1.11.0 and up. */
#ifdef LIBSSH2_METHOD_SIGN_ALGO
#define SSH2CFFI_HAS_METHOD_SIGN_ALGO 1
#else
#define SSH2CFFI_HAS_METHOD_SIGN_ALGO 0
#define LIBSSH2_METHOD_SIGN_ALGO 10
#endif

#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_USERAUTH_BANNER 1
#else
#define SSH2CFFI_HAS_USERAUTH_BANNER 0
static int libssh2_userauth_banner(LIBSSH2_SESSION *session, char **banner)
{
    (void)session; (void)banner;
    return LIBSSH2_ERROR_BAD_USE;
}
#endif

/* Does this libssh2 produce trace output?  Without LIBSSH2DEBUG,
   libssh2_trace() and libssh2_trace_sethandler() return 0 and do nothing, so
   ask a throw-away session for one line: setting an error emits a
   LIBSSH2_TRACE_ERROR line in debug builds.  No network involved.
   1: yes, 0: no, -1: out of memory. */
static void ssh2cffi_trace_probe(LIBSSH2_SESSION *session, void *context,
                                 const char *message, size_t length)
{
    (void)session; (void)message; (void)length;
    *(int *)context += 1;
}

static int ssh2cffi_trace_supported(void)
{
    int lines = 0;
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, NULL);
    if(!session)
        return -1;
    libssh2_trace_sethandler(session, &lines, ssh2cffi_trace_probe);
    libssh2_trace(session, LIBSSH2_TRACE_ERROR);
    libssh2_session_set_last_error(session, LIBSSH2_ERROR_BAD_USE,
                                   "ssh2cffi trace probe");
    libssh2_trace(session, 0);
    libssh2_session_free(session);
    return lines > 0;
}

/* The extern "Python" callbacks (cffi defines them after this preamble). */
static void _ssh2cffi_x11(LIBSSH2_SESSION *, LIBSSH2_CHANNEL *, const char *,
                          int, void **);
static void _ssh2cffi_ignore(LIBSSH2_SESSION *, const char *, int, void **);
static void _ssh2cffi_debug(LIBSSH2_SESSION *, int, const char *, int,
                            const char *, int, void **);
static void _ssh2cffi_disconnect(LIBSSH2_SESSION *, int, const char *, int,
                                 const char *, int, void **);
static void _ssh2cffi_authagent(LIBSSH2_SESSION *, LIBSSH2_CHANNEL *,
                                void **);
static ssize_t _ssh2cffi_transport_send(libssh2_socket_t, const void *,
                                        size_t, int, void **);
static ssize_t _ssh2cffi_transport_recv(libssh2_socket_t, void *, size_t,
                                        int, void **);

#define SSH2CFFI_CALLBACK_X11 LIBSSH2_CALLBACK_X11
#define SSH2CFFI_CALLBACK_IGNORE LIBSSH2_CALLBACK_IGNORE
#define SSH2CFFI_CALLBACK_DEBUG LIBSSH2_CALLBACK_DEBUG
#define SSH2CFFI_CALLBACK_DISCONNECT LIBSSH2_CALLBACK_DISCONNECT
#define SSH2CFFI_CALLBACK_SEND LIBSSH2_CALLBACK_SEND
#define SSH2CFFI_CALLBACK_RECV LIBSSH2_CALLBACK_RECV
/* LIBSSH2_CALLBACK_AUTHAGENT: libssh2 >= 1.11.0 (7 there; older libraries
   have no such type, and never answer a forwarded agent channel's open:
   the remote program waits). */
#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_AUTHAGENT_CALLBACK 1
#define SSH2CFFI_CALLBACK_AUTHAGENT LIBSSH2_CALLBACK_AUTHAGENT
#else
#define SSH2CFFI_HAS_AUTHAGENT_CALLBACK 0
#define SSH2CFFI_CALLBACK_AUTHAGENT 7
#endif

/* Install (enable != 0) or remove the session callback of type cbtype, one
   of the SSH2CFFI_CALLBACK_* above, each bound to its extern "Python"
   function.  libssh2 1.11 deprecated libssh2_session_callback_set() for the
   typed libssh2_session_callback_set2().  Returns 0, or -1 for a cbtype
   this function does not know (or AUTHAGENT on libssh2 < 1.11.0).
   SEND and RECV replace libssh2's socket I/O and cannot be removed
   (libssh2 would call a NULL function): enable must be 1 for them. */
static int ssh2cffi_set_callback(LIBSSH2_SESSION *session, int cbtype,
                                 int enable)
{
    void (*callback)(void) = NULL;
    switch(cbtype) {
    case SSH2CFFI_CALLBACK_X11:
        callback = (void (*)(void))_ssh2cffi_x11;
        break;
    case SSH2CFFI_CALLBACK_IGNORE:
        callback = (void (*)(void))_ssh2cffi_ignore;
        break;
    case SSH2CFFI_CALLBACK_DEBUG:
        callback = (void (*)(void))_ssh2cffi_debug;
        break;
    case SSH2CFFI_CALLBACK_DISCONNECT:
        callback = (void (*)(void))_ssh2cffi_disconnect;
        break;
    case SSH2CFFI_CALLBACK_AUTHAGENT:
        if(!SSH2CFFI_HAS_AUTHAGENT_CALLBACK)
            return -1;
        callback = (void (*)(void))_ssh2cffi_authagent;
        break;
    case SSH2CFFI_CALLBACK_SEND:
        if(!enable)
            return -1;
        callback = (void (*)(void))_ssh2cffi_transport_send;
        break;
    case SSH2CFFI_CALLBACK_RECV:
        if(!enable)
            return -1;
        callback = (void (*)(void))_ssh2cffi_transport_recv;
        break;
    default:
        return -1;
    }
    if(!enable)
        callback = NULL;
#if LIBSSH2_VERSION_NUM >= 0x010b00
    libssh2_session_callback_set2(session, cbtype,
                                  (libssh2_cb_generic *)callback);
#else
    libssh2_session_callback_set(session, cbtype, (void *)callback);
#endif
    return 0;
}

/* The packet read timeout (seconds): libssh2 >= 1.11.0. */
#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_READ_TIMEOUT 1
#else
#define SSH2CFFI_HAS_READ_TIMEOUT 0
static void libssh2_session_set_read_timeout(LIBSSH2_SESSION *session,
                                             long timeout)
{
    (void)session; (void)timeout;
}

static long libssh2_session_get_read_timeout(LIBSSH2_SESSION *session)
{
    (void)session;
    return 60;
}
#endif

/* Channel.write(): keep writing until all of buf is sent, the session would
   block, or libssh2 fails.  Returns the last libssh2 return code (0 for an
   empty buffer); *written receives the number of bytes sent. */
static ssize_t ssh2cffi_channel_write_all(LIBSSH2_CHANNEL *channel,
                                          int stream_id, const char *buf,
                                          size_t buflen, size_t *written)
{
    size_t done = 0;
    ssize_t rc = 0;
    while(done < buflen) {
        rc = libssh2_channel_write_ex(channel, stream_id, buf + done,
                                      buflen - done);
        if(rc < 0)
            break;
        done += (size_t)rc;
    }
    *written = done;
    return rc;
}

/* Keyboard-interactive prompt text and its length, whatever the struct layout. */
static const char *ssh2cffi_kbdint_prompt(
    const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts, int index, size_t *length)
{
    *length = (size_t)prompts[index].length;
    return (const char *)prompts[index].text;
}

/* A malloc()ed copy of data, for memory libssh2 frees itself (keyboard-
   interactive answers, signatures): sessions use the default allocators, so
   libssh2 frees it with free().  NULL when out of memory. */
static char *ssh2cffi_memdup(const char *data, size_t length)
{
    char *copy = malloc(length ? length : 1);
    if(copy)
        memcpy(copy, data, length);
    return copy;
}

/* Store one keyboard-interactive answer; libssh2 takes ownership of text. */
static void ssh2cffi_kbdint_respond(LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses,
                                    int index, char *text, size_t length)
{
    responses[index].text = text;
    responses[index].length = (unsigned int)length;
}

/* Socket callbacks for a session whose socket is gone: every send and receive
   fails at once.  Installed before a disconnected session is freed, so that
   libssh2's clean-up never reads from or writes to a file descriptor that
   may already belong to another connection. */
static ssize_t ssh2cffi_dead_send(libssh2_socket_t fd, const void *buffer,
                                  size_t length, int flags, void **abstract)
{
    (void)fd; (void)buffer; (void)length; (void)flags; (void)abstract;
    return -ENOTCONN;
}

static ssize_t ssh2cffi_dead_recv(libssh2_socket_t fd, void *buffer,
                                  size_t length, int flags, void **abstract)
{
    (void)fd; (void)buffer; (void)length; (void)flags; (void)abstract;
    return -ENOTCONN;
}

static void ssh2cffi_detach_socket(LIBSSH2_SESSION *session)
{
#if LIBSSH2_VERSION_NUM >= 0x010b00
    libssh2_session_callback_set2(session, LIBSSH2_CALLBACK_SEND,
                                  (libssh2_cb_generic *)ssh2cffi_dead_send);
    libssh2_session_callback_set2(session, LIBSSH2_CALLBACK_RECV,
                                  (libssh2_cb_generic *)ssh2cffi_dead_recv);
#else
    libssh2_session_callback_set(session, LIBSSH2_CALLBACK_SEND,
                                 (void *)ssh2cffi_dead_send);
    libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV,
                                 (void *)ssh2cffi_dead_recv);
#endif
}

#include <sys/stat.h>
#include <unistd.h>
#include <libssh2_sftp.h>

#define SSH2CFFI_STAT_FIELDS 12

#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_SFTP_POSIX_RENAME 1
#define SSH2CFFI_HAS_SFTP_OPEN_EX_R 1
#else
#define SSH2CFFI_HAS_SFTP_POSIX_RENAME 0
#define SSH2CFFI_HAS_SFTP_OPEN_EX_R 0
static int libssh2_sftp_posix_rename_ex(LIBSSH2_SFTP *sftp,
                                        const char *source_filename,
                                        size_t source_filename_len,
                                        const char *dest_filename,
                                        size_t dest_filename_len)
{
    (void)sftp; (void)source_filename; (void)source_filename_len;
    (void)dest_filename; (void)dest_filename_len;
    return LIBSSH2_ERROR_BAD_USE;
}

static LIBSSH2_SFTP_HANDLE *libssh2_sftp_open_ex_r(
    LIBSSH2_SFTP *sftp, const char *filename, size_t filename_len,
    unsigned long flags, long mode, int open_type,
    LIBSSH2_SFTP_ATTRIBUTES *attrs)
{
    (void)sftp; (void)filename; (void)filename_len; (void)flags; (void)mode;
    (void)open_type; (void)attrs;
    return NULL;
}
#endif

static size_t ssh2cffi_stat_size(void)
{
    return sizeof(libssh2_struct_stat);
}

static void ssh2cffi_stat_fields(const void *sb_ptr, long long *out)
{
    const libssh2_struct_stat *sb = (const libssh2_struct_stat *)sb_ptr;
    out[0] = (long long)sb->st_size;
    out[1] = (long long)sb->st_mode;
    out[2] = (long long)sb->st_ino;
    out[3] = (long long)sb->st_nlink;
    out[4] = (long long)sb->st_uid;
    out[5] = (long long)sb->st_gid;
    out[6] = (long long)sb->st_rdev;
    out[7] = (long long)sb->st_blksize;
    out[8] = (long long)sb->st_blocks;
    out[9] = (long long)sb->st_atime;
    out[10] = (long long)sb->st_mtime;
    out[11] = (long long)sb->st_ctime;
}

static ssize_t ssh2cffi_sftp_write_all(LIBSSH2_SFTP_HANDLE *handle,
                                       const char *buf, size_t buflen,
                                       size_t *written)
{
    size_t done = 0;
    ssize_t rc = 0;
    while(done < buflen) {
        rc = libssh2_sftp_write(handle, buf + done, buflen - done);
        if(rc < 0)
            break;
        done += (size_t)rc;
    }
    *written = done;
    return rc;
}

#define SSH2CFFI_LOCAL_IO_ERROR (-1000)

/* Progress of a bulk copy between an SFTP handle and a local descriptor,
   kept by the caller so that a copy on a non-blocking session resumes where
   LIBSSH2_ERROR_EAGAIN stopped it (declared in helpers.h). */
struct ssh2cffi_copy_state {
    long long copied;
    size_t pending_offset;
    size_t pending_length;
    int local_errno;
};

static int ssh2cffi_write_fd(int fd, const char *data, size_t length,
                             int *local_errno)
{
    size_t off = 0;
    while(off < length) {
        ssize_t put = write(fd, data + off, length - off);
        if(put < 0) {
            if(errno == EINTR)
                continue;
            *local_errno = errno;
            return SSH2CFFI_LOCAL_IO_ERROR;
        }
        off += (size_t)put;
    }
    return 0;
}

static int ssh2cffi_sftp_download(LIBSSH2_SFTP_HANDLE *handle, int fd,
                                  char *buffer, size_t buffer_size,
                                  struct ssh2cffi_copy_state *state)
{
    for(;;) {
        ssize_t got = libssh2_sftp_read(handle, buffer, buffer_size);
        if(got <= 0)
            return (int)got;  /* 0: end of file; EAGAIN: nothing is half done */
        if(ssh2cffi_write_fd(fd, buffer, (size_t)got, &state->local_errno))
            return SSH2CFFI_LOCAL_IO_ERROR;
        state->copied += got;
    }
}

static int ssh2cffi_sftp_upload(LIBSSH2_SFTP_HANDLE *handle, int fd,
                                char *buffer, size_t buffer_size,
                                struct ssh2cffi_copy_state *state)
{
    for(;;) {
        if(state->pending_length == 0) {
            ssize_t got = read(fd, buffer, buffer_size);
            if(got < 0) {
                if(errno == EINTR)
                    continue;
                state->local_errno = errno;
                return SSH2CFFI_LOCAL_IO_ERROR;
            }
            if(got == 0)
                return 0;
            state->pending_offset = 0;
            state->pending_length = (size_t)got;
        }
        while(state->pending_length > 0) {
            /* after EAGAIN libssh2 wants the same data again: it stays in
               buffer until libssh2 has taken it */
            ssize_t sent = libssh2_sftp_write(handle,
                                              buffer + state->pending_offset,
                                              state->pending_length);
            if(sent < 0)
                return (int)sent;
            state->pending_offset += (size_t)sent;
            state->pending_length -= (size_t)sent;
            state->copied += sent;
        }
    }
}

/* ---- agent, known hosts, publickey subsystem, forwarding ---- */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <libssh2_publickey.h>

#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_DIRECT_STREAMLOCAL 1
#else
#define SSH2CFFI_HAS_DIRECT_STREAMLOCAL 0
static LIBSSH2_CHANNEL *libssh2_channel_direct_streamlocal_ex(
    LIBSSH2_SESSION *session, const char *socket_path, const char *shost,
    int sport)
{
    (void)socket_path; (void)shost; (void)sport;
    libssh2_session_set_last_error(session, LIBSSH2_ERROR_BAD_USE,
                                   "direct-streamlocal needs libssh2 >= 1.11.0");
    return NULL;
}
#endif

#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH2CFFI_HAS_AGENT_SIGN 1
#else
#define SSH2CFFI_HAS_AGENT_SIGN 0
static int libssh2_agent_sign(LIBSSH2_AGENT *agent,
                              struct libssh2_agent_publickey *identity,
                              unsigned char **sig, size_t *s_len,
                              const unsigned char *data, size_t d_len,
                              const char *method, unsigned int method_len)
{
    (void)agent; (void)identity; (void)sig; (void)s_len; (void)data;
    (void)d_len; (void)method; (void)method_len;
    return LIBSSH2_ERROR_BAD_USE;
}
#endif

/* Can the agent socket be connected to?  Same path choice as libssh2's unix
   agent backend: the identity path if one was set, else $SSH_AUTH_SOCK.
   Returns 0 if a connection succeeded, SSH2CFFI_AGENT_NO_SOCKET_PATH when
   there is no path at all, else the connect()/socket() errno.

   Why ask before libssh2 does: when libssh2_agent_connect() fails to connect
   (1.10 and 1.11.1) it closes its socket but keeps the descriptor number in
   the agent, and libssh2_agent_disconnect()/libssh2_agent_free() later
   close that number again, closing whatever the program has opened since
   under the same number. */
#define SSH2CFFI_AGENT_NO_SOCKET_PATH (-1)
static int ssh2cffi_agent_probe(const char *path)
{
    struct sockaddr_un addr;
    int fd, err = 0;

    if(!path)
        path = getenv("SSH_AUTH_SOCK");
    if(!path)
        return SSH2CFFI_AGENT_NO_SOCKET_PATH;
    fd = socket(PF_UNIX, SOCK_STREAM, 0);
    if(fd < 0)
        return errno ? errno : EINVAL;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path, sizeof(addr.sun_path));
    addr.sun_path[sizeof(addr.sun_path) - 1] = 0;
    if(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        err = errno ? errno : ECONNREFUSED;
    close(fd);
    return err;
}

/* The frees of agents and known-host collections, in the shape of the other
   child releases (they return void in libssh2).  Neither does network I/O
   on the SSH session. */
static int ssh2cffi_agent_release(LIBSSH2_AGENT *agent)
{
    libssh2_agent_free(agent);
    return 0;
}

static int ssh2cffi_knownhost_release(LIBSSH2_KNOWNHOSTS *hosts)
{
    libssh2_knownhost_free(hosts);
    return 0;
}

/* libssh2's publickey subsystem calls are not wrapped in its blocking loop:
   they return LIBSSH2_ERROR_EAGAIN even on a blocking session.  This is the
   wait that loop would do: poll the socket in the direction libssh2 is
   blocked on, for at most the session timeout (0: no limit). */
static int ssh2cffi_wait_socket(LIBSSH2_SESSION *session, int fd)
{
    struct pollfd pfd;
    int dir = libssh2_session_block_directions(session);
    long timeout = libssh2_session_get_timeout(session);
    int rc;

    pfd.fd = fd;
    pfd.events = 0;
    pfd.revents = 0;
    if(dir & LIBSSH2_SESSION_BLOCK_INBOUND)
        pfd.events |= POLLIN;
    if(dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        pfd.events |= POLLOUT;
    if(!pfd.events)  /* libssh2 did not say: data to read is the usual wait */
        pfd.events = POLLIN;
    do {
        rc = poll(&pfd, 1, timeout > 0 ? (int)timeout : -1);
    } while(rc < 0 && errno == EINTR);
    if(rc == 0)
        return LIBSSH2_ERROR_TIMEOUT;
    if(rc < 0)
        return LIBSSH2_ERROR_SOCKET_RECV;
    return 0;
}

/* Shut the publickey subsystem down without libssh2_publickey_shutdown().
   That function frees pkey->receive_packet, but libssh2 (1.10 and 1.11.1)
   never clears that pointer after handing the packet to its callers, who
   free it: after any exchange with the server (publickey_init's version
   reply included) the shutdown is a double free.  Instead: free the
   subsystem's channel and the struct, which is what the shutdown does once
   idle (its other buffers are NULL between calls).  The channel is the
   first member of struct _LIBSSH2_PUBLICKEY in every libssh2 release.
   Returns 0, or LIBSSH2_ERROR_EAGAIN (non-blocking session: call again). */
static int ssh2cffi_publickey_shutdown(LIBSSH2_SESSION *session,
                                       LIBSSH2_PUBLICKEY *pkey)
{
    LIBSSH2_CHANNEL *channel = *(LIBSSH2_CHANNEL **)pkey;
    int rc = libssh2_channel_free(channel);
    if(rc == LIBSSH2_ERROR_EAGAIN)
        return rc;
    libssh2_free(session, pkey);
    return 0;
}

/* The channel the publickey subsystem runs on (first member, as above):
   PublicKeySystem.list_fetch() reads the list itself, because
   libssh2_publickey_list_fetch() keeps the keys read so far in local
   variables and so loses them whenever it returns LIBSSH2_ERROR_EAGAIN
   between two of the server's packets (which it does even on a blocking
   session). */
static LIBSSH2_CHANNEL *ssh2cffi_publickey_channel(LIBSSH2_PUBLICKEY *pkey)
{
    return *(LIBSSH2_CHANNEL **)pkey;
}
