/* config.c - reads the ChaosMask INI file with inih and validates every value.
 *
 * The text is read into memory first and handed to inih through a line reader of our own, so
 * that every message can name the physical line (inih's handler gets no line number in the
 * Debian build) and so that over-long lines, which inih would silently split, are refused. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/config.h"
#include "config_internal.h"

#define EMBEDDED_SOURCE "<embedded default>"
#define CONFIG_FILE_MAX (1024 * 1024)
#define WHY_MAX 400

static const char *const log_level_names[] = {"fatal", "error", "warn", "info", "debug", "trace"};
#define N_LOG_LEVELS (sizeof log_level_names / sizeof log_level_names[0])

const char *cm_log_level_name(int level)
{
    if (level < 0 || (size_t)level >= N_LOG_LEVELS)
        return NULL;
    return log_level_names[level];
}

int cm_log_level_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_LOG_LEVELS; i++)
        if (strcmp(name, log_level_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *cm_config_embedded_text(void)
{
    return cm_config_embedded_ini;
}

void cm_config_defaults(cm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->source, sizeof cfg->source, "%s", "<defaults>");
    cfg->profile = CM_PROFILE_DEFAULT;
    cfg->threads = 0;
    snprintf(cfg->keyring_dir, sizeof cfg->keyring_dir, "%s", "keyring");
    snprintf(cfg->archive_dir, sizeof cfg->archive_dir, "%s", "archive");
    snprintf(cfg->scp_aetitle, sizeof cfg->scp_aetitle, "%s", "CHAOSMASK");
    cfg->scp_port = 11112;
    cfg->log_level = CM_LOG_WARN;
    snprintf(cfg->audit_path, sizeof cfg->audit_path, "%s", "audit.log");
    cfg->audit_fsync = 1;
    cfg->max_depth = 32;
    cfg->max_elements = 1000000;
    cfg->max_object_bytes = (uint64_t)4 << 30;
    cfg->identity_policy = CM_IDENTITY_REFUSE;
    cfg_service_defaults(cfg);
}

/* ---- value parsers: 0, or -1 with `why` saying what is wrong and what is expected ---- */

typedef cfg_value_parser value_parser;

static int parse_profile(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    int p = cm_profile_from_name(value);
    if (p > 0 && cm_profile_name(p) != NULL) {
        cfg->profile = p;
        return 0;
    }
    size_t n = (size_t)snprintf(why, whysz, "profile '%s' is not one of ", value);
    const char *sep = "";
    for (int i = 1; n < whysz && cm_profile_name(i) != NULL; i++, sep = ", ")
        n += (size_t)snprintf(why + n, whysz - n, "%s%s", sep, cm_profile_name(i));
    return -1;
}

static int parse_threads(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    unsigned long v;
    if (cfg_parse_uint(value, CM_THREADS_MAX, &v) != 0) {
        snprintf(why, whysz, "threads '%s' is not a whole number from 0 to %u (0 = all cores)",
                 value, CM_THREADS_MAX);
        return -1;
    }
    cfg->threads = (unsigned)v;
    return 0;
}

static int parse_keyring_dir(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_path(cfg->keyring_dir, "dir", 0, value, why, whysz);
}

static int parse_archive_dir(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_path(cfg->archive_dir, "dir", 0, value, why, whysz);
}

static int parse_audit(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_path(cfg->audit_path, "audit", 1, value, why, whysz);
}

static int parse_aetitle(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    if (!cfg_aetitle_ok(value, why, whysz))
        return -1;
    snprintf(cfg->scp_aetitle, sizeof cfg->scp_aetitle, "%s", value);
    return 0;
}

static int parse_port(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    unsigned long v;
    if (cfg_parse_uint(value, 65535, &v) != 0 || v == 0) {
        snprintf(why, whysz, "port '%s' is not a TCP port number from 1 to 65535", value);
        return -1;
    }
    cfg->scp_port = (unsigned)v;
    return 0;
}

