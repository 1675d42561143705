/* The publickey subsystem (RFC 4819, libssh2_publickey.h). */
typedef struct _LIBSSH2_PUBLICKEY LIBSSH2_PUBLICKEY;

typedef struct _libssh2_publickey_attribute {
    const char *name;
    unsigned long name_len;
    const char *value;
    unsigned long value_len;
    char mandatory;
    ...;
} libssh2_publickey_attribute;

typedef struct _libssh2_publickey_list {
    unsigned char *packet;
    const unsigned char *name;
    unsigned long name_len;
    const unsigned char *blob;
    unsigned long blob_len;
    unsigned long num_attrs;
    libssh2_publickey_attribute *attrs;
    ...;
} libssh2_publickey_list;

LIBSSH2_PUBLICKEY *libssh2_publickey_init(LIBSSH2_SESSION *session);
int libssh2_publickey_add_ex(LIBSSH2_PUBLICKEY *pkey, const unsigned char *name,
                             unsigned long name_len, const unsigned char *blob,
                             unsigned long blob_len, char overwrite,
                             unsigned long num_attrs,
                             const libssh2_publickey_attribute attrs[]);
int libssh2_publickey_remove_ex(LIBSSH2_PUBLICKEY *pkey, const unsigned char *name,
                                unsigned long name_len, const unsigned char *blob,
                                unsigned long blob_len);
int libssh2_publickey_list_fetch(LIBSSH2_PUBLICKEY *pkey, unsigned long *num_keys,
                                 libssh2_publickey_list **pkey_list);
void libssh2_publickey_list_free(LIBSSH2_PUBLICKEY *pkey,
                                 libssh2_publickey_list *pkey_list);
int libssh2_publickey_shutdown(LIBSSH2_PUBLICKEY *pkey);

/* Wait (poll) until the session's socket is ready in the direction libssh2
   last blocked on, for at most the session timeout.  For the libssh2 calls
   that return LIBSSH2_ERROR_EAGAIN even on a blocking session (the publickey
   subsystem's): 0 when ready, LIBSSH2_ERROR_TIMEOUT, or
   LIBSSH2_ERROR_SOCKET_RECV if poll() failed. */
int ssh2cffi_wait_socket(LIBSSH2_SESSION *session, int fd);

/* helpers.c: libssh2_publickey_shutdown() without its double free. */
int ssh2cffi_publickey_shutdown(LIBSSH2_SESSION *session, LIBSSH2_PUBLICKEY *pkey);
/* helpers.c: the subsystem's channel (for list_fetch, see there). */
LIBSSH2_CHANNEL *ssh2cffi_publickey_channel(LIBSSH2_PUBLICKEY *pkey);
