/* cmd_dicom.cpp - `chaosmask encrypt | decrypt | inspect | verify`: the DICOM file commands,
 * thin shells over dicom/ (dicom.h) with the key ring of the configuration. */
#include "cli.h"

#include "chaosmask/chaosmask.h"
#include "chaosmask/config.h"

#ifdef CHAOSMASK_HAVE_DICOM
#include "chaosmask/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>
#endif

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <string>

namespace {

const char kExitCodes[] =
    "exit codes:\n"
    "  0  success%s\n"
    "  1  %s\n"
    "  2  bad command line\n"
    "  3  configuration or key ring error (also: the object's key id is not in the key ring)\n"
    "  4  input refused: not a DICOM Part 10 file, truncated, nested or sized beyond the structure\n"
    "     limits, inconsistent geometry, unsupported layout, nothing to protect%s\n"
    "  5  authentication failed: wrong key, or the pixels or the private block were changed\n"
    "  6  the output could not be written (nothing half-written is left, IN is untouched)\n"
    "  7  internal error (out of memory, library failure)\n";

const char kGlobal[] = "global options: --config FILE, --keyring DIR, -v, -d, --log-level L (see chaosmask --help)\n";

void encrypt_help(FILE *f)
{
    fprintf(f,
            "usage: chaosmask encrypt [--profile P] [--key ID] IN OUT\n"
            "       chaosmask encrypt [--profile P] [--key ID] --in-place IN\n\n"
            "Masks every pixel-bearing element of the DICOM file IN in place (Pixel Data native or\n"
            "encapsulated fragment by fragment, Float/Double Float Pixel Data, Overlay Data, Icon\n"
            "Image Sequence pixels, Waveform Data): same VRs, lengths and transfer syntax; adds the\n"
            "ChaosMask private block (docs/private-block.md) and writes OUT atomically. Plaintext\n"
            "pixels are never written. An object that is already encrypted is left alone (exit 0).\n\n"
            "  --profile P   lorenz, lorenz-chacha20 or aes-256-gcm (default: the configuration's)\n"
            "  --key ID      key of the key ring to use (default: the active key)\n"
            "  --in-place    replace IN atomically (temporary file, fsync, rename)\n\n");
    fprintf(f, kExitCodes, " (also: IN already encrypted, nothing written)", "not used", "");
    fprintf(f, "%s", kGlobal);
}

void decrypt_help(FILE *f)
{
    fprintf(f,
            "usage: chaosmask decrypt IN OUT\n"
            "       chaosmask decrypt --in-place IN\n\n"
            "Authenticates the encrypted DICOM file IN with the key its private block names (the\n"
            "object tag covers every protected byte and every field of the block), then restores the\n"
            "original object: pixels bit for bit, the private block removed. Written atomically;\n"
            "nothing is written when anything fails.\n\n"
            "  --in-place    replace IN atomically\n\n");
    fprintf(f, kExitCodes, "", "not used", " (also: IN is not encrypted)");
    fprintf(f, "%s", kGlobal);
}

void inspect_help(FILE *f)
{
    fprintf(f,
            "usage: chaosmask inspect IN [--json]\n\n"
            "Describes the DICOM file IN without a key: encrypted or not, the private block (format\n"
            "version, profile, key id), the transfer syntax and the protected (or, for a clear\n"
            "object, protectable) elements with their sizes and segments.\n\n"
            "  --json        one JSON object on stdout\n\n");
    fprintf(f, kExitCodes, " (encrypted or not)", "not used", "");
    fprintf(f, "%s", kGlobal);
}

void verify_help(FILE *f)
{
    fprintf(f,
            "usage: chaosmask verify IN\n\n"
            "Authenticates the encrypted DICOM file IN (object tag over the protected bytes and the\n"
            "private block) with the key it names, without unmasking or writing anything.\n\n");
    fprintf(f, kExitCodes, ": authentic", "not used", " (also: IN is not encrypted)");
    fprintf(f, "%s", kGlobal);
}

#ifdef CHAOSMASK_HAVE_DICOM

/* DCMTK's own warnings ("Meta Information Header is not updated") only at -v and above. */
void quiet_dcmtk(const cm_cli *cli)
{
    OFLogger::LogLevel level = OFLogger::ERROR_LOG_LEVEL;
    if (cli->log_level >= CM_LOG_DEBUG)
        level = OFLogger::DEBUG_LOG_LEVEL;
    else if (cli->log_level >= CM_LOG_INFO)
        level = OFLogger::WARN_LOG_LEVEL;
    OFLog::configure(level);
}

int exit_code(int dicom_rc)
{
    switch (dicom_rc) {
    case CM_DICOM_OK:
    case CM_DICOM_EENCRYPTED: return CM_EXIT_OK;
    case CM_DICOM_EINPUT:
    case CM_DICOM_EGEOMETRY:
    case CM_DICOM_EUNSUPPORTED:
    case CM_DICOM_ENOTHING:
    case CM_DICOM_ENOTENCRYPTED:
    case CM_DICOM_ESTRUCTURE: return CM_EXIT_INPUT;
    case CM_DICOM_EBLOCK:
    case CM_DICOM_EAUTH: return CM_EXIT_AUTH;
    case CM_DICOM_EKEYID: return CM_EXIT_CONFIG;
    case CM_DICOM_EIO: return CM_EXIT_IO;
    default: return CM_EXIT_INTERNAL;
    }
}

int report(const cm_cli *cli, int rc, const cm_dicom_error &err)
{
    if (rc != 0)
        cm_cli_error(cli, "%s", err.message[0] ? err.message : cm_dicom_strerror(rc));
    return exit_code(rc);
}

/* The key lookup handed to dicom/: the id comes from the file, so it is checked against the
 * key-id syntax before it becomes part of a path in the key ring. */
struct KeyLookup {
    const cm_keyring *kr;
    int config_rc = 0;
    cm_error config_err = {{0}};
};

int lookup_key(void *user, const char *key_id, uint8_t key[CM_KEYBYTES])
{
    KeyLookup *k = static_cast<KeyLookup *>(user);
    if (!cm_keyid_valid(key_id))
        return CM_DICOM_EKEYID;
    int rc = cm_keyring_load_key(k->kr, key_id, key, &k->config_err);
    if (rc == CM_CFG_EUNKNOWNKEY)
        return CM_DICOM_EKEYID;
    if (rc != 0) {
        k->config_rc = rc;
        return CM_DICOM_EKEYID;
    }
    return 0;
}

/* What encrypt, decrypt and verify share: the configuration, the key ring and its lookup. */
struct KeyRingSession {
    cm_config cfg;
    cm_keyring kr;
    KeyLookup lookup;
};

int open_key_ring(cm_cli *cli, KeyRingSession &s)
{
    int rc = cm_cli_load_config(cli, &s.cfg);
    if (rc == 0)
        rc = cm_cli_open_keyring(cli, &s.cfg, &s.kr);
    s.lookup.kr = &s.kr;
    return rc;
}

/* The exit code of an operation that looked keys up: a key-ring error met during the lookup
 * (bad mode, unreadable) is reported as what it is. */
int finish(const cm_cli *cli, const KeyRingSession &s, int rc, const cm_dicom_error &err)
{
    if (s.lookup.config_rc != 0) {
        cm_cli_error(cli, "%s", s.lookup.config_err.msg);
        return CM_EXIT_CONFIG;
    }
    return report(cli, rc, err);
}

/* IN, OUT and --in-place: exactly one of OUT or --in-place; OUT must not be IN. */
int paths(const cm_cli *cli, int argc, char **argv, bool in_place, const char **in, const char **out)
{
    int left = argc - optind;
    if (left != (in_place ? 1 : 2)) {
        cm_cli_error(cli, in_place ? "--in-place takes exactly one file (IN)" : "expected IN and OUT (or --in-place IN)");
        return CM_EXIT_USAGE;
    }
    *in = argv[optind];
    *out = in_place ? argv[optind] : argv[optind + 1];
    struct stat a, b;
    if (!in_place && stat(*in, &a) == 0 && stat(*out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        cm_cli_error(cli, "OUT is the same file as IN; use --in-place IN to replace it");
        return CM_EXIT_USAGE;
    }
    return 0;
}

/* Text from a DICOM file, safe for a terminal and for JSON: printable ASCII, the rest '?'. */
std::string printable(const char *s)
{
    std::string out;
    for (; *s; ++s)
        out += (*s >= 0x20 && *s < 0x7F) ? *s : '?';
    return out;
}

std::string json_string(const char *s)
{
    std::string out = "\"";
    for (char c : printable(s)) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

void print_info_json(const char *path, const cm_dicom_info &info)
{
    printf("{\"file\": %s, \"encrypted\": %s, ", json_string(path).c_str(), info.encrypted ? "true" : "false");
    if (info.encrypted)
        printf("\"block\": {\"creator\": %s, \"group\": \"%04X\", \"slot\": \"%02X\", \"version\": %u, "
               "\"engine_format\": %u, \"profile\": %s, \"key_id\": %s}, ",
               json_string(CM_DICOM_PRIVATE_CREATOR).c_str(), info.block_group, info.block_slot, info.block_version,
               info.engine_version, json_string(info.profile).c_str(), json_string(info.key_id).c_str());
    printf("\"transfer_syntax\": %s, \"sop_instance_uid\": %s, \"segments\": %u, \"element_count\": %zu, "
           "\"elements\": [",
           json_string(info.transfer_syntax).c_str(), json_string(info.sop_instance_uid).c_str(), info.segments,
           info.element_count);
    size_t shown = info.element_count < CM_DICOM_INFO_MAX_ELEMENTS ? info.element_count : CM_DICOM_INFO_MAX_ELEMENTS;
    for (size_t i = 0; i < shown; ++i) {
        const cm_dicom_element_info &e = info.elements[i];
        printf("%s{\"path\": %s, \"vr\": %s, \"length\": %llu, \"word_bytes\": %u, \"segments\": %u, "
               "\"encapsulated\": %s}",
               i ? ", " : "", json_string(e.path).c_str(), json_string(e.vr).c_str(), (unsigned long long)e.length,
               e.word_bytes, e.segments, e.encapsulated ? "true" : "false");
    }
    printf("], \"layout_error\": %s}\n", info.layout_error ? json_string(info.layout_message).c_str() : "null");
}

void print_info_text(const char *path, const cm_dicom_info &info)
{
    printf("file:              %s\n", printable(path).c_str());
    printf("transfer syntax:   %s\n", printable(info.transfer_syntax).c_str());
    printf("SOP instance UID:  %s\n", printable(info.sop_instance_uid).c_str());
    if (info.encrypted) {
        printf("encrypted:         yes (\"%s\" block at (%04X,%02Xxx), block version %u, engine format %u)\n",
               CM_DICOM_PRIVATE_CREATOR, info.block_group, info.block_slot, info.block_version, info.engine_version);
        printf("profile:           %s\n", printable(info.profile).c_str());
        printf("key id:            %s\n", printable(info.key_id).c_str());
    } else {
        printf("encrypted:         no\n");
    }
    if (info.layout_error) {
        printf("%-19s%s\n", info.encrypted ? "layout:" : "not encryptable:", printable(info.layout_message).c_str());
        return;
    }
    printf("%-19s%zu (%u segment%s)\n", info.encrypted ? "protected:" : "protectable:", info.element_count,
           info.segments, info.segments == 1 ? "" : "s");
    size_t shown = info.element_count < CM_DICOM_INFO_MAX_ELEMENTS ? info.element_count : CM_DICOM_INFO_MAX_ELEMENTS;
    for (size_t i = 0; i < shown; ++i) {
        const cm_dicom_element_info &e = info.elements[i];
        printf("  %-22s %s %12llu bytes  %u-byte words  %u %s%s\n", printable(e.path).c_str(), printable(e.vr).c_str(),
               (unsigned long long)e.length, e.word_bytes, e.segments,
               e.encapsulated ? "fragment" : "segment", e.segments == 1 ? "" : "s");
    }
}

#endif

} // namespace

extern "C" int cmd_encrypt(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"profile", required_argument, nullptr, 'p'},
                                         {"key", required_argument, nullptr, 'k'},
                                         {"in-place", no_argument, nullptr, 'i'},
                                         {"help", no_argument, nullptr, 'h'},
                                         {nullptr, 0, nullptr, 0}};
    const char *profile_name = nullptr, *key_id = nullptr;
    bool in_place = false;
    int c;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
        switch (c) {
        case 'p': profile_name = optarg; break;
        case 'k': key_id = optarg; break;
        case 'i': in_place = true; break;
        case 'h': encrypt_help(stdout); return CM_EXIT_OK;
        default: encrypt_help(stderr); return CM_EXIT_USAGE;
        }
    }