static int parse_log_level(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    int level = cm_log_level_from_name(value);
    if (level >= 0) {
        cfg->log_level = level;
        return 0;
    }
    size_t n = (size_t)snprintf(why, whysz, "level '%s' is not one of ", value);
    for (size_t i = 0; i < N_LOG_LEVELS && n < whysz; i++)
        n += (size_t)snprintf(why + n, whysz - n, "%s%s", i ? ", " : "", log_level_names[i]);
    return -1;
}

static int parse_audit_fsync(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    return cfg_parse_yes_no("audit_fsync", value, &cfg->audit_fsync, why, whysz);
}

static int parse_max_depth(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    unsigned long v;
    if (cfg_parse_uint(value, CM_MAX_DEPTH_LIMIT, &v) != 0 || v == 0) {
        snprintf(why, whysz, "max_depth '%s' is not a whole number from 1 to %u", value, CM_MAX_DEPTH_LIMIT);
        return -1;
    }
    cfg->max_depth = (unsigned)v;
    return 0;
}

static int parse_max_elements(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    unsigned long v;
    if (cfg_parse_uint(value, 1000000000ul, &v) != 0 || v == 0) {
        snprintf(why, whysz, "max_elements '%s' is not a whole number from 1 to 1000000000", value);
        return -1;
    }
    cfg->max_elements = v;
    return 0;
}

/* A size from 1K to 64G. */
static int parse_max_object_size(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    if (cfg_parse_size(value, 1024, (uint64_t)64 << 30, &cfg->max_object_bytes) != 0) {
        snprintf(why, whysz, "max_object_size '%s' is not a size from 1K to 64G (digits with an optional K, M or G)",
                 value);
        return -1;
    }
    return 0;
}

static int parse_identity(cm_config *cfg, const char *value, char *why, size_t whysz)
{
    if (strcmp(value, "refuse") == 0 || strcmp(value, "allow") == 0) {
        cfg->identity_policy = value[0] == 'r' ? CM_IDENTITY_REFUSE : CM_IDENTITY_ALLOW;
        return 0;
    }
    snprintf(why, whysz, "patient_identity '%s' is not refuse or allow", value);
    return -1;
}

/* ---- the schema ---- */

struct config_key {
    const char *section;
    const char *name;
    value_parser parse;
};

static const struct config_key config_keys[] = {
    {"engine", "profile", parse_profile},
    {"engine", "threads", parse_threads},
    {"keyring", "dir", parse_keyring_dir},
    {"archive", "dir", parse_archive_dir},
    {"archive", "max_studies", cfg_parse_archive_max_studies},
    {"archive", "max_study_size", cfg_parse_archive_max_study_size},
    {"scp", "aetitle", parse_aetitle},
    {"scp", "port", parse_port},
    {"scp", "bind", cfg_parse_scp_bind},
    {"scp", "max_associations", cfg_parse_scp_max_associations},
    {"scp", "max_pdu", cfg_parse_scp_max_pdu},
    {"scp", "acse_timeout", cfg_parse_scp_acse_timeout},
    {"scp", "dimse_timeout", cfg_parse_scp_dimse_timeout},
    {"scp", "idle_timeout", cfg_parse_scp_idle_timeout},
    {"scp", "shutdown_grace", cfg_parse_scp_shutdown_grace},
    {"scp", "max_object_size", cfg_parse_scp_max_object_size},
    {"tls", "enabled", cfg_parse_tls_enabled},
    {"tls", "certificate", cfg_parse_tls_certificate},
    {"tls", "private_key", cfg_parse_tls_private_key},
    {"tls", "ca", cfg_parse_tls_ca},
    {"tls", "require_client_certificate", cfg_parse_tls_require_client},
    {"log", "level", parse_log_level},
    {"log", "audit", parse_audit},
    {"log", "audit_fsync", parse_audit_fsync},
    {"dicom", "max_depth", parse_max_depth},
    {"dicom", "max_elements", parse_max_elements},
    {"dicom", "max_object_size", parse_max_object_size},
    {"dicom", "patient_identity", parse_identity},
};
#define N_CONFIG_KEYS (sizeof config_keys / sizeof config_keys[0])

