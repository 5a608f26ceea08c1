/* main.c - the `chaosmask` command: global options, the subcommand table, --help, --version. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

#define CM_COMMAND(name, fn, summary) int fn(cm_cli *cli, int argc, char **argv);
#include "commands.def"
#undef CM_COMMAND

typedef struct command {
    const char *name;
    cm_command_fn fn;
    const char *summary;
} command;

static const command COMMANDS[] = {
#define CM_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef CM_COMMAND
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: chaosmask [--config FILE] [--keyring DIR] [-v|-d|--log-level L] COMMAND [ARGS]\n"
               "       chaosmask COMMAND --help | chaosmask --help | chaosmask --version\n\n"
               "ChaosMask protects the pixel data of DICOM images at rest with chaotic (Lorenz) masking.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nglobal options (accepted before or after COMMAND):\n"
               "  --config FILE     configuration file (default: /etc/chaosmask/chaosmask.ini if it\n"
               "                    exists, else the built-in default, config/chaosmask.ini)\n"
               "  --keyring DIR     key ring directory (default: the configuration's [keyring] dir)\n"
               "  -v, --verbose     log at info level;  -d, --debug  log at debug level\n"
               "  --log-level L     fatal, error, warn, info, debug or trace\n\n"
               "exit codes:\n"
               "  0  success (also: object already encrypted, nothing to do)\n"
               "  1  a check failed (self-test, round trip)\n"
               "  2  bad command line\n"
               "  3  configuration or key ring error\n"
               "  4  input refused (not DICOM, truncated, bad geometry, unsupported layout)\n"
               "  5  authentication failed (wrong key or changed data)\n"
               "  6  could not write the output (nothing half-written is left)\n"
               "  7  internal error (out of memory, library failure)\n");
}

int main(int argc, char **argv)
{
    /* a reader that closes the pipe early (head, ent) makes a write fail: exit 6, not SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    cm_cli cli = {.command = NULL, .log_level = CM_LOG_WARN};
    /* Take the global options out wherever they stand; the rest goes to the command. */
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--config") == 0 || strcmp(a, "--keyring") == 0 || strcmp(a, "--log-level") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "chaosmask: %s needs a value\n", a);
                return CM_EXIT_USAGE;
            }
            const char *v = argv[++i];
            if (a[2] == 'c')
                cli.config_path = v;
            else if (a[2] == 'k')
                cli.keyring_dir = v;
            else if ((cli.log_level = cm_log_level_from_name(v)) < 0) {
                fprintf(stderr, "chaosmask: --log-level '%s' is not one of fatal, error, warn, info, debug, trace\n", v);
                return CM_EXIT_USAGE;
            }
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            cli.log_level = CM_LOG_INFO;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
            cli.log_level = CM_LOG_DEBUG;
        } else {
            argv[++n] = argv[i];
        }
    }
    argc = n + 1;
    argv[argc] = NULL;
    if (argc < 2) {
        usage(stderr);
        return CM_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CM_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("chaosmask %s (object format %u; %s)\n", CM_VERSION_STRING, CM_FORMAT_VERSION,
               OpenSSL_version(OPENSSL_VERSION));
        return CM_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], COMMANDS[i].name) == 0) {
            cli.command = COMMANDS[i].name;
            return COMMANDS[i].fn(&cli, argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "chaosmask: unknown command '%s' (chaosmask --help lists them)\n", argv[1]);
    return CM_EXIT_USAGE;
}