#ifndef CHAOSMASK_HAVE_DICOM
    (void)profile_name, (void)key_id, (void)in_place;
    cm_cli_error(cli, "this build has no DICOM support");
    return CM_EXIT_INTERNAL;
#else
    const char *in, *out;
    int rc = paths(cli, argc, argv, in_place, &in, &out);
    if (rc)
        return rc;
    int profile = -1;
    if (profile_name != nullptr && (profile = cm_profile_from_name(profile_name)) < 0) {
        cm_cli_error(cli, "--profile '%s' is not one of lorenz, lorenz-chacha20, aes-256-gcm", profile_name);
        return CM_EXIT_USAGE;
    }
    quiet_dcmtk(cli);
    KeyRingSession ks;
    if ((rc = open_key_ring(cli, ks)))
        return rc;
    uint8_t key[CM_KEYBYTES];
    char id[CM_KEYID_MAX];
    if ((rc = cm_cli_load_key(cli, &ks.kr, key_id, key, id)))
        return rc;
    cm_dicom_encrypt_params params = {profile < 0 ? ks.cfg.profile : profile, id, key, cm_cli_threads(&ks.cfg),
                                      lookup_key, &ks.lookup};
    cm_dicom_error err = {0, ""};
    rc = cm_dicom_encrypt_file(in, out, &params, &err);
    cm_memzero(key, sizeof key);
    if (rc == CM_DICOM_EENCRYPTED) {
        /* IN authenticated as encrypted: OUT still ends up holding it, so that "encrypt a b &&
         * rm a" never loses the object */
        if (strcmp(in, out) != 0 && (rc = cm_dicom_copy_file(in, out, &err)) != 0)
            return report(cli, rc, err);
        printf("%s is already encrypted%s\n", in, strcmp(in, out) != 0 ? "; copied unchanged" : "; nothing written");
        return CM_EXIT_OK;
    }
    if (rc == 0)
        cm_cli_log(cli, CM_LOG_INFO, "encrypted %s -> %s (profile %s, key %s)", in, out,
                   cm_profile_name(params.profile), id);
    return finish(cli, ks, rc, err);
