/* cli.c - the command-line dialect (cli.h): parsing, help generation, dispatch. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "chaosmask/app_file.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/dicom.h"
#include "cli.h"

enum { OPT_CONFIG = 256, OPT_KEYRING, OPT_LOG_LEVEL, OPT_VERSION, OPT_HELP = 'h' };

static const cm_optdef GLOBAL_OPTIONS[] = {
    {"config", OPT_CONFIG, "FILE",
     "configuration file (default: " "the installed chaosmask.ini if it exists, else the built-in default)"},
    {"keyring", OPT_KEYRING, "DIR", "key ring directory (default: the configuration's [keyring] dir)"},
    {"quiet", 'q', NULL, "print errors only (log level error), no per-file lines"},
    {"verbose", 'v', NULL, "log level info"},
    {"debug", 'd', NULL, "log level debug"},
    {"log-level", OPT_LOG_LEVEL, "LEVEL", "fatal, error, warn, info, debug or trace (also -ll LEVEL)"},
    {"help", OPT_HELP, NULL, "print this help and exit"},
    CM_OPT_END,
};

const char *cm_cl_value(const cm_cmdline *cl, int key)
{
    for (int i = cl->nopts; i-- > 0;)
        if (cl->opts[i].key == key)
            return cl->opts[i].value;
    return NULL;
}

int cm_cl_flag(const cm_cmdline *cl, int key)
{
    for (int i = 0; i < cl->nopts; i++)
        if (cl->opts[i].key == key)
            return 1;
    return 0;
}

/* ---- help ---- */

static void print_options(FILE *f, const cm_optdef *opts)
{
    for (const cm_optdef *o = opts; o->name != NULL; o++) {
        char head[64];
        int n;
        if (o->key == OPT_LOG_LEVEL)
            n = snprintf(head, sizeof head, "-ll, --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else if (o->key < 256)
            n = snprintf(head, sizeof head, "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else
            n = snprintf(head, sizeof head, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-26s%s%s\n", head, n > 26 ? "\n                            " : "", o->help);
    }
}

static void print_exits(FILE *f, unsigned mask)
{
    const cm_exit_row *t = cm_exit_table();
    mask |= CM_X(CM_OUT_OK) | CM_X(CM_OUT_USAGE);
    fprintf(f, "exit codes:\n");
    for (int c = 0; c < CM_OUT_COUNT; c++)
        if (mask & (1u << c))
            fprintf(f, "  %2d  %s\n", t[c].code, t[c].meaning);
}

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
        print_options(f, cmd->options);
    }
    fprintf(f, "\nglobal options (before or after the command):\n");
    print_options(f, GLOBAL_OPTIONS);
    fputc('\n', f);
    print_exits(f, cmd->exits);
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
    print_options(f, GLOBAL_OPTIONS);
    fprintf(f, "    --version                 print the version and exit\n\n");
    unsigned all = 0;
    for (size_t i = 0; i < n; i++)
        all |= cmds[i]->exits;
    print_exits(f, all);
}

/* ---- parsing ---- */

/* getopt_long's table and short-option string for the command's options plus the globals. */
typedef struct parse_table {
    struct option longs[2 * CM_MAX_OPTS];
    char shorts[3 * CM_MAX_OPTS + 2];
} parse_table;

static void add_defs(parse_table *t, size_t *nl, size_t *ns, const cm_optdef *defs)
{
    for (const cm_optdef *o = defs; o != NULL && o->name != NULL; o++) {
        t->longs[(*nl)++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
        if (o->key < 256) {
            t->shorts[(*ns)++] = (char)o->key;
            if (o->arg)
                t->shorts[(*ns)++] = ':';
        }
    }
}

static void build_table(parse_table *t, const cm_optdef *cmd_opts, int stop_at_first)
{
    size_t nl = 0, ns = 0;
    memset(t, 0, sizeof *t);
    t->shorts[ns++] = stop_at_first ? '+' : ':';
    if (stop_at_first)
        t->shorts[ns++] = ':';
    add_defs(t, &nl, &ns, GLOBAL_OPTIONS);
    add_defs(t, &nl, &ns, cmd_opts);
    if (stop_at_first)
        t->longs[nl++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
}

/* getopt_long takes any unambiguous abbreviation ("--in" for "--in-place"); a script that
 * relies on one breaks when an option is added.  Every long option must be spelled out. */
static int check_spelling(cm_app *app, int argc, char **argv, const struct option *longs)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) != 0)
            continue;
        size_t len = strcspn(a + 2, "=");
        int known = 0;
        for (const struct option *o = longs; o->name != NULL && !known; o++)
            known = strlen(o->name) == len && strncmp(o->name, a + 2, len) == 0;
        if (!known) {
            cm_app_say(app, "unknown option '%.*s' (options are spelled out in full; see chaosmask help%s%s)",
                       (int)(len + 2), a, app->command ? " " : "", app->command ? app->command : "");
            return CM_OUT_USAGE;
        }
    }
    return 0;
}

