/*
 * config.h - ChaosMask configuration (one INI file) and the key ring (one file per key).
 *
 * Configuration: an INI file parsed with inih.  Sections and keys (defaults in brackets):
 *   [engine]  profile = lorenz | lorenz-chacha20 | aes-256-gcm   [lorenz-chacha20]
 *             threads = 0..CM_THREADS_MAX, 0 = all cores          [0]
 *   [keyring] dir     = key ring directory                        [keyring]
 *   [archive] dir     = archive directory                         [archive]
 *   [archive] max_studies = 1..500 (index.dat's study table)     [500]
 *             max_study_size = size, 1M..1G (index.dat's limit)   [1G]
 *   [scp]     aetitle = the service's AE title, 1..16 characters  [CHAOSMASK]
 *             port    = 1..65535                                  [11112]
 *             bind    = IPv4 address to listen on                 [127.0.0.1]
 *             max_associations = 1..1024                          [16]
 *             max_pdu = 4096..131072                              [65536]
 *             acse_timeout, dimse_timeout = 1..3600 seconds       [30], [60]
 *             idle_timeout = 1..86400 seconds                     [120]
 *             shutdown_grace = 0..3600 seconds                    [20]
 *             max_object_size = size, 1K..64G                     [1G]
 *   [tls]     enabled = yes | no                                  [no]
 *             certificate, private_key, ca = PEM files            []
 *             require_client_certificate = yes | no               [yes]
 *   [peer NAME] (repeated; NAME is free text) aetitle (required), host, port, store, find,
 *             retrieve = decrypted | encrypted | no, tls           [-, "", 0, no, no, no, no]
 *   [log]     level   = fatal | error | warn | info | debug | trace [warn]
 *             audit   = audit log file, empty = none              [audit.log]
 *             audit_fsync = yes | no                              [yes]
 *   [dicom]   max_depth = 1..256 (sequence nesting)               [32]
 *             max_elements = 1..1000000000                        [1000000]
 *             max_object_size = size, K/M/G suffix                [4G]
 *             patient_identity = refuse | allow                   [refuse]
 * Relative paths resolve against the directory of the config file (for the embedded
 * default: the current directory) and are stored as absolute paths.  Unknown sections or
 * keys, duplicate keys and bad values are errors whose message reads "FILE:LINE: what is
 * wrong; what is expected".  Lines are limited by inih to CM_CONFIG_LINE_MAX characters.
 *
 * Key ring: a directory, not writable by group or others, holding
 *   ID.key   one key: 32 bytes as 64 hex characters or 44 base64 characters, optionally
 *            followed by a newline; a regular file (no symlink) of mode 0600 or 0400;
 *   active   one line: the id of the key used for new objects.
 * Older keys stay for decryption; rotation = generate a new key and make it active (the
 * application layer writes keys; config/ reads and validates them).
 *
 * All functions return 0 or a negative CM_CFG_... code and, on failure, fill err->msg
 * (err may be NULL).  Key buffers are wiped on every failure path; the caller wipes the key
 * it received with cm_memzero() once done.
 */
#ifndef CHAOSMASK_CONFIG_H
#define CHAOSMASK_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CM_WARN_UNUSED /* same definition as in chaosmask.h */
#if defined(__GNUC__)
#define CM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CM_WARN_UNUSED
#endif
#endif

/* Size of the path fields: Linux's PATH_MAX, spelled out because strict C11 (-std=c11
 * without _POSIX_C_SOURCE) does not define PATH_MAX and the struct layout must not depend on
 * feature macros.  Longer paths are refused. */
#define CM_PATH_MAX 4096

#define CM_KEYID_MAX 64 /* key ids: [A-Za-z0-9._-], 1..63 chars, not starting with '.' */
#define CM_AETITLE_MAX 17      /* DICOM AE title: 1..16 characters + NUL */
#define CM_THREADS_MAX 1024u   /* upper bound of [engine] threads */
#define CM_CONFIG_LINE_MAX 197 /* longest INI line inih (compiled with INI_MAX_LINE 200) takes */
#define CM_PEERS_MAX 64        /* [peer NAME] sections */
#define CM_PEER_NAME_MAX 44    /* NAME of [peer NAME] (inih keeps 49 characters of a section name), + NUL */
#define CM_HOST_MAX 254        /* a host name or IPv4 address, + NUL */
#define CM_BIND_MAX 16         /* dotted IPv4 address, + NUL */

/* config error codes, negative.  Besides the names' meaning:
 *   EMODE   also a key file that is a symbolic link, a config file writable by others;
 *   EFORMAT also a key file or `active` that is not a regular file, an `active` that does not
 *           hold one valid key id, a key ring path that is not a directory;
 *   ESYNTAX also a duplicate key, an over-long line, a NUL byte;
 *   EIO     also an unreadable file, a config path that is not a regular file, a failed
 *           random generator;
 *   EINVAL  also a path longer than CM_PATH_MAX. */
