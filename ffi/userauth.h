/* User authentication. */
char *libssh2_userauth_list(LIBSSH2_SESSION *session, const char *username,
                            unsigned int username_len);
int libssh2_userauth_authenticated(LIBSSH2_SESSION *session);
/* libssh2 >= 1.11.0; a stand-in on older ones (SSH2CFFI_HAS_USERAUTH_BANNER 0). */
#define SSH2CFFI_HAS_USERAUTH_BANNER ...
int libssh2_userauth_banner(LIBSSH2_SESSION *session, char **banner);
int libssh2_userauth_password_ex(LIBSSH2_SESSION *session,
                                 const char *username, unsigned int username_len,
                                 const char *password, unsigned int password_len,
                                 void (*passwd_change_cb)(LIBSSH2_SESSION *, char **, int *, void **));
int libssh2_userauth_publickey_fromfile_ex(LIBSSH2_SESSION *session,
                                           const char *username,
                                           unsigned int username_len,
                                           const char *publickey,
                                           const char *privatekey,
                                           const char *passphrase);
int libssh2_userauth_publickey_frommemory(LIBSSH2_SESSION *session,
                                          const char *username,
                                          size_t username_len,
                                          const char *publickeyfiledata,
                                          size_t publickeyfiledata_len,
                                          const char *privatekeyfiledata,
                                          size_t privatekeyfiledata_len,
                                          const char *passphrase);
int libssh2_userauth_publickey(LIBSSH2_SESSION *session, const char *username,
                               const unsigned char *pubkeydata,
                               size_t pubkeydata_len,
                               int (*sign_callback)(LIBSSH2_SESSION *, unsigned char **, size_t *,
                                                    const unsigned char *, size_t, void **),
                               void **abstract);
int libssh2_userauth_hostbased_fromfile_ex(LIBSSH2_SESSION *session,
                                           const char *username,
                                           unsigned int username_len,
                                           const char *publickey,
                                           const char *privatekey,
                                           const char *passphrase,
                                           const char *hostname,
                                           unsigned int hostname_len,
                                           const char *local_username,
                                           unsigned int local_username_len);
int libssh2_userauth_keyboard_interactive_ex(
    LIBSSH2_SESSION *session, const char *username, unsigned int username_len,
    void (*response_callback)(const char *, int, const char *, int, int,
                              const LIBSSH2_USERAUTH_KBDINT_PROMPT *,
                              LIBSSH2_USERAUTH_KBDINT_RESPONSE *, void **));

/* Keyboard-interactive prompts reach Python through this callback; the
   session's abstract pointer is a cffi handle to the Session's callback state. */
extern "Python" void _ssh2cffi_kbdint_response(
    const char *, int, const char *, int, int,
    const LIBSSH2_USERAUTH_KBDINT_PROMPT *, LIBSSH2_USERAUTH_KBDINT_RESPONSE *,
    void **);

/* Signatures for Session.userauth_publickey come from a Python callable; the
   abstract pointer is a cffi handle to the Session's callback state. */
extern "Python" int _ssh2cffi_sign(LIBSSH2_SESSION *, unsigned char **, size_t *,
                                   const unsigned char *, size_t, void **);
