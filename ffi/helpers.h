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
