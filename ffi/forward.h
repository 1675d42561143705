/* Port forwarding: direct-tcpip / direct-streamlocal channels and
   remote (tcpip-forward) listeners. */
LIBSSH2_CHANNEL *libssh2_channel_direct_tcpip_ex(LIBSSH2_SESSION *session,
                                                 const char *host, int port,
                                                 const char *shost, int sport);
LIBSSH2_LISTENER *libssh2_channel_forward_listen_ex(LIBSSH2_SESSION *session,
                                                    const char *host, int port,
                                                    int *bound_port,
                                                    int queue_maxsize);
int libssh2_channel_forward_cancel(LIBSSH2_LISTENER *listener);
LIBSSH2_CHANNEL *libssh2_channel_forward_accept(LIBSSH2_LISTENER *listener);

/* libssh2 >= 1.11.0 only: on older libraries helpers.c supplies a stand-in
   that returns NULL, and SSH2CFFI_HAS_DIRECT_STREAMLOCAL is 0. */
#define SSH2CFFI_HAS_DIRECT_STREAMLOCAL ...
LIBSSH2_CHANNEL *libssh2_channel_direct_streamlocal_ex(LIBSSH2_SESSION *session,
                                                       const char *socket_path,
                                                       const char *shost,
                                                       int sport);

