/* main.c - the `chaosmask` command: everything is in the command-line dialect (cli.c) and
 * the subcommands (cmd_*.c), over the application layer. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cm_cli_main(argc, argv);
}
