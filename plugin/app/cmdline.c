/* cmdline.c - the command-line dialect of every ChaosMask program (app_cmdline.h): option
 * parsing with getopt_long, the global options, help and version lines. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "chaosmask/app_cmdline.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/dicom.h"

static const cm_optdef GLOBAL_OPTIONS[] = {
    {"config", CM_OPT_CONFIG, "FILE",
     "configuration file (default: the installed chaosmask.ini if it exists, else the built-in default)"},
    {"keyring", CM_OPT_KEYRING, "DIR", "key ring directory (default: the configuration's [keyring] dir)"},
    {"quiet", 'q', NULL, "print errors only (log level error), no per-file lines"},
    {"verbose", 'v', NULL, "log level info"},
    {"debug", 'd', NULL, "log level debug"},
    {"log-level", CM_OPT_LOG_LEVEL, "LEVEL", "fatal, error, warn, info, debug or trace (also -ll LEVEL)"},
    {"help", CM_OPT_HELP, NULL, "print this help and exit"},
    CM_OPT_END,
};

const cm_optdef *cm_cmdline_global_options(void)
{
    return GLOBAL_OPTIONS;
}

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

void cm_cmdline_print_options(FILE *f, const cm_optdef *opts)
{
    for (const cm_optdef *o = opts; o->name != NULL; o++) {
        char head[64];
        int n;
        const char *sp = o->arg ? " " : "", *arg = o->arg ? o->arg : "";
        if (o->key == CM_OPT_LOG_LEVEL)
            n = snprintf(head, sizeof head, "-ll, --%s%s%s", o->name, sp, arg);
        else if (o->key < 256)
            n = snprintf(head, sizeof head, "-%c, --%s%s%s", o->key, o->name, sp, arg);
        else
            n = snprintf(head, sizeof head, "    --%s%s%s", o->name, sp, arg);
        fprintf(f, "  %-26s%s%s\n", head, n > 26 ? "\n                            " : "", o->help);
    }
}

void cm_cmdline_print_exits(FILE *f, unsigned mask)
{
    const cm_exit_row *t = cm_exit_table();
    mask |= CM_X(CM_OUT_OK) | CM_X(CM_OUT_USAGE);
    fprintf(f, "exit codes:\n");
    for (int c = 0; c < CM_OUT_COUNT; c++)
        if (mask & (1u << c))
            fprintf(f, "  %2d  %s\n", t[c].code, t[c].meaning);
}

void cm_cmdline_print_version(const char *program)
{
    printf("%s %s (object format %u, engine format %u; %s)\n", program, CM_VERSION_STRING, CM_DICOM_BLOCK_VERSION,
           CM_FORMAT_VERSION, OpenSSL_version(OPENSSL_VERSION));
}

/* ---- parsing ---- */

/* getopt_long's table and short-option string for the program's options plus the globals. */
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

static void build_table(parse_table *t, const cm_cmdline_spec *spec)
{
    size_t nl = 0, ns = 0;
    memset(t, 0, sizeof *t);
    t->shorts[ns++] = spec->stop_at_first ? '+' : ':';
    if (spec->stop_at_first)
        t->shorts[ns++] = ':';
    add_defs(t, &nl, &ns, GLOBAL_OPTIONS);
    add_defs(t, &nl, &ns, spec->options);
    if (spec->accept_version)
        t->longs[nl++] = (struct option){"version", no_argument, NULL, CM_OPT_VERSION};
}

/* getopt_long takes any unambiguous abbreviation ("--in" for "--in-place"); a script that
 * relies on one breaks when an option is added.  Every long option must be spelled out. */
static int check_spelling(cm_app *app, int argc, char **argv, const struct option *longs, const char *hint)
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
            cm_app_say(app, "unknown option '%.*s' (options are spelled out in full; see %s)", (int)(len + 2), a,
                       hint);
            return CM_OUT_USAGE;
        }
    }
    return 0;
}

/* Applies a global option; 0, an exit code, or -1 when key is not a global option. */
static int apply_global(cm_app *app, int key, const char *value)
{
    switch (key) {
    case CM_OPT_CONFIG: app->config_path = value; return 0;
    case CM_OPT_KEYRING: app->keyring_dir = value; return 0;
    case 'q': app->log_override = CM_LOG_ERROR; return 0;
    case 'v': app->log_override = CM_LOG_INFO; return 0;
    case 'd': app->log_override = CM_LOG_DEBUG; return 0;
    case CM_OPT_LOG_LEVEL:
        if ((app->log_override = cm_log_level_from_name(value)) < 0) {
            cm_app_say(app, "--log-level '%s' is not one of fatal, error, warn, info, debug, trace", value);
            return CM_OUT_USAGE;
        }
        return 0;
    default: return -1;
    }
}

/* One option getopt returned: to help, version, the app (a global one) or cl.  0 or an exit code. */
static int take_option(cm_app *app, int c, cm_cmdline *cl, int *help, int *version)
{
    if (c == CM_OPT_HELP) {
        *help = 1;
        return 0;
    }
    if (c == CM_OPT_VERSION) {
        *version = 1;
        return 0;
    }
    int rc = apply_global(app, c, optarg);
    if (rc >= 0)
        return rc;
    if (cl->nopts == CM_MAX_OPTS) {
        cm_app_say(app, "too many options");
        return CM_OUT_USAGE;
    }
    cl->opts[cl->nopts].key = c;
    cl->opts[cl->nopts++].value = optarg;
    return 0;
}

int cm_cmdline_parse(cm_app *app, int argc, char **argv, const cm_cmdline_spec *spec, cm_cmdline *cl, int *help,
                     int *version)
{
    parse_table t;
    build_table(&t, spec);
    optind = 0; /* 0, not 1: glibc then forgets the permutation state of an earlier parse */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, t.shorts, t.longs, NULL)) != -1) {
        if (c == '?' || c == ':') {
            char shortname[3] = {'-', (char)optopt, '\0'};
            const char *what = optopt > 0 && optopt < 256 ? shortname : argv[optind - 1];
            if (c == ':')
                cm_app_say(app, "option '%s' needs a value", what);
            else
                cm_app_say(app, "unknown option '%s' (see %s)", what, spec->help_hint);
            return CM_OUT_USAGE;
        }
        int rc = take_option(app, c, cl, help, version);
        if (rc != 0)
            return rc;
    }
    /* spelling checked over what getopt took: before the subcommand when stopping at it */
    int rc = check_spelling(app, spec->stop_at_first ? optind : argc, argv, t.longs, spec->help_hint);
    if (rc != 0)
        return rc;
    cl->argc = argc - optind;
    cl->argv = argv + optind;
    return 0;
}

void cm_cmdline_translate_dcmtk(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-ll") == 0)
            argv[i] = (char *)"--log-level";
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
