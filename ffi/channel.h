/* Channels: sessions, exec, I/O, windows, exit status. */
#define SSH_EXTENDED_DATA_STDERR ...
#define LIBSSH2_CHANNEL_WINDOW_DEFAULT ...
#define LIBSSH2_CHANNEL_PACKET_DEFAULT ...
#define LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL ...
#define LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE ...
#define LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE ...
#define LIBSSH2_TERM_WIDTH ...
#define LIBSSH2_TERM_HEIGHT ...
#define LIBSSH2_TERM_WIDTH_PX ...
#define LIBSSH2_TERM_HEIGHT_PX ...

LIBSSH2_CHANNEL *libssh2_channel_open_ex(LIBSSH2_SESSION *session,
                                         const char *channel_type,
                                         unsigned int channel_type_len,
                                         unsigned int window_size,
                                         unsigned int packet_size,
                                         const char *message,
                                         unsigned int message_len);
int libssh2_channel_setenv_ex(LIBSSH2_CHANNEL *channel, const char *varname,
                              unsigned int varname_len, const char *value,
                              unsigned int value_len);
int libssh2_channel_request_auth_agent(LIBSSH2_CHANNEL *channel);
int libssh2_channel_request_pty_ex(LIBSSH2_CHANNEL *channel, const char *term,
                                   unsigned int term_len, const char *modes,
                                   unsigned int modes_len, int width, int height,
                                   int width_px, int height_px);
int libssh2_channel_request_pty_size_ex(LIBSSH2_CHANNEL *channel, int width,
                                        int height, int width_px, int height_px);
int libssh2_channel_x11_req_ex(LIBSSH2_CHANNEL *channel, int single_connection,
                               const char *auth_proto, const char *auth_cookie,
                               int screen_number);
int libssh2_channel_process_startup(LIBSSH2_CHANNEL *channel,
                                    const char *request, unsigned int request_len,
                                    const char *message, unsigned int message_len);
ssize_t libssh2_channel_read_ex(LIBSSH2_CHANNEL *channel, int stream_id,
                                char *buf, size_t buflen);
int libssh2_poll_channel_read(LIBSSH2_CHANNEL *channel, int extended);
unsigned long libssh2_channel_window_read_ex(LIBSSH2_CHANNEL *channel,
                                             unsigned long *read_avail,
                                             unsigned long *window_size_initial);
int libssh2_channel_receive_window_adjust2(LIBSSH2_CHANNEL *channel,
                                           unsigned long adjustment,
                                           unsigned char force,
                                           unsigned int *storewindow);
ssize_t libssh2_channel_write_ex(LIBSSH2_CHANNEL *channel, int stream_id,
                                 const char *buf, size_t buflen);
unsigned long libssh2_channel_window_write_ex(LIBSSH2_CHANNEL *channel,
                                              unsigned long *window_size_initial);
unsigned long libssh2_channel_receive_window_adjust(LIBSSH2_CHANNEL *channel,
                                                   unsigned long adjustment,
                                                   unsigned char force);
void libssh2_channel_handle_extended_data(LIBSSH2_CHANNEL *channel,
                                          int ignore_mode);
int libssh2_channel_handle_extended_data2(LIBSSH2_CHANNEL *channel,
                                          int ignore_mode);
int libssh2_channel_flush_ex(LIBSSH2_CHANNEL *channel, int streamid);
int libssh2_channel_get_exit_status(LIBSSH2_CHANNEL *channel);
int libssh2_channel_get_exit_signal(LIBSSH2_CHANNEL *channel, char **exitsignal,
                                    size_t *exitsignal_len, char **errmsg,
                                    size_t *errmsg_len, char **langtag,
                                    size_t *langtag_len);
int libssh2_channel_send_eof(LIBSSH2_CHANNEL *channel);
int libssh2_channel_eof(LIBSSH2_CHANNEL *channel);
int libssh2_channel_wait_eof(LIBSSH2_CHANNEL *channel);
int libssh2_channel_close(LIBSSH2_CHANNEL *channel);
int libssh2_channel_wait_closed(LIBSSH2_CHANNEL *channel);
int libssh2_channel_free(LIBSSH2_CHANNEL *channel);

/* libssh2 >= 1.11.0 only: on older libraries helpers.c supplies a stand-in
   that returns LIBSSH2_ERROR_BAD_USE, and SSH2CFFI_HAS_CHANNEL_SIGNAL is 0. */
#define SSH2CFFI_HAS_CHANNEL_SIGNAL ...
int libssh2_channel_signal_ex(LIBSSH2_CHANNEL *channel, const char *signame,
                              size_t signame_len);
