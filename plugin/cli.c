/* cli.c - the shared plumbing of the chaosmask subcommands: messages, configuration and key
 * ring loading with the global options applied, and argument parsers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

#define INSTALLED_CONFIG "/etc/chaosmask/chaosmask.ini"

void cm_cli_error(const cm_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chaosmask %s: ", cli && cli->command ? cli->command : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cm_cli_log(const cm_cli *cli, int level, const char *fmt, ...)
{
    if (cli == NULL || cli->log_level < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chaosmask %s: %s: ", cli->command ? cli->command : "", cm_log_level_name(level));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cm_cli_load_config(const cm_cli *cli, cm_config *cfg)
{
    cm_error err = {{0}};
    int rc;
    struct stat st;
    if (cli->config_path != NULL)
        rc = cm_config_load_file(cfg, cli->config_path, &err);
    else if (stat(INSTALLED_CONFIG, &st) == 0 || errno != ENOENT)
        rc = cm_config_load_file(cfg, INSTALLED_CONFIG, &err); /* unreadable: say so, no silent fallback */
    else
        rc = cm_config_load_embedded(cfg, &err);
    if (rc != 0) {
        cm_cli_error(cli, "%s", err.msg);
        return CM_EXIT_CONFIG;
    }
    cm_cli_log(cli, CM_LOG_DEBUG, "configuration from %s", cfg->source);
    return 0;
}

const char *cm_cli_keyring_dir(const cm_cli *cli, const cm_config *cfg)
{
    return cli->keyring_dir != NULL ? cli->keyring_dir : cfg->keyring_dir;
}

double cm_cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cm_cli_open_keyring(const cm_cli *cli, const cm_config *cfg, cm_keyring *kr)
{
    cm_error err = {{0}};
    if (cm_keyring_open(kr, cm_cli_keyring_dir(cli, cfg), &err) != 0) {
        cm_cli_error(cli, "%s", err.msg);
        return CM_EXIT_CONFIG;
    }
    return 0;
}

int cm_cli_load_key(const cm_cli *cli, const cm_keyring *kr, const char *id, uint8_t key[32], char *id_out)
{
    cm_error err = {{0}};
    if (id == NULL) {
        if (kr->active_id[0] == '\0') {
            cm_cli_error(cli, "key ring %s has no active key; create one with: chaosmask keygen --keyring %s",
                         kr->dir, kr->dir);
            return CM_EXIT_CONFIG;
        }
        id = kr->active_id;
    }
    if (cm_keyring_load_key(kr, id, key, &err) != 0) {
        cm_cli_error(cli, "%s", err.msg);
        return CM_EXIT_CONFIG;
    }
    if (id_out != NULL)
        snprintf(id_out, CM_KEYID_MAX, "%s", id);
    return 0;
}

unsigned cm_cli_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

unsigned cm_cli_threads(const cm_config *cfg)
{
    return cfg->threads == 0 ? cm_cli_cpu_count() : cfg->threads;
}

int cm_cli_parse_size(const char *text, uint64_t *out)
{
    if (text == NULL || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0)
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (*end != '\0' || (shift && v > (~0ull >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int cm_cli_parse_hex(const char *text, uint8_t *out, size_t len)
{
    long n = 0;
    if (text == NULL || strlen(text) != 2 * len)
        return -1;
    unsigned char *buf = OPENSSL_hexstr2buf(text, &n);
    if (buf == NULL || (size_t)n != len) {
        OPENSSL_free(buf);
        return -1;
    }
    memcpy(out, buf, len);
    OPENSSL_clear_free(buf, (size_t)n);
    return 0;
}

int cm_cli_exact_options(const cm_cli *cli, int argc, char **argv, const struct option *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) != 0)
            continue;
        size_t len = strcspn(a + 2, "=");
        int known = 0;
        for (const struct option *o = opts; o->name != NULL && !known; o++)
            known = strlen(o->name) == len && strncmp(o->name, a + 2, len) == 0;
        if (!known) {
            cm_cli_error(cli, "unknown option '%.*s' (options must be spelled out in full; see --help)",
                         (int)(len + 2), a);
            return CM_EXIT_USAGE;
        }
    }
    return 0;
}
