/* chaosmask keystream - raw keystream to stdout, for external randomness batteries
 * (ent, dieharder, rngtest). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

#define KEYSTREAM_SEGMENT ((size_t)16 << 20)

static void keystream_help(FILE *f)
{
    fprintf(f, "usage: chaosmask keystream --bytes N [--profile P] [--nonce HEX32] [--keyring DIR]\n\n"
               "Writes N bytes (suffix K, M or G allowed) to standard output, derived from the key ring's\n"
               "active key and a nonce (random unless --nonce gives 32 hex digits):\n"
               "  lorenz            the raw Lorenz keystream words the masking adds\n"
               "  lorenz-chacha20,  the cipher of an all-zero input (what an attacker sees of a\n"
               "  aes-256-gcm       constant image)\n"
               "The stream is cut into 16 MiB segments 0, 1, 2... as an object's frames are.\n"
               "Example: chaosmask keystream --profile lorenz --bytes 64M | ent\n"
               "Exit codes: 0 written, 2 bad command line, 3 key ring error, 6 write error, 7 internal.\n");
}

int cmd_keystream(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"bytes", required_argument, NULL, 'b'},
                                         {"profile", required_argument, NULL, 'p'},
                                         {"nonce", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint64_t total = 0;
    int have_bytes = 0, profile = CM_PROFILE_LORENZ, c;
    const char *nonce_hex = NULL;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (cm_cli_parse_size(optarg, &total) != 0) {
                cm_cli_error(cli, "--bytes '%s' is not a size (e.g. 1048576, 64M)", optarg);
                return CM_EXIT_USAGE;
            }
            have_bytes = 1;
            break;
        case 'p':
            if ((profile = cm_profile_from_name(optarg)) < 0) {
                cm_cli_error(cli, "--profile '%s' is not one of lorenz, lorenz-chacha20, aes-256-gcm", optarg);
                return CM_EXIT_USAGE;
            }
            break;
        case 'n': nonce_hex = optarg; break;
        case 'h': keystream_help(stdout); return CM_EXIT_OK;
        default: keystream_help(stderr); return CM_EXIT_USAGE;
        }
    }
    if (!have_bytes || optind != argc) {
        cm_cli_error(cli, have_bytes ? "unexpected argument '%s'" : "--bytes N is required%s", have_bytes ? argv[optind] : "");
        return CM_EXIT_USAGE;
    }
    uint8_t nonce[CM_NONCEBYTES], key[CM_KEYBYTES];
    if (nonce_hex != NULL ? cm_cli_parse_hex(nonce_hex, nonce, sizeof nonce) != 0 : cm_random(nonce, sizeof nonce) != 0) {
        cm_cli_error(cli, nonce_hex ? "--nonce needs exactly 32 hex digits" : "no random nonce");
        return nonce_hex ? CM_EXIT_USAGE : CM_EXIT_INTERNAL;
    }
    cm_config cfg;
    cm_keyring kr;
    int rc;
    if ((rc = cm_cli_load_config(cli, &cfg)) != 0 || (rc = cm_cli_open_keyring(cli, &cfg, &kr)) != 0 ||
        (rc = cm_cli_load_key(cli, &kr, NULL, key, NULL)) != 0)
        return rc;
    cm_object obj;
    uint8_t *buf = calloc(1, KEYSTREAM_SEGMENT), tag[CM_SEGTAGBYTES];
    if (buf == NULL || cm_object_init(&obj, profile, key, nonce, NULL, 0) != CM_OK) {
        free(buf);
        cm_memzero(key, sizeof key);
        cm_cli_error(cli, "out of memory or crypto library failure");
        return CM_EXIT_INTERNAL;
    }
    cm_memzero(key, sizeof key);
    rc = CM_EXIT_OK;
    for (uint32_t seg = 0; total > 0; seg++) {
        size_t n = total < KEYSTREAM_SEGMENT ? (size_t)total : KEYSTREAM_SEGMENT;
        int e = profile == CM_PROFILE_LORENZ ? cm_lorenz_keystream(&obj, seg, buf, n)
                                             : (memset(buf, 0, n), cm_segment_seal(&obj, seg, 1, buf, buf, n, tag));
        if (e != CM_OK) {
            cm_cli_error(cli, "%s", cm_strerror(e));
            rc = CM_EXIT_INTERNAL;
            break;
        }
        if (fwrite(buf, 1, n, stdout) != n) {
            /* a reader that stops early (head, ent on a pipe) is not an error worth a message */
            rc = CM_EXIT_IO;
            break;
        }
        total -= n;
    }
    if (rc == CM_EXIT_OK && fflush(stdout) != 0)
        rc = CM_EXIT_IO;
    cm_object_wipe(&obj);
    free(buf);
    return rc;
}
