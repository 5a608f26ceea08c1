/* cli.c - the command-line dialect (cli.h): parsing, help generation, dispatch. */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "chaosmask/app_file.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/dicom.h"
#include "cli.h"

void cm_command_help(FILE *f, const cm_command *cmd)
{
    const char *u = cmd->usage;
    for (int first = 1; u != NULL; first = 0) {
        const char *nl = strchr(u, '\n');
        int len = nl ? (int)(nl - u) : (int)strlen(u);
        fprintf(f, "%s chaosmask %s %.*s\n", first ? "usage:" : "      ", cmd->name, len, u);
        u = nl ? nl + 1 : NULL;
    }
    fprintf(f, "\n%s\n", cmd->description);
    if (cmd->options != NULL && cmd->options[0].name != NULL) {
        fprintf(f, "\noptions:\n");
        cm_cmdline_print_options(f, cmd->options);
    }
    fprintf(f, "\nglobal options (before or after the command):\n");
    cm_cmdline_print_options(f, cm_cmdline_global_options());
    fputc('\n', f);
    cm_cmdline_print_exits(f, cmd->exits);
}

void cm_program_help(FILE *f)
{
    fprintf(f, "usage: chaosmask [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
               "       chaosmask help [COMMAND] | chaosmask --version\n\n"
               "ChaosMask protects the pixel data of DICOM images at rest with chaotic (Lorenz) masking.\n\n"
               "commands:\n");
    size_t n;
    const cm_command *const *cmds = cm_commands(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
    fprintf(f, "  %-10s %s\n", "help", "print the help of a command");
    fprintf(f, "\nglobal options:\n");
    cm_cmdline_print_options(f, cm_cmdline_global_options());
    fprintf(f, "    --version                 print the version and exit\n\n");
    unsigned all = 0;
    for (size_t i = 0; i < n; i++)
        all |= cmds[i]->exits;
    cm_cmdline_print_exits(f, all);
}

/* ---- parsing ---- */

/* "chaosmask help" or "chaosmask help CMD": where a parse error points. */
static const char *help_hint(const cm_app *app, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "chaosmask help%s%s", app->command ? " " : "", app->command ? app->command : "");
    return buf;
}

static int run_command(cm_app *app, const cm_command *cmd, int argc, char **argv)
{
    cm_cmdline cl;
    memset(&cl, 0, sizeof cl);
    cl.cmd = cmd;
    int help = 0, version = 0;
    app->command = cmd->name;
    char hint[64];
    cm_cmdline_spec spec = {cmd->options, 0, 0, help_hint(app, hint, sizeof hint)};
    int rc = cm_cmdline_parse(app, argc, argv, &spec, &cl, &help, &version);
    if (rc != 0)
        return rc;
    if (help) {
        cm_command_help(stdout, cmd);
        return CM_OUT_OK;
    }
    cm_error err = {0, ""};
    if (cm_app_load_config(app, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(err.code);
    }
    return cmd->run(app, &cl);
}

static int help_command(const char *name)
{
    if (name == NULL) {
        cm_program_help(stdout);
        return CM_OUT_OK;
    }
    const cm_command *cmd = cm_command_find(name);
    if (cmd == NULL) {
        fprintf(stderr, "chaosmask help: unknown command '%s' (chaosmask help lists them)\n", name);
        return CM_OUT_USAGE;
    }
    cm_command_help(stdout, cmd);
    return CM_OUT_OK;
}

int cm_cli_main(int argc, char **argv)
{
    /* a reader that closes the pipe early (head, ent) makes a write fail: an error, not SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    cm_atomic_cleanup_on_signals();
    cm_cmdline_translate_dcmtk(argc, argv);
    cm_app app;
    cm_app_init(&app, "chaosmask");
    cm_cmdline globals;
    memset(&globals, 0, sizeof globals);
    int help = 0, version = 0;
    cm_cmdline_spec spec = {NULL, 1, 1, "chaosmask help"};
    int rc = cm_cmdline_parse(&app, argc, argv, &spec, &globals, &help, &version);
    if (rc != 0)
        return rc;
    if (version) {
        cm_cmdline_print_version("chaosmask");
        return CM_OUT_OK;
    }
    if (globals.argc == 0) {
        cm_program_help(help ? stdout : stderr);
        return help ? CM_OUT_OK : CM_OUT_USAGE;
    }
    const char *name = globals.argv[0];
    if (strcmp(name, "help") == 0)
        return help_command(globals.argc > 1 ? globals.argv[1] : NULL);
    const cm_command *cmd = cm_command_find(name);
    if (cmd == NULL) {
        fprintf(stderr, "chaosmask: unknown command '%s' (chaosmask help lists them)\n", name);
        return CM_OUT_USAGE;
    }
    if (help) {
        cm_command_help(stdout, cmd);
        return CM_OUT_OK;
    }
    rc = run_command(&app, cmd, globals.argc, globals.argv);
    fflush(stdout);
    cm_app_close(&app);
    return rc;
}

/* ---- shared argument helpers ---- */

int cm_cl_no_args(cm_app *app, const cm_cmdline *cl)
{
    if (cl->argc == 0)
        return 0;
    cm_app_say(app, "unexpected argument '%s' (see chaosmask help %s)", cl->argv[0], cl->cmd->name);
    return CM_OUT_USAGE;
}

int cm_cl_size(cm_app *app, const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (cm_parse_size(text, out) == 0 && *out >= min && *out <= max)
        return 0;
    cm_app_say(app, "%s '%s' must be a number from %llu to %llu (K, M, G suffixes allowed)", opt, text,
               (unsigned long long)min, (unsigned long long)max);
    return CM_OUT_USAGE;
}

int cm_parse_hex(const char *text, uint8_t *out, size_t len)
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

int cm_cl_profile(cm_app *app, const cm_cmdline *cl, int key, int *profile)
{
    const char *name = cm_cl_value(cl, key);
    *profile = app->cfg.profile;
    if (name != NULL) {
        cm_error err = {0, ""};
        if (cm_app_parse_profile(name, profile, &err) != 0) {
            cm_app_say(app, "--profile: %s", err.msg);
            return CM_OUT_USAGE;
        }
    }
    if (*profile == CM_PROFILE_LORENZ)
        cm_app_log(app, CM_LOG_WARN,
                   "profile lorenz is for research: use lorenz-chacha20 (the default) for patient data");
    return 0;
}

void cm_cl_result(const cm_app *app, const char *fmt, ...)
{
    if (cm_app_log_level(app) < CM_LOG_WARN)
        return; /* -q */
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}
