/* fuzz_config.c - libFuzzer harness for the configuration reader (config.h: inih and our line
 * reader and value checks).  The input is written as a 0600 file in a scratch directory and
 * read with cm_config_load_file, as every program reads --config.
 *
 * Invariants: a refused file leaves the configuration untouched, returns ESYNTAX, EINVAL or
 * EIO with a message that starts with the file's path; an accepted one holds only values
 * within the documented ranges (absolute paths, a valid AE title, port, levels and limits),
 * and the service's rules hold: TLS has its files, peers have unique valid AE titles, and a
 * peer that may read (find or retrieve) is tied to an address (host) or to a certificate name
 * checked against a required client certificate; writing it out as an INI file (every
 * section, every peer) and reading that back gives the same configuration. */
#include "fuzz_common.h"

#include <ctype.h>

#include "chaosmask/config.h"

static const char *path_of(char *buf, size_t n, const char *name)
{
    return fuzz_scratch_path(name, buf, n);
}

static void check_values(const cm_config *c)
{
    FUZZ_CHECK(cm_profile_name(c->profile) != NULL, "accepted profile %d", c->profile);
    FUZZ_CHECK(c->threads <= CM_THREADS_MAX, "accepted threads %u", c->threads);
    FUZZ_CHECK(c->keyring_dir[0] == '/' && c->archive_dir[0] == '/', "relative directory accepted: %s, %s",
               c->keyring_dir, c->archive_dir);
    FUZZ_CHECK(c->audit_path[0] == '\0' || c->audit_path[0] == '/', "relative audit path: %s", c->audit_path);
    size_t ae = strlen(c->scp_aetitle);
    FUZZ_CHECK(ae >= 1 && ae <= 16, "AE title of %zu characters", ae);
    for (size_t i = 0; i < ae; i++)
        FUZZ_CHECK(c->scp_aetitle[i] >= 0x20 && c->scp_aetitle[i] < 0x7f && c->scp_aetitle[i] != '\\',
                   "AE title with character 0x%02x", (unsigned char)c->scp_aetitle[i]);
    FUZZ_CHECK(c->scp_port >= 1 && c->scp_port <= 65535, "port %u", c->scp_port);
    FUZZ_CHECK(cm_log_level_name(c->log_level) != NULL, "log level %d", c->log_level);
    FUZZ_CHECK(c->audit_fsync == 0 || c->audit_fsync == 1, "audit_fsync %d", c->audit_fsync);
    FUZZ_CHECK(c->max_depth >= 1 && c->max_depth <= CM_MAX_DEPTH_LIMIT, "max_depth %u", c->max_depth);
    FUZZ_CHECK(c->max_elements >= 1 && c->max_elements <= 1000000000u, "max_elements %llu",
               (unsigned long long)c->max_elements);
    FUZZ_CHECK(c->max_object_bytes >= 1024 && c->max_object_bytes <= ((uint64_t)64 << 30), "max_object_size %llu",
               (unsigned long long)c->max_object_bytes);
    FUZZ_CHECK(c->identity_policy == CM_IDENTITY_REFUSE || c->identity_policy == CM_IDENTITY_ALLOW,
               "identity policy %d", c->identity_policy);
}

static int host_chars(const char *v)
{
    return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == strlen(v);
}

static int aetitle_ok(const char *v)
{
    size_t n = strlen(v);
    int ok = n >= 1 && n <= 16;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= 0x20 && v[i] < 0x7f && v[i] != '\\';
    return ok;
}

