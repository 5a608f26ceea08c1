/* config_service.c - the keys of the storage service (chaosmask-scp): [scp] limits and
 * timeouts, [archive] index limits, [tls], and the repeated [peer NAME] sections, with the
 * checks only the whole file can make (every peer named by a unique AE title, TLS files
 * present wherever TLS is used). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "chaosmask/config.h"
#include "config_internal.h"

void cfg_service_defaults(cm_config *cfg)
{
    cfg->archive_max_studies = 500;
    cfg->archive_max_study_bytes = (uint64_t)1 << 30;
    snprintf(cfg->scp_bind, sizeof cfg->scp_bind, "%s", "127.0.0.1");
    cfg->scp_max_associations = 16;
    cfg->scp_max_pdu = 65536;
    cfg->scp_acse_timeout = 30;
    cfg->scp_dimse_timeout = 60;
    cfg->scp_idle_timeout = 120;
    cfg->scp_shutdown_grace = 20;
    cfg->scp_max_object_bytes = (uint64_t)1 << 30;
    cfg->tls_enabled = 0;
    cfg->tls_require_client_certificate = 1;
    cfg->npeers = 0;
}

/* A whole number from min to max into *out, or why naming key and the range. */
static int parse_range(const char *key, const char *value, unsigned long min, unsigned long max, unsigned *out,
                       const char *unit, char *why, size_t whysz)
{
    unsigned long v;
    if (cfg_parse_uint(value, max, &v) != 0 || v < min) {
        snprintf(why, whysz, "%s '%s' is not a whole number from %lu to %lu%s", key, value, min, max, unit);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* ---- [archive] ---- */

int cfg_parse_archive_max_studies(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    /* dcmqrdb's index.dat holds at most 500 studies (DB_UpperMaxStudies) */
    return parse_range("max_studies", value, 1, 500, &cfg->archive_max_studies, " (index.dat holds at most 500)",
                       why, whysz);
}

int cfg_parse_archive_max_study_size(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    /* index.dat counts a study's bytes in 32 bits and caps them at 1 GiB (DB_UpperMaxBytesPerStudy) */
    if (cfg_parse_size(value, (uint64_t)1 << 20, (uint64_t)1 << 30, &cfg->archive_max_study_bytes) != 0) {
        snprintf(why, whysz, "max_study_size '%s' is not a size from 1M to 1G (index.dat's limit)", value);
        return -1;
    }
    return 0;
}

/* ---- [scp] ---- */

int cfg_parse_scp_bind(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    struct in_addr a;
    if (strlen(value) >= sizeof cfg->scp_bind || inet_pton(AF_INET, value, &a) != 1) {
        snprintf(why, whysz, "bind '%s' is not an IPv4 address (127.0.0.1 = this machine only, 0.0.0.0 = every interface)",
                 value);
        return -1;
    }
    snprintf(cfg->scp_bind, sizeof cfg->scp_bind, "%s", value);
    return 0;
}

int cfg_parse_scp_max_associations(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return parse_range("max_associations", value, 1, 1024, &cfg->scp_max_associations, "", why, whysz);
}

int cfg_parse_scp_max_pdu(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    /* DCMTK's ASC_MINIMUMPDUSIZE and ASC_MAXIMUMPDUSIZE */
    return parse_range("max_pdu", value, 4096, 131072, &cfg->scp_max_pdu, " bytes", why, whysz);
}

int cfg_parse_scp_acse_timeout(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return parse_range("acse_timeout", value, 1, 3600, &cfg->scp_acse_timeout, " seconds", why, whysz);
}

int cfg_parse_scp_dimse_timeout(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return parse_range("dimse_timeout", value, 1, 3600, &cfg->scp_dimse_timeout, " seconds", why, whysz);
}

int cfg_parse_scp_idle_timeout(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return parse_range("idle_timeout", value, 1, 86400, &cfg->scp_idle_timeout, " seconds", why, whysz);
}

int cfg_parse_scp_shutdown_grace(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return parse_range("shutdown_grace", value, 0, 3600, &cfg->scp_shutdown_grace, " seconds", why, whysz);
}

int cfg_parse_scp_max_object_size(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    if (cfg_parse_size(value, 1024, (uint64_t)64 << 30, &cfg->scp_max_object_bytes) != 0) {
        snprintf(why, whysz, "max_object_size '%s' is not a size from 1K to 64G (digits with an optional K, M or G)",
                 value);
        return -1;
    }
    return 0;
}

/* ---- [tls] ---- */

int cfg_parse_tls_enabled(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_yes_no("enabled", value, &cfg->tls_enabled, why, whysz);
}

int cfg_parse_tls_certificate(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_path(cfg->tls_certificate, "certificate", 1, value, why, whysz);
}

int cfg_parse_tls_private_key(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_path(cfg->tls_private_key, "private_key", 1, value, why, whysz);
}

int cfg_parse_tls_ca(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_path(cfg->tls_ca, "ca", 1, value, why, whysz);
}

int cfg_parse_tls_require_client(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_yes_no("require_client_certificate", value, &cfg->tls_require_client_certificate, why, whysz);
}

/* ---- [peer NAME] ---- */

static const char *const peer_keys[CFG_PEER_KEYS] = {"aetitle", "host", "port", "store", "find",
                                                      "retrieve", "tls", "certificate_name"};

const char *cfg_peer_key_list(void)
{
    return "aetitle, host, port, store, find, retrieve, tls, certificate_name";
}

int cfg_peer_key_index(const char *key)
{
    for (int k = 0; k < CFG_PEER_KEYS; k++)
        if (strcmp(key, peer_keys[k]) == 0)
            return k;
    return -1;
}

const char *cfg_peer_section(const char *section)
{
    if (strncmp(section, "peer", 4) != 0 || (section[4] != ' ' && section[4] != '\t'))
        return NULL;
    const char *name = section + 4;
    while (*name == ' ' || *name == '\t')
        name++;
    return name;
}

int cfg_peer_begin(cm_config *cfg, const char *name, int header_line, char *why, size_t whysz)
{
    if (name[0] == '\0' || strlen(name) >= CM_PEER_NAME_MAX) {
        snprintf(why, whysz, "[peer %s]: expected a name of 1 to %d characters after 'peer'", name,
                 CM_PEER_NAME_MAX - 1);
        return -1;
    }
    for (size_t i = 0; i < cfg->npeers; i++)
        if (strcmp(cfg->peers[i].name, name) == 0) {
            snprintf(why, whysz, "section [peer %s] appears again (first on line %d); expected one section per peer",
                     name, cfg->peers[i].line);
            return -1;
        }
    if (cfg->npeers == CM_PEERS_MAX) {
        snprintf(why, whysz, "[peer %s]: more than %d peers; expected at most %d [peer NAME] sections", name,
                 CM_PEERS_MAX, CM_PEERS_MAX);
        return -1;
    }
    cm_peer *p = &cfg->peers[cfg->npeers++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->retrieve = CM_RETRIEVE_NO;
    p->line = header_line;
    return 0;
}

/* A host name (letters, digits, '-', '.') or a dotted IPv4 address. */
static int host_ok(const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n >= CM_HOST_MAX || value[0] == '-' || value[0] == '.')
        return 0;
    return strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

static int parse_retrieve(const char *value, int *out, char *why, size_t whysz)
{
    for (int r = CM_RETRIEVE_NO; r <= CM_RETRIEVE_DECRYPTED; r++)
        if (strcmp(value, cm_retrieve_name(r)) == 0) {
            *out = r;
            return 0;
        }
    snprintf(why, whysz, "retrieve '%s' is not decrypted, encrypted or no", value);
    return -1;
}

int cfg_peer_set(cm_config *cfg, int k, const char *value, char *why, size_t whysz)
{
    cm_peer *p = &cfg->peers[cfg->npeers - 1];
    switch (k) {
    case 0:
        if (!cfg_aetitle_ok(value, why, whysz))
            return -1;
        snprintf(p->aetitle, sizeof p->aetitle, "%s", value);
        return 0;
    case 1:
        if (!host_ok(value)) {
            snprintf(why, whysz, "host '%s' is not a host name or IPv4 address", value);
            return -1;
        }
        snprintf(p->host, sizeof p->host, "%s", value);
        return 0;
    case 2: return parse_range("port", value, 1, 65535, &p->port, "", why, whysz);
    case 3: return cfg_parse_yes_no("store", value, &p->store, why, whysz);
    case 4: return cfg_parse_yes_no("find", value, &p->find, why, whysz);
    case 5: return parse_retrieve(value, &p->retrieve, why, whysz);
    case 6: return cfg_parse_yes_no("tls", value, &p->tls, why, whysz);
    default:
        if (!host_ok(value)) {
            snprintf(why, whysz, "certificate_name '%s' is not a host name or IPv4 address", value);
            return -1;
        }
        snprintf(p->certificate_name, sizeof p->certificate_name, "%s", value);
        return 0;
    }
}

const char *cm_retrieve_name(int retrieve)
{
    return retrieve == CM_RETRIEVE_DECRYPTED ? "decrypted" : retrieve == CM_RETRIEVE_ENCRYPTED ? "encrypted" : "no";
}

const cm_peer *cm_config_peer(const cm_config *cfg, const char *aetitle)
{
    for (size_t i = 0; aetitle != NULL && i < cfg->npeers; i++)
        if (strcmp(cfg->peers[i].aetitle, aetitle) == 0)
            return &cfg->peers[i];
    return NULL;
}

const char *cm_peer_certificate_name(const cm_peer *peer)
{
    return peer->certificate_name[0] != '\0' ? peer->certificate_name : peer->host;
}

/* ---- the whole file ---- */

static int check_peers(const cm_config *cfg, int *line, char *why, size_t whysz)
{
    for (size_t i = 0; i < cfg->npeers; i++) {
        const cm_peer *p = &cfg->peers[i];
        *line = p->line;
        if (p->aetitle[0] == '\0') {
            snprintf(why, whysz, "[peer %s] has no aetitle; expected aetitle = the peer's AE title", p->name);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->peers[j].aetitle, p->aetitle) == 0) {
                snprintf(why, whysz,
                         "[peer %s]: aetitle '%s' already names [peer %s] (line %d); expected one section per AE "
                         "title",
                         p->name, p->aetitle, cfg->peers[j].name, cfg->peers[j].line);
                return -1;
            }
    }
    return 0;
}

int cfg_check_service(const cm_config *cfg, int tls_enabled_line, const int *peer_tls_lines, int *line, char *why,
                      size_t whysz)
{
    if (check_peers(cfg, line, why, whysz) != 0)
        return -1;
    *line = tls_enabled_line;
    if (cfg->tls_enabled && (cfg->tls_certificate[0] == '\0' || cfg->tls_private_key[0] == '\0')) {
        snprintf(why, whysz, "[tls] enabled = yes needs certificate and private_key (PEM files)");
        return -1;
    }
    if (cfg->tls_enabled && cfg->tls_require_client_certificate && cfg->tls_ca[0] == '\0') {
        snprintf(why, whysz, "[tls] require_client_certificate = yes needs ca (the PEM file peers' certificates "
                             "chain to)");
        return -1;
    }
    /* An AE title is no proof of identity, and a client certificate of the site CA is not tied
     * to a peer (any holder of one could use any AE title): a peer that may read headers or
     * pixels must say where its calls come from, or which certificate name it calls with. */
    for (size_t i = 0; i < cfg->npeers; i++) {
        const cm_peer *p = &cfg->peers[i];
        *line = p->line;
        if (p->certificate_name[0] != '\0' && !cfg->tls_require_client_certificate) {
            snprintf(why, whysz,
                     "[peer %s] has certificate_name, but [tls] require_client_certificate = no: a caller's "
                     "certificate would not be checked; expected require_client_certificate = yes",
                     p->name);
            return -1;
        }
        const int by_certificate = p->tls && p->certificate_name[0] != '\0';
        if ((p->find || p->retrieve != CM_RETRIEVE_NO) && p->host[0] == '\0' && !by_certificate) {
            snprintf(why, whysz,
                     "[peer %s] may %s but has no host: anyone could call with its AE title; expected host = the "
                     "address its calls come from (or tls = yes and certificate_name = the name its certificate "
                     "carries)",
                     p->name, p->find ? "find" : "retrieve");
            return -1;
        }
        *line = peer_tls_lines[i] ? peer_tls_lines[i] : p->line;
        if (!p->tls && p->certificate_name[0] != '\0') {
            snprintf(why, whysz,
                     "[peer %s] has certificate_name but not tls = yes: only a peer that must use TLS presents "
                     "a certificate",
                     p->name);
            return -1;
        }
        if (p->tls && (cfg->tls_certificate[0] == '\0' || cfg->tls_private_key[0] == '\0' || cfg->tls_ca[0] == '\0')) {
            snprintf(why, whysz,
                     "[peer %s] tls = yes needs [tls] certificate, private_key and ca (the service's identity "
                     "and the CA the peer's certificate chains to)",
                     p->name);
            return -1;
        }
    }
    return 0;
}
