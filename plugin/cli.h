/* cli.h - what every `chaosmask` subcommand shares: the exit codes scripts rely on, the
 * global options (--config, --keyring, -v/-d/--log-level) and the one error-reporting path. */
#ifndef CHAOSMASK_PLUGIN_CLI_H
#define CHAOSMASK_PLUGIN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes: documented in `chaosmask --help` and README.md; never renumber. */
enum {
    CM_EXIT_OK = 0,        /* success (also: object already encrypted, nothing to do) */
    CM_EXIT_FAIL = 1,      /* a check failed: self-test mismatch, round trip not exact, verify failed */
    CM_EXIT_USAGE = 2,     /* bad command line */
    CM_EXIT_CONFIG = 3,    /* configuration or key ring error (missing key, bad mode, syntax) */
    CM_EXIT_INPUT = 4,     /* input refused: not DICOM, truncated, bad geometry, unsupported layout */
    CM_EXIT_AUTH = 5,      /* authentication failed: wrong key or changed data */
    CM_EXIT_IO = 6,        /* could not write the output (nothing half-written is left) */
    CM_EXIT_INTERNAL = 7   /* out of memory or a library failure */
};

typedef struct cm_cli {
    const char *command;      /* subcommand name, for messages */
    const char *config_path;  /* --config FILE, or NULL: /etc/chaosmask/chaosmask.ini if present, else the embedded default */
    const char *keyring_dir;  /* --keyring DIR, or NULL: the config's [keyring] dir */
    int log_level;            /* CM_LOG_... of config.h; -v = info, -d = debug, default warn */
} cm_cli;

typedef int (*cm_command_fn)(cm_cli *cli, int argc, char **argv);

/* "chaosmask COMMAND: message\n" on stderr. */
void cm_cli_error(const cm_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Printed only when cli->log_level >= level. */
void cm_cli_log(const cm_cli *cli, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Loads the configuration the global options select; prints the error and returns
 * CM_EXIT_CONFIG on failure, else 0. */
int cm_cli_load_config(const cm_cli *cli, cm_config *cfg);
/* The key ring directory: --keyring, else the configuration's [keyring] dir. */
const char *cm_cli_keyring_dir(const cm_cli *cli, const cm_config *cfg);
/* Seconds on the monotonic clock, for throughput figures. */
double cm_cli_seconds(void);
/* Opens the key ring (--keyring or the config's) ; prints and returns CM_EXIT_CONFIG on failure. */
int cm_cli_open_keyring(const cm_cli *cli, const cm_config *cfg, cm_keyring *kr);
/* Loads key `id` (NULL = the active key) into key and its id into id_out (CM_KEYID_MAX bytes). */
int cm_cli_load_key(const cm_cli *cli, const cm_keyring *kr, const char *id, uint8_t key[32], char *id_out);

struct option;
/* getopt_long accepts any unambiguous abbreviation ("--in" for "--in-place"): refuses every
 * long option that is not spelled out in full, before the command parses.  0, or prints the
 * error and returns CM_EXIT_USAGE. */
int cm_cli_exact_options(const cm_cli *cli, int argc, char **argv, const struct option *opts);

/* Number of online CPUs (at least 1): the meaning of "threads = 0". */
unsigned cm_cli_cpu_count(void);
/* The config's thread count with 0 resolved to every core. */
unsigned cm_cli_threads(const cm_config *cfg);

/* Parses a non-negative size with an optional K/M/G (binary) suffix; 0 on success. */
int cm_cli_parse_size(const char *text, uint64_t *out);
/* Decodes exactly len bytes of hex; 0 on success. */
int cm_cli_parse_hex(const char *text, uint8_t *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
