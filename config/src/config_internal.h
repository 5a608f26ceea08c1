/* config_internal.h - helpers shared by the config/ sources: error messages, path joining,
 * and who may own what config/ reads.  Not installed, not part of the API. */
#ifndef CHAOSMASK_CONFIG_INTERNAL_H
#define CHAOSMASK_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "chaosmask/config.h"

/* The bytes of config/chaosmask.ini, NUL-terminated; generated at build time. */
extern const char cm_config_embedded_ini[];

/* 1 when a file or directory owned by uid may hold keys or configuration: ours or root's
 * (a key ring or config file someone else owns could have been planted). */
int cfg_owner_trusted(uid_t uid);

/* out = dir + "/" + name (no doubled slash); 0, or -1 when it does not fit in outsz. */
int cfg_path_join(char *out, size_t outsz, const char *dir, const char *name);

/* ---- the value checks (config_value.c), used by config.c and config_service.c ---- */

/* A value parser: 0, or -1 with `why` saying what is wrong and what is expected. */
typedef int (*cfg_value_parser)(cm_config *cfg, const char *value, char *why, size_t whysz);

/* A whole number made of digits only (no sign, no spaces, no 0x), at most max: 0 or -1. */
int cfg_parse_uint(const char *s, unsigned long max, unsigned long *out);
/* "yes" or "no": 0 or -1 with why. */
int cfg_parse_yes_no(const char *key, const char *value, int *out, char *why, size_t whysz);
/* Digits with an optional K, M or G (binary) suffix, from min to max bytes: 0 or -1. */
int cfg_parse_size(const char *value, uint64_t min, uint64_t max, uint64_t *out);
/* DICOM PS3.5 AE: 1..16 characters of the default repertoire, no backslash, no control
 * characters (inih already trimmed leading and trailing spaces).  1, or 0 with the reason in why. */
int cfg_aetitle_ok(const char *value, char *why, size_t whysz);
/* A path value: at most CM_PATH_MAX - 1 bytes; empty only when empty_ok. */
int cfg_parse_path(char *field, const char *key, int empty_ok, const char *value, char *why, size_t whysz);

/* The [scp], [archive] and [tls] keys of the service (config_service.c). */
int cfg_parse_archive_max_studies(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_archive_max_study_size(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_bind(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_max_associations(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_max_pdu(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_acse_timeout(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_dimse_timeout(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_idle_timeout(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_shutdown_grace(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_scp_max_object_size(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_tls_enabled(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_tls_certificate(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_tls_private_key(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_tls_ca(cm_config *cfg, const char *value, char *why, size_t whysz);
int cfg_parse_tls_require_client(cm_config *cfg, const char *value, char *why, size_t whysz);
/* The defaults of those keys. */
void cfg_service_defaults(cm_config *cfg);

/* [peer NAME] sections.  cfg_peer_section: the NAME of a "peer NAME" section, or NULL for
 * any other section. */
const char *cfg_peer_section(const char *section);
/* Opens the peer of a new [peer NAME] section that starts on header_line; 0, or -1 with why
 * (a second section of the same NAME, too many peers, an empty NAME). */
int cfg_peer_begin(cm_config *cfg, const char *name, int header_line, char *why, size_t whysz);
/* The index of a [peer NAME] key (0 .. CFG_PEER_KEYS-1), or -1; the list of the keys. */
#define CFG_PEER_KEYS 8
#define CFG_PEER_KEY_TLS 6
int cfg_peer_key_index(const char *key);
const char *cfg_peer_key_list(void);
/* Sets key k of the last opened peer: 0, or -1 with why. */
int cfg_peer_set(cm_config *cfg, int k, const char *value, char *why, size_t whysz);
/* What no single line can decide, checked once the whole file is read: every peer has an
 * AE title, AE titles are unique, a peer that may find or retrieve has a host, TLS has the
 * files it needs, certificate_name only with tls = yes.  tls_enabled_line and the
 * per-peer `tls_lines` (0 = not set) locate the messages.  0, or -1 with *line and why. */
int cfg_check_service(const cm_config *cfg, int tls_enabled_line, const int *peer_tls_lines, int *line, char *why,
                      size_t whysz);

#endif