#define CM_CFG_ENOENT -20      /* file or directory missing */
#define CM_CFG_EMODE -21       /* key file or key ring permissions too open */
#define CM_CFG_EFORMAT -22     /* key file content not 32 bytes hex/base64 */
#define CM_CFG_ESYNTAX -23     /* INI syntax error, unknown section/key, bad value */
#define CM_CFG_EIO -24         /* read/write/fsync/rename failed */
#define CM_CFG_EEXIST -25      /* key id already exists */
#define CM_CFG_EUNKNOWNKEY -26 /* key id not in the key ring */
#define CM_CFG_EINVAL -27      /* bad argument (bad key id syntax, NULL) */

/* [log] level values, in increasing verbosity (DCMTK's log levels). */
#define CM_LOG_FATAL 0
#define CM_LOG_ERROR 1
#define CM_LOG_WARN 2
#define CM_LOG_INFO 3
#define CM_LOG_DEBUG 4
#define CM_LOG_TRACE 5

/* [peer NAME] retrieve: what a peer gets back.  Ordered: the stricter of two is the smaller
 * (C-MOVE applies the stricter of the requester's and the destination's). */
#define CM_RETRIEVE_NO 0        /* nothing: C-GET and C-MOVE refused */
#define CM_RETRIEVE_ENCRYPTED 1 /* the objects as stored (masked) */
#define CM_RETRIEVE_DECRYPTED 2 /* the originals, authenticated and unmasked in memory */

/* One remote application entity the service knows ([peer NAME]). */
typedef struct cm_peer {
    char name[CM_PEER_NAME_MAX];   /* NAME of the section */
    char aetitle[CM_AETITLE_MAX];  /* its AE title; unique among the peers */
    char host[CM_HOST_MAX];        /* "" = any address; else calls must come from it, C-MOVE sends to it */
    unsigned port;                 /* 0 = not a C-MOVE destination */
    int store;                     /* may send C-STORE */
    int find;                      /* may send C-FIND */
    int retrieve;                  /* CM_RETRIEVE_...: C-GET, C-MOVE, and as a C-MOVE destination */
    int tls;                       /* must call over TLS; C-MOVE connects to it over TLS */
    char certificate_name[CM_HOST_MAX]; /* the name its certificate must carry; "" = its host */
    int line;                      /* line of its section header, for messages */
} cm_peer;

typedef struct cm_config {
    char source[CM_PATH_MAX];         /* the file read, or "<embedded default>" */
    int profile;                      /* [engine] profile = lorenz-chacha20 (CM_PROFILE_...) */
    unsigned threads;                 /* [engine] threads = 0  (0 = all cores) */
    char keyring_dir[CM_PATH_MAX];    /* [keyring] dir = keyring */
    char archive_dir[CM_PATH_MAX];    /* [archive] dir = archive */
    char scp_aetitle[CM_AETITLE_MAX]; /* [scp] aetitle = CHAOSMASK */
    unsigned scp_port;                /* [scp] port = 11112 */
    int log_level;                    /* [log] level = warn (CM_LOG_...) */
    char audit_path[CM_PATH_MAX];     /* [log] audit = audit.log ("" = no audit file) */
    int audit_fsync;                  /* [log] audit_fsync = yes: every record on disk before going on */
    unsigned max_depth;               /* [dicom] max_depth = 32: sequence nesting accepted */
    uint64_t max_elements;            /* [dicom] max_elements = 1000000: elements and items per object */
    uint64_t max_object_bytes;        /* [dicom] max_object_size = 4G: data set bytes per object */
    int identity_policy;              /* [dicom] patient_identity = refuse (CM_IDENTITY_...) */
    unsigned archive_max_studies;     /* [archive] max_studies = 500 */
    uint64_t archive_max_study_bytes; /* [archive] max_study_size = 1G */
    char scp_bind[CM_BIND_MAX];       /* [scp] bind = 127.0.0.1 */
    unsigned scp_max_associations;    /* [scp] max_associations = 16 */
    unsigned scp_max_pdu;             /* [scp] max_pdu = 65536 */
    unsigned scp_acse_timeout;        /* [scp] acse_timeout = 30 (association set-up, TLS handshake) */
    unsigned scp_dimse_timeout;       /* [scp] dimse_timeout = 60 (waiting inside an operation) */
    unsigned scp_idle_timeout;        /* [scp] idle_timeout = 120 (no command on an open association) */
    unsigned scp_shutdown_grace;      /* [scp] shutdown_grace = 20 (SIGTERM: running associations) */
    uint64_t scp_max_object_bytes;    /* [scp] max_object_size = 1G: one received data set */
    int tls_enabled;                  /* [tls] enabled = no: yes = only TLS associations */
    char tls_certificate[CM_PATH_MAX];  /* [tls] certificate: the service's, PEM */
    char tls_private_key[CM_PATH_MAX];  /* [tls] private_key: PEM, unencrypted */
    char tls_ca[CM_PATH_MAX];           /* [tls] ca: peers' certificates must chain to it */
    int tls_require_client_certificate; /* [tls] require_client_certificate = yes */
    size_t npeers;                    /* [peer NAME] sections, in file order */
    cm_peer peers[CM_PEERS_MAX];
} cm_config;

