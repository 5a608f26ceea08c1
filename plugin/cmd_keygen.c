/* chaosmask keygen - create a site key in a key ring (mode 0600, written atomically). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

static void keygen_help(FILE *f)
{
    fprintf(f, "usage: chaosmask keygen [--keyring DIR] [--id ID] [--activate]\n\n"
               "Creates a 256-bit site key from the system's random generator in DIR/ID.key (mode\n"
               "0600; the directory is created with mode 0700). The first key of a ring becomes the\n"
               "active key (used for new objects); --activate makes the new key active (rotation).\n"
               "Older keys stay for decryption. ID: letters, digits, '.', '_', '-', at most 63\n"
               "characters; default k<UTC date-time>. An existing key is never overwritten.\n"
               "Exit codes: 0 created, 2 bad command line, 3 key ring error.\n");
}

int cmd_keygen(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"id", required_argument, NULL, 'i'},
                                         {"activate", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *id = NULL;
    int activate = 0, c;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': id = optarg; break;
        case 'a': activate = 1; break;
        case 'h': keygen_help(stdout); return CM_EXIT_OK;
        default: keygen_help(stderr); return CM_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cm_cli_error(cli, "unexpected argument '%s'", argv[optind]);
        return CM_EXIT_USAGE;
    }
    if (id != NULL && !cm_keyid_valid(id)) {
        cm_cli_error(cli, "key id '%s' is not valid: use letters, digits, '.', '_', '-' (at most 63, not starting with '.')", id);
        return CM_EXIT_USAGE;
    }
    cm_config cfg;
    int rc = cm_cli_load_config(cli, &cfg);
    if (rc != 0)
        return rc;
    const char *dir = cm_cli_keyring_dir(cli, &cfg);
    char made[CM_KEYID_MAX];
    int is_active = 0;
    cm_error err = {{0}};
    if (cm_keyring_generate(dir, id, activate, made, &is_active, &err) != 0) {
        cm_cli_error(cli, "%s", err.msg);
        return CM_EXIT_CONFIG;
    }
    printf("created key %s in %s/%s.key%s\n", made, dir, made, is_active ? " (active)" : "");
    return CM_EXIT_OK;
}