/* The service's keys: [archive] limits, [scp], [tls], [peer NAME]. */
static void check_service(const cm_config *c)
{
    FUZZ_CHECK(c->archive_max_studies >= 1 && c->archive_max_studies <= 500, "max_studies %u", c->archive_max_studies);
    FUZZ_CHECK(c->archive_max_study_bytes >= ((uint64_t)1 << 20) && c->archive_max_study_bytes <= ((uint64_t)1 << 30),
               "max_study_size %llu", (unsigned long long)c->archive_max_study_bytes);
    FUZZ_CHECK(c->scp_max_associations >= 1 && c->scp_max_associations <= 1024 && c->scp_max_pdu >= 4096 &&
                   c->scp_max_pdu <= 131072 && c->scp_acse_timeout >= 1 && c->scp_acse_timeout <= 3600 &&
                   c->scp_dimse_timeout >= 1 && c->scp_dimse_timeout <= 3600 && c->scp_idle_timeout >= 1 &&
                   c->scp_idle_timeout <= 86400 && c->scp_shutdown_grace <= 3600,
               "an [scp] limit out of range");
    FUZZ_CHECK(c->scp_max_object_bytes >= 1024 && c->scp_max_object_bytes <= ((uint64_t)64 << 30),
               "[scp] max_object_size %llu", (unsigned long long)c->scp_max_object_bytes);
    FUZZ_CHECK(c->tls_enabled == 0 || c->tls_enabled == 1, "tls enabled %d", c->tls_enabled);
    FUZZ_CHECK(!c->tls_enabled || (c->tls_certificate[0] != '\0' && c->tls_private_key[0] != '\0'),
               "TLS enabled without certificate or key");
    FUZZ_CHECK(!c->tls_enabled || !c->tls_require_client_certificate || c->tls_ca[0] != '\0',
               "client certificates required without ca");
    FUZZ_CHECK(c->npeers <= CM_PEERS_MAX, "%zu peers", c->npeers);
    for (size_t i = 0; i < c->npeers; i++) {
        const cm_peer *p = &c->peers[i];
        FUZZ_CHECK(aetitle_ok(p->aetitle), "[peer %s]: AE title \"%s\"", p->name, p->aetitle);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(c->peers[j].aetitle, p->aetitle) != 0, "AE title %s twice", p->aetitle);
        FUZZ_CHECK(host_chars(p->host) && host_chars(p->certificate_name), "[peer %s]: host or certificate name",
                   p->name);
        FUZZ_CHECK(p->port <= 65535 && (p->store | p->find | p->tls) <= 1 && p->retrieve >= CM_RETRIEVE_NO &&
                       p->retrieve <= CM_RETRIEVE_DECRYPTED,
                   "[peer %s]: a value out of range", p->name);
        FUZZ_CHECK(p->certificate_name[0] == '\0' || (p->tls && c->tls_require_client_certificate),
                   "[peer %s]: certificate_name without tls = yes and required client certificates", p->name);
        FUZZ_CHECK(!(p->find || p->retrieve != CM_RETRIEVE_NO) || p->host[0] != '\0' || p->certificate_name[0] != '\0',
                   "[peer %s] may read but is tied to no address and no certificate name", p->name);
        FUZZ_CHECK(!p->tls || (c->tls_certificate[0] != '\0' && c->tls_private_key[0] != '\0' && c->tls_ca[0] != '\0'),
                   "[peer %s]: tls = yes without the service's TLS files", p->name);
    }
}

/* A size as the configuration spells it: the largest binary unit that divides it exactly. */
static void size_text(uint64_t bytes, char *out, size_t n)
{
    static const char units[] = "GMK";
    for (int i = 0; i < 3; i++) {
        unsigned shift = 30u - 10u * (unsigned)i;
        if ((bytes & (((uint64_t)1 << shift) - 1)) == 0) {
            snprintf(out, n, "%llu%c", (unsigned long long)(bytes >> shift), units[i]);
            return;
        }
    }
    snprintf(out, n, "%llu", (unsigned long long)bytes);
}

/* A value INI can hold as it is: inih trims white space around values (a path "x = /" is
 * cleaned to "x = ", which no INI line can spell), and a ';' after white space starts an
 * inline comment ("aetitle =;7" is the AE title ";7", "aetitle = ;7" is empty). */
static int representable(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]) || v[0] == ';'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] == ';' && isspace((unsigned char)v[i - 1]))
            return 0;
    return 1;
}

/* c as an INI file that sets every key; 0 when a line would be longer than an INI line may be
 * (a relative path from the file, made absolute, can be) or a value cannot be written. */