/* The peer whose AE title is aetitle (exact, case-sensitive), or NULL. */
const cm_peer *cm_config_peer(const cm_config *cfg, const char *aetitle);
/* The name a peer's TLS certificate must carry (an IPv4 address or DNS name): its
 * certificate_name, else its host; "" when it has neither. */
const char *cm_peer_certificate_name(const cm_peer *peer);
/* "decrypted", "encrypted", "no". */
const char *cm_retrieve_name(int retrieve);

/* [dicom] patient_identity: what decrypt does when Patient Name, ID, Issuer, Birth Date, Sex
 * or Accession Number changed since encryption. */
#define CM_IDENTITY_REFUSE 0 /* refuse (exit 9) until `chaosmask rebind` records the change */
#define CM_IDENTITY_ALLOW 1  /* decrypt anyway, with an audit record naming what changed */
#define CM_MAX_DEPTH_LIMIT 256u

/* The documented defaults; path fields are left relative ("keyring", "archive"). */
void cm_config_defaults(cm_config *cfg);
/* Starts from the defaults, then applies the file; *cfg is changed only on success. */
CM_WARN_UNUSED int cm_config_load_file(cm_config *cfg, const char *path, cm_error *err);
/* Parses the embedded copy of config/chaosmask.ini; relative paths against the cwd. */
CM_WARN_UNUSED int cm_config_load_embedded(cm_config *cfg, cm_error *err);
const char *cm_config_embedded_text(void);
/* "fatal" ... "trace"; NULL for an unknown value. */
const char *cm_log_level_name(int level);
/* The level of a name ("warn"...); -1 for an unknown one. */
int cm_log_level_from_name(const char *name);

typedef struct cm_keyring {
    char dir[CM_PATH_MAX];
    char active_id[CM_KEYID_MAX]; /* "" when the ring has no active key yet */
} cm_keyring;

/* 1 when id is a valid key id, 0 otherwise (also for NULL). */
int cm_keyid_valid(const char *id);
/* Reads one key file (rules above).  Codes: ENOENT, EMODE (mode & 077, symlink),
 * EFORMAT (content, not a regular file), EIO, EINVAL. */
CM_WARN_UNUSED int cm_keyfile_read(const char *path, uint8_t key[32], cm_error *err);
/* dir must exist; refuses a dir writable by group/others; reads DIR/active (one line: the
 * key id); active_id "" when no key yet. */
CM_WARN_UNUSED int cm_keyring_open(cm_keyring *kr, const char *dir, cm_error *err);
/* Reads DIR/ID.key; CM_CFG_EUNKNOWNKEY with a message naming where it looked and the ids
 * the ring holds. */
CM_WARN_UNUSED int cm_keyring_load_key(const cm_keyring *kr, const char *id, uint8_t key[32],
                                       cm_error *err);
/* 0 when id is a valid key id, else CM_CFG_EINVAL with a message quoting it (escaped). */
int cm_keyid_check(const char *id, cm_error *err);
/* dir is usable as a key ring: a directory (a symlink to one is fine) owned by us or root,
 * not writable by group or others, with room for DIR/ID.key paths.  0 or a CM_CFG_ code. */
CM_WARN_UNUSED int cm_keyring_check_dir(const char *dir, cm_error *err);
/* DIR/active -> id ("" when the file does not exist).  0 or a CM_CFG_ code. */
CM_WARN_UNUSED int cm_keyring_read_active(const char *dir, char id[CM_KEYID_MAX], cm_error *err);
/* The ids of the DIR/ID.key files, sorted; the first `max` go to ids, *total counts them all. */
CM_WARN_UNUSED int cm_keyring_list(const char *dir, char (*ids)[CM_KEYID_MAX], size_t max, size_t *total,
                                   cm_error *err);
/* Writing keys (keygen, activation) is the application layer's job: config/ only reads. */

#ifdef __cplusplus
}
#endif
#endif
