/* Opaque libssh2 types and the plain types the other declarations use.
   cffi API mode: every declaration here is checked against libssh2.h by the
   C compiler when the extension is built. */
typedef int libssh2_socket_t;
typedef long long libssh2_int64_t;
typedef unsigned long long libssh2_uint64_t;
typedef long time_t;

typedef struct _LIBSSH2_SESSION LIBSSH2_SESSION;
typedef struct _LIBSSH2_CHANNEL LIBSSH2_CHANNEL;
typedef struct _LIBSSH2_LISTENER LIBSSH2_LISTENER;

/* The prompt and response structs differ between 1.10 (unsigned int lengths)
   and 1.11 (size_t): they stay opaque and helpers.c reads and fills them. */
typedef ... LIBSSH2_USERAUTH_KBDINT_PROMPT;
typedef ... LIBSSH2_USERAUTH_KBDINT_RESPONSE;

void free(void *);

#define LIBSSH2_VERSION_NUM ...