/* Applies a global option; 0, or an exit code. */
static int apply_global(cm_app *app, int key, const char *value)
{
    switch (key) {
    case OPT_CONFIG: app->config_path = value; return 0;
    case OPT_KEYRING: app->keyring_dir = value; return 0;
    case 'q': app->log_override = CM_LOG_ERROR; return 0;
    case 'v': app->log_override = CM_LOG_INFO; return 0;
    case 'd': app->log_override = CM_LOG_DEBUG; return 0;
    case OPT_LOG_LEVEL:
        if ((app->log_override = cm_log_level_from_name(value)) < 0) {
            cm_app_say(app, "--log-level '%s' is not one of fatal, error, warn, info, debug, trace", value);
            return CM_OUT_USAGE;
        }
        return 0;
    default: return -1; /* not a global option */
    }
}

/* Runs getopt_long over argv; options go to cl (or, global ones, to app). */
static int parse(cm_app *app, int argc, char **argv, const cm_optdef *cmd_opts, int stop_at_first,
                 cm_cmdline *cl, int *help, int *version)
{
    parse_table t;
    build_table(&t, cmd_opts, stop_at_first);
    int rc = 0;
    optind = 0; /* 0, not 1: glibc then forgets the permutation state of an earlier parse */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, t.shorts, t.longs, NULL)) != -1) {
        if (c == '?' || c == ':') {
            char shortname[3] = {'-', (char)optopt, '\0'};
            const char *what = optopt > 0 && optopt < 256 ? shortname : argv[optind - 1];
            cm_app_say(app, c == ':' ? "option '%s' needs a value" : "unknown option '%s' (see chaosmask help%s%s)",
                       what, app->command ? " " : "", app->command ? app->command : "");
            return CM_OUT_USAGE;
        }
        if (c == OPT_HELP) {
            *help = 1;
            continue;
        }
        if (c == OPT_VERSION) {
            *version = 1;
            continue;
        }
        rc = apply_global(app, c, optarg);
        if (rc > 0)
            return rc;
        if (rc < 0) {
            if (cl->nopts == CM_MAX_OPTS) {
                cm_app_say(app, "too many options");
                return CM_OUT_USAGE;
            }
            cl->opts[cl->nopts].key = c;
            cl->opts[cl->nopts++].value = optarg;
        }
    }
    /* spelling checked over what getopt took: before the command in the first pass */
    if ((rc = check_spelling(app, stop_at_first ? optind : argc, argv, t.longs)) != 0)
        return rc;
    cl->argc = argc - optind;
    cl->argv = argv + optind;
    return 0;
}

/* DCMTK spells the log level -ll; getopt cannot take a two-letter short option. */
static void translate_dcmtk_spellings(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-ll") == 0)
            argv[i] = (char *)"--log-level";
}

static void print_version(void)
{
    printf("chaosmask %s (object format %u, engine format %u; %s)\n", CM_VERSION_STRING, CM_DICOM_BLOCK_VERSION,
           CM_FORMAT_VERSION, OpenSSL_version(OPENSSL_VERSION));
}

static int run_command(cm_app *app, const cm_command *cmd, int argc, char **argv)
{
    cm_cmdline cl;
    memset(&cl, 0, sizeof cl);
    cl.cmd = cmd;
    int help = 0, version = 0;
    app->command = cmd->name;
    int rc = parse(app, argc, argv, cmd->options, 0, &cl, &help, &version);
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
    translate_dcmtk_spellings(argc, argv);
    cm_app app;
    cm_app_init(&app, "chaosmask");
    cm_cmdline globals;
    memset(&globals, 0, sizeof globals);
    int help = 0, version = 0;
    int rc = parse(&app, argc, argv, NULL, 1, &globals, &help, &version);
    if (rc != 0)
        return rc;
    if (version) {
        print_version();
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

int cm_parse_size(const char *text, uint64_t *out)
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