static const char *const config_sections[] = {"engine", "keyring", "archive", "scp", "tls", "log", "dicom"};
#define N_CONFIG_SECTIONS (sizeof config_sections / sizeof config_sections[0])

static int section_known(const char *section)
{
    for (size_t i = 0; i < N_CONFIG_SECTIONS; i++)
        if (strcmp(section, config_sections[i]) == 0)
            return 1;
    return 0;
}

static void list_sections(char *buf, size_t bufsz)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_CONFIG_SECTIONS && n < bufsz; i++)
        n += (size_t)snprintf(buf + n, bufsz - n, "%s[%s]", i ? ", " : "", config_sections[i]);
    if (n < bufsz)
        snprintf(buf + n, bufsz - n, ", [peer NAME]");
}

static void list_keys(const char *section, char *buf, size_t bufsz)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_CONFIG_KEYS && n < bufsz; i++)
        if (strcmp(config_keys[i].section, section) == 0)
            n += (size_t)snprintf(buf + n, bufsz - n, "%s%s", n ? ", " : "", config_keys[i].name);
}

/* ---- parsing ---- */

struct parse_state {
    cm_config *cfg;
    const char *source; /* the name in messages */
    const char *text;
    size_t len, pos;
    size_t line_start;       /* offset of the line inih is working on */
    int line;                /* its number, 1-based */
    int seen[N_CONFIG_KEYS]; /* line where each key was set, 0 = not yet */
    int section_line;        /* line of the last section header read */
    int peer_seen[CM_PEERS_MAX][CFG_PEER_KEYS]; /* the same for each [peer NAME] */
    int err_line;            /* first error found by us, 0 = none */
    char err_msg[CM_ERRMAX];
};

