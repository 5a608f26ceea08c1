/*
 * app_cmdline.h - the command-line dialect every ChaosMask program speaks (the `chaosmask`
 * command, the `chaosmask-scp` service): getopt_long everywhere (--opt=value and --opt value),
 * DCMTK's conventions where they apply (-q, -v, -d, -ll/--log-level, --config), long options
 * spelled out in full, and help text generated from one description of the options and of
 * the rows of the one exit-code table (app_outcome.h) a program can return.
 *
 * The global options (--config, --keyring, -q, -v, -d, --log-level, --help) are applied to
 * the cm_app directly; a program's own options are collected in a cm_cmdline.
 */
#ifndef CHAOSMASK_APP_CMDLINE_H
#define CHAOSMASK_APP_CMDLINE_H

#include <stdint.h>
#include <stdio.h>

#include "chaosmask/app.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One option.  key: the short option letter, or a value from 256 up for a long-only option
 * (keys from CM_OPT_GLOBAL_BASE up belong to the global options). */
typedef struct cm_optdef {
    const char *name; /* long name, without "--" */
    int key;
    const char *arg;  /* placeholder of the value ("FILE"), NULL for a flag */
    const char *help;
} cm_optdef;

#define CM_OPT_END {NULL, 0, NULL, NULL}
/* An exit code in a program's or command's `exits` mask (0 and 2 are always listed). */
#define CM_X(code) (1u << (code))

/* Keys of the global options: far above any program's own long-only keys. */
enum {
    CM_OPT_GLOBAL_BASE = 0x10000,
    CM_OPT_CONFIG = CM_OPT_GLOBAL_BASE,
    CM_OPT_KEYRING,
    CM_OPT_LOG_LEVEL,
    CM_OPT_VERSION,
    CM_OPT_HELP = 'h'
};

/* The global options, for help texts. */
const cm_optdef *cm_cmdline_global_options(void);

#define CM_MAX_OPTS 64

struct cm_command;

/* What the parser found: the program's options in order, then the other arguments. */
typedef struct cm_cmdline {
    const struct cm_command *cmd; /* the `chaosmask` subcommand being parsed, or NULL */
    int nopts;
    struct {
        int key;
        const char *value;
    } opts[CM_MAX_OPTS];
    int argc; /* arguments that are not options */
    char **argv;
} cm_cmdline;

/* How parse errors point to the help: e.g. "see chaosmask help encrypt", "see chaosmask-scp --help". */
typedef struct cm_cmdline_spec {
    const cm_optdef *options; /* the program's (or command's) own options, NULL for none */
    int stop_at_first;        /* stop at the first non-option argument (a subcommand follows) */
    int accept_version;       /* --version is an option here */
    const char *help_hint;    /* "chaosmask help encrypt" */
} cm_cmdline_spec;

/* Parses argv: global options go to app, the others to cl.  *help and *version are set when
 * given.  Returns 0, or an exit code (CM_OUT_USAGE) after printing the error with cm_app_say. */
int cm_cmdline_parse(cm_app *app, int argc, char **argv, const cm_cmdline_spec *spec, cm_cmdline *cl, int *help,
                     int *version);

/* DCMTK spells the log level -ll; getopt cannot take a two-letter short option.  Rewrites
 * "-ll" to "--log-level" in place (before "--"). */
void cm_cmdline_translate_dcmtk(int argc, char **argv);

/* The last value given for key, or NULL; 1 when the flag key was given. */
const char *cm_cl_value(const cm_cmdline *cl, int key);
int cm_cl_flag(const cm_cmdline *cl, int key);

/* "  -c, --name ARG   help" lines; the exit codes of mask (0 and 2 always). */
void cm_cmdline_print_options(FILE *f, const cm_optdef *opts);
void cm_cmdline_print_exits(FILE *f, unsigned mask);

/* "PROGRAM VERSION (object format N, engine format M; OpenSSL ...)" on stdout. */
void cm_cmdline_print_version(const char *program);

/* A size with an optional K/M/G (binary) suffix; 0 on success. */
int cm_parse_size(const char *text, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
