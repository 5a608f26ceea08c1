/* commands.c - the subcommands of `chaosmask`, in the order `chaosmask help` lists them.
 * Each is a cm_command defined in its own cmd_*.c. */
#include <string.h>

#include "cli.h"

extern const cm_command cm_cmd_encrypt, cm_cmd_decrypt, cm_cmd_verify, cm_cmd_inspect, cm_cmd_rebind,
    cm_cmd_migrate, cm_cmd_keygen, cm_cmd_keys, cm_cmd_selftest, cm_cmd_bench, cm_cmd_demo, cm_cmd_keystream,
    cm_cmd_analyze, cm_cmd_paper;

static const cm_command *const COMMANDS[] = {
    &cm_cmd_encrypt, &cm_cmd_decrypt, &cm_cmd_verify,    &cm_cmd_inspect,   &cm_cmd_rebind,
    &cm_cmd_migrate, &cm_cmd_keygen,  &cm_cmd_keys,    &cm_cmd_selftest,  &cm_cmd_bench,     &cm_cmd_demo,
    &cm_cmd_keystream, &cm_cmd_analyze, &cm_cmd_paper,
};

const cm_command *const *cm_commands(size_t *count)
{
    *count = sizeof COMMANDS / sizeof COMMANDS[0];
    return COMMANDS;
}

const cm_command *cm_command_find(const char *name)
{
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(COMMANDS[i]->name, name) == 0)
            return COMMANDS[i];
    return NULL;
}
