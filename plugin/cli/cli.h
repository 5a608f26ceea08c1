/*
 * cli.h - the command-line dialect of the `chaosmask` command, shared by every subcommand:
 * getopt_long everywhere (--opt=value and --opt value), DCMTK's conventions where they apply
 * (-q, -v, -d, -ll/--log-level, --config), long options spelled out in full, `help CMD`,
 * and a --help generated from one description of the command: its options, the global
 * options and the rows of the one exit-code table that the command can return.
 */
#ifndef CHAOSMASK_CLI_H
#define CHAOSMASK_CLI_H

#include <stdio.h>

#include "chaosmask/app.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One option.  key: the short option letter, or a value >= 256 for a long-only option. */
typedef struct cm_optdef {
    const char *name; /* long name, without "--" */
    int key;
    const char *arg;  /* placeholder of the value ("FILE"), NULL for a flag */
    const char *help;
} cm_optdef;

#define CM_OPT_END {NULL, 0, NULL, NULL}
/* An exit code in a command's `exits` mask (0 and 2 are always listed). */
#define CM_X(code) (1u << (code))

struct cm_cmdline;

typedef struct cm_command {
    const char *name;
    const char *summary;     /* one line in `chaosmask --help` */
    const char *usage;       /* the argument part of each usage line, '\n' between lines */
    const char *description; /* what it does, wrapped at 92 columns */
    const cm_optdef *options;
    unsigned exits;          /* CM_X(code) | ... for every other exit code it can return */
    int (*run)(cm_app *app, struct cm_cmdline *cl);
} cm_command;

#define CM_MAX_OPTS 64

/* What the parser found: the options in order, then the other arguments. */
typedef struct cm_cmdline {
    const cm_command *cmd;
    int nopts;
    struct {
        int key;
        const char *value;
    } opts[CM_MAX_OPTS];
    int argc;       /* arguments that are not options */
    char **argv;
} cm_cmdline;

/* The last value given for key, or NULL. */
const char *cm_cl_value(const cm_cmdline *cl, int key);
/* 1 when the flag key was given. */
int cm_cl_flag(const cm_cmdline *cl, int key);

/* Every command, and the one named name (NULL when unknown). */
const cm_command *const *cm_commands(size_t *count);
const cm_command *cm_command_find(const char *name);

/* The help of a command (usage, description, options, global options, exit codes). */
void cm_command_help(FILE *f, const cm_command *cmd);
/* The help of the program: usage, commands, global options, exit codes. */
void cm_program_help(FILE *f);

/* The whole command line: global options, command, its options and arguments.  Returns the
 * exit code. */
int cm_cli_main(int argc, char **argv);

/* Shared argument checks, each printing its error (exit code 2 returned). */
int cm_cl_no_args(cm_app *app, const cm_cmdline *cl);
int cm_cl_size(cm_app *app, const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* Decodes exactly len bytes of hex; 0 on success. */
int cm_parse_hex(const char *text, uint8_t *out, size_t len);
/* A size with an optional K/M/G (binary) suffix; 0 on success. */
int cm_parse_size(const char *text, uint64_t *out);
/* The profile option (or the configuration's), with the research warning for `lorenz`. */
int cm_cl_profile(cm_app *app, const cm_cmdline *cl, int key, int *profile);

/* Printed per file unless -q: "FILE: what happened". */
void cm_cl_result(const cm_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