static size_t serialize(const cm_config *c, char *out, size_t n)
{
    if (!representable(c->keyring_dir) || !representable(c->archive_dir) || !representable(c->audit_path) ||
        !representable(c->scp_aetitle))
        return 0;
    char size[32];
    size_text(c->max_object_bytes, size, sizeof size);
    int len = snprintf(out, n,
                       "[engine]\nprofile = %s\nthreads = %u\n[keyring]\ndir = %s\n[archive]\ndir = %s\n"
                       "[scp]\naetitle = %s\nport = %u\n[log]\nlevel = %s\naudit = %s\naudit_fsync = %s\n"
                       "[dicom]\nmax_depth = %u\nmax_elements = %llu\nmax_object_size = %s\npatient_identity = %s\n",
                       cm_profile_name(c->profile), c->threads, c->keyring_dir, c->archive_dir, c->scp_aetitle,
                       c->scp_port, cm_log_level_name(c->log_level), c->audit_path, c->audit_fsync ? "yes" : "no",
                       c->max_depth, (unsigned long long)c->max_elements, size,
                       c->identity_policy == CM_IDENTITY_ALLOW ? "allow" : "refuse");
    if (len < 0 || (size_t)len >= n)
        return 0;
    if (!representable(c->tls_certificate) || !representable(c->tls_private_key) || !representable(c->tls_ca))
        return 0;
    char study[32], object[32];
    size_text(c->archive_max_study_bytes, study, sizeof study);
    size_text(c->scp_max_object_bytes, object, sizeof object);
    int more = snprintf(out + len, n - (size_t)len,
                        "[archive]\nmax_studies = %u\nmax_study_size = %s\n"
                        "[scp]\nbind = %s\nmax_associations = %u\nmax_pdu = %u\nacse_timeout = %u\n"
                        "dimse_timeout = %u\nidle_timeout = %u\nshutdown_grace = %u\nmax_object_size = %s\n"
                        "[tls]\nenabled = %s\nrequire_client_certificate = %s\n%s%s%s%s%s%s%s%s%s",
                        c->archive_max_studies, study, c->scp_bind, c->scp_max_associations, c->scp_max_pdu,
                        c->scp_acse_timeout, c->scp_dimse_timeout, c->scp_idle_timeout, c->scp_shutdown_grace, object,
                        c->tls_enabled ? "yes" : "no", c->tls_require_client_certificate ? "yes" : "no",
                        c->tls_certificate[0] ? "certificate = " : "", c->tls_certificate, c->tls_certificate[0] ? "\n" : "",
                        c->tls_private_key[0] ? "private_key = " : "", c->tls_private_key, c->tls_private_key[0] ? "\n" : "",
                        c->tls_ca[0] ? "ca = " : "", c->tls_ca, c->tls_ca[0] ? "\n" : "");
    if (more < 0 || (size_t)more >= n - (size_t)len)
        return 0;
    len += more;
    for (size_t i = 0; i < c->npeers; i++) {
        const cm_peer *p = &c->peers[i];
        /* a name inih would cut or a value it would trim cannot be written back */
        if (!representable(p->name) || strchr(p->name, ']') != NULL || strchr(p->name, ';') != NULL ||
            strchr(p->name, '#') != NULL || !representable(p->aetitle))
            return 0;
        more = snprintf(out + len, n - (size_t)len,
                        "[peer %s]\naetitle = %s\n%s%s%s%s%s%s%s%.0u%sstore = %s\nfind = %s\nretrieve = %s\ntls = %s\n",
                        p->name, p->aetitle, p->host[0] ? "host = " : "", p->host, p->host[0] ? "\n" : "",
                        p->certificate_name[0] ? "certificate_name = " : "", p->certificate_name,
                        p->certificate_name[0] ? "\n" : "", p->port ? "port = " : "", p->port, p->port ? "\n" : "",
                        p->store ? "yes" : "no", p->find ? "yes" : "no", cm_retrieve_name(p->retrieve),
                        p->tls ? "yes" : "no");
        if (more < 0 || (size_t)more >= n - (size_t)len)
            return 0;
        len += more;
    }
    for (const char *line = out; *line != '\0';) {
        const char *end = strchr(line, '\n');
        if (end - line > CM_CONFIG_LINE_MAX)
            return 0;
        line = end + 1;
    }
    return (size_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512], again[512];
    path_of(path, sizeof path, "chaosmask.ini");
    fuzz_write_file(path, data, size, 0600);

    cm_config cfg, sentinel;
    memset(&cfg, 0xA5, sizeof cfg);
    sentinel = cfg;
    cm_error err = {0, ""};
    int rc = cm_config_load_file(&cfg, path, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc == CM_CFG_ESYNTAX || rc == CM_CFG_EINVAL || rc == CM_CFG_EIO, "load returned %d (%s)", rc,
                   err.msg);
        FUZZ_CHECK(err.code == rc && strncmp(err.msg, path, strlen(path)) == 0,
                   "a refusal that does not name the file: %d \"%s\"", err.code, err.msg);
        FUZZ_CHECK(memcmp(&cfg, &sentinel, sizeof cfg) == 0, "a refused file changed the configuration");
        return 0;
    }
    check_values(&cfg);
    check_service(&cfg);
    FUZZ_CHECK(strcmp(cfg.source, path) == 0, "source is \"%s\"", cfg.source);

    /* the accepted configuration, written out and read back */
    static char text[8 * CM_PATH_MAX + CM_PEERS_MAX * 512 + 2048];
    size_t len = serialize(&cfg, text, sizeof text);
    if (len == 0)
        return 0;
    path_of(again, sizeof again, "again.ini");
    fuzz_write_file(again, (const uint8_t *)text, len, 0600);
    cm_config back;
    memset(&back, 0, sizeof back);
    rc = cm_config_load_file(&back, again, &err);
    FUZZ_CHECK(rc == 0, "an accepted configuration, written out, is refused: %s\n%s", err.msg, text);
    snprintf(back.source, sizeof back.source, "%s", cfg.source);
    /* compare field by field: the struct has padding */
    FUZZ_CHECK(back.profile == cfg.profile && back.threads == cfg.threads &&
                   strcmp(back.keyring_dir, cfg.keyring_dir) == 0 && strcmp(back.archive_dir, cfg.archive_dir) == 0 &&
                   strcmp(back.scp_aetitle, cfg.scp_aetitle) == 0 && back.scp_port == cfg.scp_port &&
                   back.log_level == cfg.log_level && strcmp(back.audit_path, cfg.audit_path) == 0 &&
                   back.audit_fsync == cfg.audit_fsync && back.max_depth == cfg.max_depth &&
                   back.max_elements == cfg.max_elements && back.max_object_bytes == cfg.max_object_bytes &&
                   back.identity_policy == cfg.identity_policy,
               "an accepted configuration reads back differently:\n%s", text);
    FUZZ_CHECK(back.archive_max_studies == cfg.archive_max_studies &&
                   back.archive_max_study_bytes == cfg.archive_max_study_bytes &&
                   strcmp(back.scp_bind, cfg.scp_bind) == 0 && back.scp_max_associations == cfg.scp_max_associations &&
                   back.scp_max_pdu == cfg.scp_max_pdu && back.scp_acse_timeout == cfg.scp_acse_timeout &&
                   back.scp_dimse_timeout == cfg.scp_dimse_timeout && back.scp_idle_timeout == cfg.scp_idle_timeout &&
                   back.scp_shutdown_grace == cfg.scp_shutdown_grace &&
                   back.scp_max_object_bytes == cfg.scp_max_object_bytes && back.tls_enabled == cfg.tls_enabled &&
                   back.tls_require_client_certificate == cfg.tls_require_client_certificate &&
                   strcmp(back.tls_certificate, cfg.tls_certificate) == 0 &&
                   strcmp(back.tls_private_key, cfg.tls_private_key) == 0 && strcmp(back.tls_ca, cfg.tls_ca) == 0 &&
                   back.npeers == cfg.npeers,
               "the service's keys read back differently:\n%s", text);
    for (size_t i = 0; i < cfg.npeers; i++) {
        const cm_peer *a = &cfg.peers[i], *b = &back.peers[i];
        FUZZ_CHECK(strcmp(a->name, b->name) == 0 && strcmp(a->aetitle, b->aetitle) == 0 &&
                       strcmp(a->host, b->host) == 0 && strcmp(a->certificate_name, b->certificate_name) == 0 &&
                       a->port == b->port && a->store == b->store && a->find == b->find &&
                       a->retrieve == b->retrieve && a->tls == b->tls,
                   "[peer %s] reads back differently:\n%s", a->name, text);
    }
    return 0;
}
