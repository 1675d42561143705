/* Small C helpers from helpers.c: each replaces a loop that would otherwise
   cross from Python into C many times, or hides a struct whose layout changed
   between libssh2 releases. */
ssize_t ssh2cffi_channel_write_all(LIBSSH2_CHANNEL *channel, int stream_id,
                                   const char *buf, size_t buflen,
                                   size_t *written);
const char *ssh2cffi_kbdint_prompt(const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
                                   int index, size_t *length);
char *ssh2cffi_memdup(const char *data, size_t length);
void ssh2cffi_kbdint_respond(LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses,
                             int index, char *text, size_t length);
void ssh2cffi_detach_socket(LIBSSH2_SESSION *session);

/* struct stat, as the 12 integers FileInfo/StatInfo expose, in this order:
   size, mode, ino, nlink, uid, gid, rdev, blksize, blocks, atime, mtime, ctime. */
#define SSH2CFFI_STAT_FIELDS ...
size_t ssh2cffi_stat_size(void);
void ssh2cffi_stat_fields(const void *sb, long long *out);

/* SFTPHandle.write(): as ssh2cffi_channel_write_all, for SFTP. */
ssize_t ssh2cffi_sftp_write_all(LIBSSH2_SFTP_HANDLE *handle, const char *buf,
                                size_t buflen, size_t *written);

/* Bulk transfers between an SFTP handle and a local file descriptor, in C:
   no Python per chunk.  Each returns 0 when the copy is complete, or a
   negative libssh2 error; SSH2CFFI_LOCAL_IO_ERROR means the local read/write
   failed, with errno in state->local_errno.  state->copied counts the bytes
   copied.  On a non-blocking session LIBSSH2_ERROR_EAGAIN leaves the copy
   resumable: call again with the same buffer and state (start with a zeroed
   state).  The buffer holds data libssh2 has not taken yet between calls. */
#define SSH2CFFI_LOCAL_IO_ERROR ...
struct ssh2cffi_copy_state {
    long long copied;
    size_t pending_offset;
    size_t pending_length;
    int local_errno;
};
int ssh2cffi_sftp_download(LIBSSH2_SFTP_HANDLE *handle, int fd, char *buffer,
                           size_t buffer_size, struct ssh2cffi_copy_state *state);
int ssh2cffi_sftp_upload(LIBSSH2_SFTP_HANDLE *handle, int fd, char *buffer,
                         size_t buffer_size, struct ssh2cffi_copy_state *state);
