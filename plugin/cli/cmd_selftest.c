/* chaosmask selftest - checks the installed engine against its recorded vectors. */
#include <stdio.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

int cmd_selftest(cm_cli *cli, int argc, char **argv)
{
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fprintf(help ? stdout : stderr,
                "usage: chaosmask selftest\n\n"
                "Seals, opens and tampers with one recorded vector per profile and compares the\n"
                "object tags with the values this version of the format must give. Run it after an\n"
                "install or an upgrade. Exit codes: 0 all pass, 1 a vector failed, 2 bad command line.\n");
        return help ? CM_EXIT_OK : CM_EXIT_USAGE;
    }
    char report[512];
    int rc = cm_selftest(report, sizeof report);
    fputs(report, stdout);
    if (rc != CM_OK) {
        cm_cli_error(cli, "the engine does not reproduce its recorded vectors: do not use this build");
        return CM_EXIT_FAIL;
    }
    printf("selftest: all profiles ok (object format %u)\n", CM_FORMAT_VERSION);
    return CM_EXIT_OK;
}
