/* SCP.  libssh2_struct_stat is struct stat on POSIX: helpers.c flattens it. */
typedef ... libssh2_struct_stat;
struct stat;
LIBSSH2_CHANNEL *libssh2_scp_recv2(LIBSSH2_SESSION *session, const char *path,
                                   libssh2_struct_stat *sb);
LIBSSH2_CHANNEL *libssh2_scp_recv(LIBSSH2_SESSION *session, const char *path,
                                  struct stat *sb);
LIBSSH2_CHANNEL *libssh2_scp_send_ex(LIBSSH2_SESSION *session, const char *path,
                                     int mode, size_t size, long mtime, long atime);
LIBSSH2_CHANNEL *libssh2_scp_send64(LIBSSH2_SESSION *session, const char *path,
                                    int mode, libssh2_int64_t size, time_t mtime,
                                    time_t atime);