static void state_error(struct parse_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void state_error(struct parse_state *st, const char *fmt, ...)
{
    if (st->err_line != 0)
        return;
    st->err_line = st->line;
    int n = snprintf(st->err_msg, sizeof st->err_msg, "%s:%d: ", st->source, st->line);
    if (n < 0 || (size_t)n >= sizeof st->err_msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err_msg + n, sizeof st->err_msg - (size_t)n, fmt, ap);
    va_end(ap);
}

/* fgets()-style reader over the in-memory text.  One call = one physical line, so inih's
 * line count and ours agree; a line that does not fit inih's buffer stops the parse. */
static char *text_reader(char *str, int num, void *stream)
{
    struct parse_state *st = stream;
    if (st->err_line != 0 || st->pos >= st->len)
        return NULL;
    const char *start = st->text + st->pos;
    size_t rest = st->len - st->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t n = nl != NULL ? (size_t)(nl - start) + 1 : rest;
    size_t content = n;
    if (content > 0 && start[content - 1] == '\n')
        content--;
    if (content > 0 && start[content - 1] == '\r')
        content--;
    st->line++;
    st->line_start = st->pos;
    size_t lead = 0;
    while (lead < content && (start[lead] == ' ' || start[lead] == '\t'))
        lead++;
    if (lead < content && start[lead] == '[')
        st->section_line = st->line;
    if (num < 3 || content > (size_t)num - 3 || n > (size_t)num - 1) {
        state_error(st, "line is %zu characters long; lines may be at most %d characters", content,
                    num < 3 ? 0 : num - 3);
        return NULL;
    }
    memcpy(str, start, n);
    str[n] = '\0';
    st->pos += n;
    return str;
}

/* A key of a [peer NAME] section: a new section opens a new peer. */
static int peer_key(struct parse_state *st, const char *peer_name, const char *name, const char *value)
{
    cm_config *cfg = st->cfg;
    char why[WHY_MAX];
    if ((cfg->npeers == 0 || cfg->peers[cfg->npeers - 1].line != st->section_line) &&
        cfg_peer_begin(cfg, peer_name, st->section_line, why, sizeof why) != 0) {
        st->line = st->section_line; /* the header is what is wrong */
        state_error(st, "%s", why);
        return 0;
    }
    int k = cfg_peer_key_index(name);
    if (k < 0) {
        state_error(st, "unknown key '%s' in section [peer %s]; expected one of: %s", name, peer_name,
                    cfg_peer_key_list());
        return 0;
    }
    int *seen = st->peer_seen[cfg->npeers - 1];
    if (seen[k] != 0) {
        state_error(st, "key '%s' in section [peer %s] is set again (first on line %d); expected each key once",
                    name, peer_name, seen[k]);
        return 0;
    }
    seen[k] = st->line;
    if (cfg_peer_set(cfg, k, value, why, sizeof why) != 0) {
        state_error(st, "%s", why);
        return 0;
    }
    return 1;
}

static int ini_handler_fn(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    char list[256];
    const char *peer_name = cfg_peer_section(section);
    if (peer_name != NULL)
        return peer_key(st, peer_name, name, value);
    if (section[0] == '\0') {
        list_sections(list, sizeof list);
        state_error(st,
                    "key '%s' is outside any section; expected a section header first, one of: %s",
                    name, list);
        return 0;
    }
    if (!section_known(section)) {
        list_sections(list, sizeof list);
        state_error(st, "unknown section [%s] (key '%s'); expected one of: %s", section, name,
                    list);
        return 0;
    }
    size_t k = 0;
    while (k < N_CONFIG_KEYS && !(strcmp(config_keys[k].section, section) == 0 &&
                                  strcmp(config_keys[k].name, name) == 0))
        k++;
    if (k == N_CONFIG_KEYS) {
        list_keys(section, list, sizeof list);
        state_error(st, "unknown key '%s' in section [%s]; expected one of: %s", name, section,
                    list);
        return 0;
    }
    if (st->seen[k] != 0) {
        char c = st->text[st->line_start];
        if (c == ' ' || c == '\t')
            state_error(st,
                        "indented line continues the value of '%s' (line %d); expected "
                        "'key = value' at the start of the line",
                        name, st->seen[k]);
        else
            state_error(st,
                        "key '%s' in section [%s] is set again (first on line %d); expected "
                        "each key once",
                        name, section, st->seen[k]);
        return 0;
    }
    st->seen[k] = st->line;
    char why[WHY_MAX];
    if (config_keys[k].parse(st->cfg, value, why, sizeof why) != 0) {
        state_error(st, "%s", why);
        return 0;
    }
    return 1;
}

/* Copies line `lineno` of text (at most 60 characters) for a message. */
static void quote_line(const char *text, int lineno, char *buf, size_t bufsz)
{
    const char *p = text;
    for (int i = 1; i < lineno && p != NULL; i++) {
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    buf[0] = '\0';
    if (p == NULL)
        return;
    size_t n = strcspn(p, "\r\n");
    snprintf(buf, bufsz, "%.*s%s", (int)(n > 60 ? 60 : n), p, n > 60 ? "..." : "");
}

/* Removes "." components and doubled slashes of an absolute path, in place; ".." is kept
 * (resolving it lexically would be wrong across symbolic links). */
static void clean_abs_path(char *path)
{
    char out[CM_PATH_MAX];
    size_t n = 0;
    const char *p = path;
    while (*p != '\0') {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (!(len == 1 && p[0] == '.')) {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    memcpy(path, out, n + 1);
}

/* base = the absolute directory relative paths resolve against. */
static int base_directory(const char *file_or_null, char base[CM_PATH_MAX], cm_error *err)
{
    char cwd[CM_PATH_MAX];
    if ((file_or_null == NULL || file_or_null[0] != '/') && getcwd(cwd, sizeof cwd) == NULL)
        return cm_fail(err, CM_CFG_EIO, "cannot determine the current directory: %s",
                        strerror(errno));
    if (file_or_null == NULL) {
        memcpy(base, cwd, sizeof cwd);
        return 0;
    }
    if (file_or_null[0] == '/')
        snprintf(base, CM_PATH_MAX, "%s", file_or_null);
    else if (cfg_path_join(base, CM_PATH_MAX, cwd, file_or_null) != 0)
        return cm_fail(err, CM_CFG_EINVAL, "config file path %s/%s is longer than %d bytes", cwd,
                        file_or_null, CM_PATH_MAX - 1);
    clean_abs_path(base);
    char *slash = strrchr(base, '/');
    slash[slash == base ? 1 : 0] = '\0';
    return 0;
}

static int resolve_path(char field[CM_PATH_MAX], const char *base, const char *source,
                        const char *what, cm_error *err)
{
    if (field[0] == '\0' || field[0] == '/')
        return 0;
    char joined[CM_PATH_MAX];
    if (cfg_path_join(joined, sizeof joined, base, field) != 0)
        return cm_fail(err, CM_CFG_ESYNTAX, "%s: %s '%s' resolves to a path longer than %d bytes",
                        source, what, field, CM_PATH_MAX - 1);
    clean_abs_path(joined);
    memcpy(field, joined, sizeof joined);
    return 0;
}

/* What only the whole file can decide (config_service.c): peers complete and unique, TLS
 * files present where TLS is used. */
static int check_whole_file(struct parse_state *st, cm_error *err)
{
    int tls_lines[CM_PEERS_MAX];
    for (size_t i = 0; i < st->cfg->npeers; i++)
        tls_lines[i] = st->peer_seen[i][CFG_PEER_KEY_TLS];
    size_t tls_enabled_key = 0;
    while (tls_enabled_key < N_CONFIG_KEYS && !(strcmp(config_keys[tls_enabled_key].section, "tls") == 0 &&
                                                strcmp(config_keys[tls_enabled_key].name, "enabled") == 0))
        tls_enabled_key++;
    int line = 0;
    char why[WHY_MAX];
    if (cfg_check_service(st->cfg, st->seen[tls_enabled_key], tls_lines, &line, why, sizeof why) == 0)
        return 0;
    if (line > 0)
        return cm_fail(err, CM_CFG_ESYNTAX, "%s:%d: %s", st->source, line, why);
    return cm_fail(err, CM_CFG_ESYNTAX, "%s: %s", st->source, why);
}

/* Every relative path of cfg made absolute against the file's directory (or the cwd). */
static int resolve_paths(cm_config *cfg, const char *file_or_null, const char *source, cm_error *err)
{
    char base[CM_PATH_MAX];
    int r = base_directory(file_or_null, base, err);
    if (r == 0)
        r = resolve_path(cfg->keyring_dir, base, source, "[keyring] dir", err);
    if (r == 0)
        r = resolve_path(cfg->archive_dir, base, source, "[archive] dir", err);
    if (r == 0)
        r = resolve_path(cfg->audit_path, base, source, "[log] audit", err);
    if (r == 0)
        r = resolve_path(cfg->tls_certificate, base, source, "[tls] certificate", err);
    if (r == 0)
        r = resolve_path(cfg->tls_private_key, base, source, "[tls] private_key", err);
    if (r == 0)
        r = resolve_path(cfg->tls_ca, base, source, "[tls] ca", err);
    return r;
}

/* Parses text (NUL-terminated, len bytes) over the defaults into *cfg; source names it in
 * messages, file_or_null is the path relative paths resolve against. */
static int config_parse(cm_config *cfg, const char *text, size_t len, const char *source,
                        const char *file_or_null, cm_error *err)
{
    cm_config tmp;
    cm_config_defaults(&tmp);
    if (strlen(source) >= sizeof tmp.source)
        return cm_fail(err, CM_CFG_EINVAL, "config file path is longer than %d bytes",
                        CM_PATH_MAX - 1);
    snprintf(tmp.source, sizeof tmp.source, "%s", source);

    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        return cm_fail(err, CM_CFG_ESYNTAX, "%s:%d: NUL byte; expected a text file", source, line);
    }

    struct parse_state st;
    memset(&st, 0, sizeof st);
    st.cfg = &tmp;
    st.source = source;
    st.text = text;
    st.len = len;
    int rc = ini_parse_stream(text_reader, &st, ini_handler_fn, &st);
    if (rc < 0)
        return cm_fail(err, CM_CFG_EIO, "%s: the INI parser failed (out of memory)", source);
    if (rc > 0 && (st.err_line == 0 || rc < st.err_line)) {
        char quoted[80];
        quote_line(text, rc, quoted, sizeof quoted);
        return cm_fail(err, CM_CFG_ESYNTAX,
                        "%s:%d: cannot parse '%s'; expected '[section]', 'key = value' or a "
                        "comment starting with ';' or '#'",
                        source, rc, quoted);
    }
    if (st.err_line != 0)
        return cm_fail(err, CM_CFG_ESYNTAX, "%s", st.err_msg);
    int r = check_whole_file(&st, err);
    if (r == 0)
        r = resolve_paths(&tmp, file_or_null, source, err);
    if (r != 0)
        return r;
    *cfg = tmp;
    return 0;
}

int cm_config_load_embedded(cm_config *cfg, cm_error *err)
{
    if (cfg == NULL)
        return cm_fail(err, CM_CFG_EINVAL, "cm_config_load_embedded: cfg is NULL");
    return config_parse(cfg, cm_config_embedded_ini, strlen(cm_config_embedded_ini),
                        EMBEDDED_SOURCE, NULL, err);
}

/* Reads a config file into a NUL-terminated heap buffer. */
static int read_config_text(const char *path, char **text, size_t *len, cm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return cm_fail(err, errno == ENOENT ? CM_CFG_ENOENT : CM_CFG_EIO,
                        "cannot open config file %s: %s", path, strerror(errno));
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) != 0)
        rc = cm_fail(err, CM_CFG_EIO, "cannot stat config file %s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        rc = cm_fail(err, CM_CFG_EIO, "config file %s is not a regular file; expected an INI file",
                      path);
    else if (sb.st_mode & 022)
        rc = cm_fail(err, CM_CFG_EMODE,
                      "config file %s has mode %04o; it must not be writable by group or others "
                      "(chmod go-w %s): it chooses the key ring",
                      path, (unsigned)(sb.st_mode & 07777), path);
    else if (!cfg_owner_trusted(sb.st_uid))
        rc = cm_fail(err, CM_CFG_EMODE,
                      "config file %s belongs to uid %u; it must belong to the user running "
                      "chaosmask (uid %u) or to root: it chooses the key ring",
                      path, (unsigned)sb.st_uid, (unsigned)geteuid());
    else if (sb.st_size > CONFIG_FILE_MAX)
        rc = cm_fail(err, CM_CFG_ESYNTAX, "config file %s is %lld bytes; expected at most %d",
                      path, (long long)sb.st_size, CONFIG_FILE_MAX);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    size_t n = 0;
    if (buf == NULL) {
        close(fd);
        return cm_fail(err, CM_CFG_EIO, "cannot read config file %s: out of memory", path);
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, CONFIG_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = cm_fail(err, CM_CFG_EIO, "cannot read config file %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > CONFIG_FILE_MAX) {
            rc = cm_fail(err, CM_CFG_ESYNTAX, "config file %s is larger than %d bytes", path,
                          CONFIG_FILE_MAX);
            break;
        }
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int cm_config_load_file(cm_config *cfg, const char *path, cm_error *err)
{
    if (cfg == NULL || path == NULL || path[0] == '\0')
        return cm_fail(err, CM_CFG_EINVAL, "cm_config_load_file: %s",
                        cfg == NULL ? "cfg is NULL" : "no config file path given");
    char *text = NULL;
    size_t len = 0;
    int rc = read_config_text(path, &text, &len, err);
    if (rc != 0)
        return rc;
    rc = config_parse(cfg, text, len, path, path, err);
    free(text);
    return rc;
}