#endif
}

extern "C" int cmd_decrypt(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"in-place", no_argument, nullptr, 'i'},
                                         {"help", no_argument, nullptr, 'h'},
                                         {nullptr, 0, nullptr, 0}};
    bool in_place = false;
    int c;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
        switch (c) {
        case 'i': in_place = true; break;
        case 'h': decrypt_help(stdout); return CM_EXIT_OK;
        default: decrypt_help(stderr); return CM_EXIT_USAGE;
        }
    }
#ifndef CHAOSMASK_HAVE_DICOM
    (void)in_place;
    cm_cli_error(cli, "this build has no DICOM support");
    return CM_EXIT_INTERNAL;
#else
    const char *in, *out;
    int rc = paths(cli, argc, argv, in_place, &in, &out);
    if (rc)
        return rc;
    quiet_dcmtk(cli);
    KeyRingSession ks;
    if ((rc = open_key_ring(cli, ks)))
        return rc;
    cm_dicom_error err = {0, ""};
    rc = cm_dicom_decrypt_file(in, out, lookup_key, &ks.lookup, cm_cli_threads(&ks.cfg), &err);
    if (rc == 0)
        cm_cli_log(cli, CM_LOG_INFO, "decrypted %s -> %s", in, out);
    return finish(cli, ks, rc, err);
