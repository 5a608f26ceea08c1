/*
 * cli.h - the `chaosmask` command: its subcommands, `help CMD`, and a --help generated from
 * one description of each command (its options, the global options and the rows of the one
 * exit-code table it can return).  The dialect itself (option parsing, global options) is
 * the application layer's (app_cmdline.h), shared with chaosmask-scp.
 */
#ifndef CHAOSMASK_CLI_H
#define CHAOSMASK_CLI_H

#include <stdio.h>

#include "chaosmask/app.h"
#include "chaosmask/app_cmdline.h"

#ifdef __cplusplus
extern "C" {
#endif

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
/* The profile option (or the configuration's), with the research warning for `lorenz`. */
int cm_cl_profile(cm_app *app, const cm_cmdline *cl, int key, int *profile);

/* Printed per file unless -q: "FILE: what happened". */
void cm_cl_result(const cm_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
