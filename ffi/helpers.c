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

static long long ssh2cffi_sftp_download(LIBSSH2_SFTP_HANDLE *handle, int fd,
                                        char *buffer, size_t buffer_size,
                                        int *local_errno)
{
    long long total = 0;
    for(;;) {
        ssize_t got = libssh2_sftp_read(handle, buffer, buffer_size);
        if(got == 0)
            return total;
        if(got < 0)
            return got;
        for(ssize_t off = 0; off < got;) {
            ssize_t put = write(fd, buffer + off, (size_t)(got - off));
            if(put < 0) {
                if(errno == EINTR)
                    continue;
                *local_errno = errno;
                return SSH2CFFI_LOCAL_IO_ERROR;
            }
            off += put;
        }
        total += got;
    }
}

static long long ssh2cffi_sftp_upload(LIBSSH2_SFTP_HANDLE *handle, int fd,
                                      char *buffer, size_t buffer_size,
                                      int *local_errno)
{
    long long total = 0;
    for(;;) {
        ssize_t got = read(fd, buffer, buffer_size);
        if(got < 0) {
            if(errno == EINTR)
                continue;
            *local_errno = errno;
            return SSH2CFFI_LOCAL_IO_ERROR;
        }
        if(got == 0)
            return total;
        for(ssize_t off = 0; off < got;) {
            ssize_t sent = libssh2_sftp_write(handle, buffer + off,
                                              (size_t)(got - off));
            if(sent < 0)
                return sent;
            off += sent;
        }
        total += got;
    }
}