#endif
}

extern "C" int cmd_verify(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
    int c;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
        switch (c) {
        case 'h': verify_help(stdout); return CM_EXIT_OK;
        default: verify_help(stderr); return CM_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cm_cli_error(cli, "expected one file (IN)");
        return CM_EXIT_USAGE;
    }
#ifndef CHAOSMASK_HAVE_DICOM
    cm_cli_error(cli, "this build has no DICOM support");
    return CM_EXIT_INTERNAL;
#else
    const char *in = argv[optind];
    quiet_dcmtk(cli);
    KeyRingSession ks;
    int rc = open_key_ring(cli, ks);
    if (rc)
        return rc;
    cm_dicom_error err = {0, ""};
    rc = cm_dicom_verify_file(in, lookup_key, &ks.lookup, &err);
    if (rc == 0 && ks.lookup.config_rc == 0) {
        printf("%s: authentic\n", in);
        return CM_EXIT_OK;
    }
    return finish(cli, ks, rc, err);
#endif
}

extern "C" int cmd_inspect(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, nullptr, 'j'},
                                         {"help", no_argument, nullptr, 'h'},
                                         {nullptr, 0, nullptr, 0}};
    bool json = false;
    int c;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h': inspect_help(stdout); return CM_EXIT_OK;
        default: inspect_help(stderr); return CM_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cm_cli_error(cli, "expected one file (IN)");
        return CM_EXIT_USAGE;
    }
#ifndef CHAOSMASK_HAVE_DICOM
    (void)json;
    cm_cli_error(cli, "this build has no DICOM support");
    return CM_EXIT_INTERNAL;
#else
    const char *in = argv[optind];
    quiet_dcmtk(cli);
    static cm_dicom_info info; /* large (elements table); one per process */
    cm_dicom_error err = {0, ""};
    int rc = cm_dicom_inspect_file(in, &info, &err);
    if (rc != 0)
        return report(cli, rc, err);
    if (json)
        print_info_json(in, info);
    else
        print_info_text(in, info);
    return CM_EXIT_OK;
#endif
}
