/* ssh-agent: connecting, listing identities, authenticating with them. */
typedef struct _LIBSSH2_AGENT LIBSSH2_AGENT;

/* The fields libssh2 documents; "..." lets the compiler place them. */
struct libssh2_agent_publickey {
    unsigned int magic;
    void *node;
    unsigned char *blob;
    size_t blob_len;
    char *comment;
    ...;
};

LIBSSH2_AGENT *libssh2_agent_init(LIBSSH2_SESSION *session);
int libssh2_agent_connect(LIBSSH2_AGENT *agent);
int libssh2_agent_list_identities(LIBSSH2_AGENT *agent);
int libssh2_agent_get_identity(LIBSSH2_AGENT *agent,
                               struct libssh2_agent_publickey **store,
                               struct libssh2_agent_publickey *prev);
int libssh2_agent_userauth(LIBSSH2_AGENT *agent, const char *username,
                           struct libssh2_agent_publickey *identity);
int libssh2_agent_disconnect(LIBSSH2_AGENT *agent);
void libssh2_agent_free(LIBSSH2_AGENT *agent);
/* libssh2 >= 1.11.0; helpers.c has a stand-in for older ones (Python checks
   SSH2CFFI_HAS_AGENT_SIGN). */
#define SSH2CFFI_HAS_AGENT_SIGN ...
int libssh2_agent_sign(LIBSSH2_AGENT *agent,
                       struct libssh2_agent_publickey *identity,
                       unsigned char **sig, size_t *s_len,
                       const unsigned char *data, size_t d_len,
                       const char *method, unsigned int method_len);
void libssh2_agent_set_identity_path(LIBSSH2_AGENT *agent, const char *path);
const char *libssh2_agent_get_identity_path(LIBSSH2_AGENT *agent);

/* helpers.c: can the agent socket libssh2_agent_connect() would use be
   connected to?  (see helpers.c for why we ask before libssh2 does) */
#define SSH2CFFI_AGENT_NO_SOCKET_PATH ...
int ssh2cffi_agent_probe(const char *path);
/* libssh2_agent_free(), as a ChildRelease (returns 0). */
int ssh2cffi_agent_release(LIBSSH2_AGENT *agent);
