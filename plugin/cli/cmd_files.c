/* chaosmask encrypt | decrypt | verify | rebind | inspect - the DICOM file commands: thin
 * shells over the application layer's file operations (app_ops.h), one or several files,
 * each reported; the exit code is the worst of them. */
#include <stdio.h>
#include <string.h>

#include "chaosmask/app_json.h"
#include "chaosmask/app_ops.h"
#include "chaosmask/chaosmask.h"
#include "cli.h"

enum { OPT_PROFILE = 'p', OPT_KEY = 'k', OPT_IN_PLACE = 'i', OPT_FORCE = 'f', OPT_JSON = 'j' };

static int report_failure(cm_app *app, const char *file, const cm_op_result *r)
{
    cm_app_report(app, file, &r->err);
    return cm_outcome_of(r->code);
}

/* IN OUT, or --in-place FILE...: the pairs to process.  0 or CM_OUT_USAGE. */
static int file_pairs(cm_app *app, const cm_cmdline *cl, int *in_place)
{
    *in_place = cm_cl_flag(cl, OPT_IN_PLACE);
    if (*in_place ? cl->argc >= 1 : cl->argc == 2)
        return 0;
    cm_app_say(app, *in_place ? "--in-place needs at least one FILE" : "expected IN and OUT, or --in-place FILE... (see chaosmask help %s)",
               cl->cmd->name);
    return CM_OUT_USAGE;
}

static int encrypt_one(cm_app *app, const char *in, const char *out, const cm_op_encrypt_opts *o)
{
    cm_op_result r;
    if (cm_op_encrypt_file(app, in, out, o, &r) != 0)
        return report_failure(app, in, &r);
    if (r.already_encrypted)
        cm_cl_result(app, "%s: already encrypted (key %s)%s%s", in, r.report.key_id,
                     r.wrote ? "; copied unchanged to " : "; left as it was", r.wrote ? out : "");
    else if (strcmp(in, out) == 0)
        cm_cl_result(app, "%s: encrypted in place (%s, key %s)", in, r.report.profile, r.report.key_id);
    else
        cm_cl_result(app, "%s: encrypted -> %s (%s, key %s)", in, out, r.report.profile, r.report.key_id);
    return CM_OUT_OK;
}

static int run_encrypt(cm_app *app, cm_cmdline *cl)
{
    int in_place, rc = file_pairs(app, cl, &in_place), worst = CM_OUT_OK;
    cm_op_encrypt_opts o = {0, cm_cl_value(cl, OPT_KEY), cm_cl_flag(cl, OPT_FORCE)};
    if (rc != 0 || (rc = cm_cl_profile(app, cl, OPT_PROFILE, &o.profile)) != 0)
        return rc;
    if (!in_place)
        return encrypt_one(app, cl->argv[0], cl->argv[1], &o);
    for (int i = 0; i < cl->argc; i++)
        worst = cm_outcome_worst(worst, encrypt_one(app, cl->argv[i], cl->argv[i], &o));
    return worst;
}

static int decrypt_one(cm_app *app, const char *in, const char *out)
{
    cm_op_result r;
    if (cm_op_decrypt_file(app, in, out, &r) != 0)
        return report_failure(app, in, &r);
    const char *note = r.report.note[0] ? r.report.note : NULL;
    if (strcmp(in, out) == 0)
        cm_cl_result(app, "%s: decrypted in place%s%s", in, note ? "; " : "", note ? note : "");
    else
        cm_cl_result(app, "%s: decrypted -> %s%s%s", in, out, note ? "; " : "", note ? note : "");
    if (r.report.identity_changed[0])
        cm_app_log(app, CM_LOG_WARN, "%s: %s", in, r.report.identity_changed);
    return CM_OUT_OK;
}

static int run_decrypt(cm_app *app, cm_cmdline *cl)
{
    int in_place, rc = file_pairs(app, cl, &in_place), worst = CM_OUT_OK;
    if (rc != 0)
        return rc;
    if (!in_place)
        return decrypt_one(app, cl->argv[0], cl->argv[1]);
    for (int i = 0; i < cl->argc; i++)
        worst = cm_outcome_worst(worst, decrypt_one(app, cl->argv[i], cl->argv[i]));
    return worst;
}

static int need_files(cm_app *app, const cm_cmdline *cl)
{
    if (cl->argc >= 1)
        return 0;
    cm_app_say(app, "expected at least one FILE (see chaosmask help %s)", cl->cmd->name);
    return CM_OUT_USAGE;
}

static int run_verify(cm_app *app, cm_cmdline *cl)
{
    int worst = need_files(app, cl);
    if (worst != 0)
        return worst;
    for (int i = 0; i < cl->argc; i++) {
        cm_op_result r;
        if (cm_op_verify_file(app, cl->argv[i], &r) != 0) {
            worst = cm_outcome_worst(worst, report_failure(app, cl->argv[i], &r));
            continue;
        }
        cm_cl_result(app, "%s: authentic (%s, key %s)%s%s", cl->argv[i], r.report.profile, r.report.key_id,
                     r.report.identity_changed[0] ? "; " : "", r.report.identity_changed);
    }
    return worst;
}

static int run_rebind(cm_app *app, cm_cmdline *cl)
{
    int worst = need_files(app, cl);
    if (worst != 0)
        return worst;
    for (int i = 0; i < cl->argc; i++) {
        cm_op_result r;
        if (cm_op_rebind_file(app, cl->argv[i], &r) != 0) {
            worst = cm_outcome_worst(worst, report_failure(app, cl->argv[i], &r));
            continue;
        }
        cm_cl_result(app, "%s: the current patient identity is recorded (key %s)", cl->argv[i], r.report.key_id);
    }
    return worst;
}

/* ---- inspect ---- */

/* Text from a DICOM file, safe for a terminal: printable ASCII, the rest '?'. */
static const char *printable(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < n; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7F) ? s[i] : '?';
    buf[i] = '\0';
    return buf;
}

static size_t shown_elements(const cm_dicom_info *info)
{
    return info->element_count < CM_DICOM_INFO_MAX_ELEMENTS ? info->element_count : CM_DICOM_INFO_MAX_ELEMENTS;
}

static void print_info_text(const char *path, const cm_dicom_info *info)
{
    char b[600];
    printf("file:              %s\n", printable(path, b, sizeof b));
    printf("transfer syntax:   %s\n", printable(info->transfer_syntax, b, sizeof b));
    printf("SOP instance UID:  %s\n", printable(info->sop_instance_uid, b, sizeof b));
    if (info->encrypted) {
        printf("encrypted:         yes (\"%s\" block at (%04X,%02Xxx), block version %u, engine format %u)\n",
               CM_DICOM_PRIVATE_CREATOR, info->block_group, info->block_slot, info->block_version,
               info->engine_version);
        printf("profile:           %s\n", printable(info->profile, b, sizeof b));
        printf("key id:            %s\n", printable(info->key_id, b, sizeof b));
        if (info->block_error)
            printf("block damaged:     %s\n", printable(info->block_message, b, sizeof b));
    } else {
        printf("encrypted:         no\n");
    }
    if (info->layout_error) {
        printf("%-19s%s\n", info->encrypted ? "layout:" : "not encryptable:", printable(info->layout_message, b, sizeof b));
        return;
    }
    printf("%-19s%zu (%u segment%s)\n", info->encrypted ? "protected:" : "protectable:", info->element_count,
           info->segments, info->segments == 1 ? "" : "s");
    for (size_t i = 0; i < shown_elements(info); ++i) {
        const cm_dicom_element_info *e = &info->elements[i];
        printf("  %-22s %s %12llu bytes  %u-byte words  %u %s%s\n", e->path, e->vr, (unsigned long long)e->length,
               e->word_bytes, e->segments, e->encapsulated ? "fragment group" : "segment", e->segments == 1 ? "" : "s");
    }
}

static void print_info_json(const char *path, const cm_dicom_info *info)
{
    cm_json j;
    cm_json_init(&j);
    cm_json_object_begin(&j, NULL);
    cm_json_str(&j, "file", path);
    cm_json_bool(&j, "encrypted", info->encrypted);
    if (info->encrypted) {
        char group[12], slot[8];
        snprintf(group, sizeof group, "%04X", info->block_group);
        snprintf(slot, sizeof slot, "%02X", info->block_slot);
        cm_json_object_begin(&j, "block");
        cm_json_str(&j, "creator", CM_DICOM_PRIVATE_CREATOR);
        cm_json_str(&j, "group", group);
        cm_json_str(&j, "slot", slot);
        cm_json_uint(&j, "version", info->block_version);
        cm_json_uint(&j, "engine_format", info->engine_version);
        cm_json_str(&j, "profile", info->profile);
        cm_json_str(&j, "key_id", info->key_id);
        cm_json_str(&j, "damaged", info->block_error ? info->block_message : NULL);
        cm_json_object_end(&j);
    }
    cm_json_str(&j, "transfer_syntax", info->transfer_syntax);
    cm_json_str(&j, "sop_instance_uid", info->sop_instance_uid);
    cm_json_uint(&j, "segments", info->segments);
    cm_json_uint(&j, "element_count", info->element_count);
    cm_json_array_begin(&j, "elements");
    for (size_t i = 0; i < shown_elements(info); ++i) {
        const cm_dicom_element_info *e = &info->elements[i];
        cm_json_object_begin(&j, NULL);
        cm_json_str(&j, "path", e->path);
        cm_json_str(&j, "vr", e->vr);
        cm_json_uint(&j, "length", e->length);
        cm_json_uint(&j, "word_bytes", e->word_bytes);
        cm_json_uint(&j, "segments", e->segments);
        cm_json_bool(&j, "encapsulated", e->encapsulated);
        cm_json_object_end(&j);
    }
    cm_json_array_end(&j);
    cm_json_str(&j, "layout_error", info->layout_error ? info->layout_message : NULL);
    cm_json_object_end(&j);
    printf("%s\n", cm_json_text(&j));
    cm_json_free(&j);
}

/* inspect --json on failure: a JSON error object on stdout too, so a script reading the
 * lines gets one per file whatever happened. */
static void print_error_json(const char *path, const cm_op_result *r)
{
    cm_outcome o = cm_outcome_of(r->code);
    cm_json j;
    cm_json_init(&j);
    cm_json_object_begin(&j, NULL);
    cm_json_str(&j, "file", path);
    cm_json_object_begin(&j, "error");
    cm_json_int(&j, "exit", o);
    cm_json_str(&j, "reason", cm_exit_table()[o].name);
    cm_json_str(&j, "message", r->err.msg);
    cm_json_object_end(&j);
    cm_json_object_end(&j);
    printf("%s\n", cm_json_text(&j));
    cm_json_free(&j);
}

static int run_inspect(cm_app *app, cm_cmdline *cl)
{
    int worst = need_files(app, cl), json = cm_cl_flag(cl, OPT_JSON);
    if (worst != 0)
        return worst;
    static cm_dicom_info info; /* large (elements table) */
    for (int i = 0; i < cl->argc; i++) {
        cm_op_result r;
        if (cm_op_inspect_file(app, cl->argv[i], &info, &r) != 0) {
            if (json)
                print_error_json(cl->argv[i], &r);
            worst = cm_outcome_worst(worst, report_failure(app, cl->argv[i], &r));
            continue;
        }
        if (json)
            print_info_json(cl->argv[i], &info);
        else
            print_info_text(cl->argv[i], &info);
    }
    return worst;
}

/* ---- the command descriptions ---- */

static const cm_optdef ENCRYPT_OPTIONS[] = {
    {"profile", OPT_PROFILE, "P", "lorenz-chacha20 (default), aes-256-gcm, or lorenz (research)"},
    {"key", OPT_KEY, "ID", "key of the key ring to use (default: the active key)"},
    {"in-place", OPT_IN_PLACE, NULL, "replace each FILE atomically, keeping owner, group, mode and mtime"},
    {"force", OPT_FORCE, NULL, "encrypt even pixel data that looks like a mask already"},
    CM_OPT_END,
};

const cm_command cm_cmd_encrypt = {
    "encrypt",
    "mask the pixels of DICOM files and add the ChaosMask private block",
    "[OPTIONS] IN OUT\n[OPTIONS] --in-place FILE...",
    "Masks every pixel-bearing element (Pixel Data native or encapsulated, Float/Double Float\n"
    "Pixel Data, Overlay Data, Icon Image Sequence pixels, Waveform Data) in place: same VRs,\n"
    "lengths and transfer syntax. Adds the ChaosMask private block (docs/private-block.md),\n"
    "binds the attributes a reader relies on, marks the object as encrypted where viewers show\n"
    "it, and writes atomically. Plaintext pixels are never written. An object that is already\n"
    "encrypted is left alone (exit 0; OUT gets an exact copy). Pixels that look like a mask\n"
    "already (a stripped private block) are refused unless --force. Audited.",
    ENCRYPT_OPTIONS,
    CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_AUTH) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL) |
        CM_X(CM_OUT_NOTHING),
    run_encrypt,
};

static const cm_optdef DECRYPT_OPTIONS[] = {
    {"in-place", OPT_IN_PLACE, NULL, "replace each FILE atomically, keeping owner, group, mode and mtime"},
    CM_OPT_END,
};

const cm_command cm_cmd_decrypt = {
    "decrypt",
    "authenticate encrypted DICOM files and restore the originals exactly",
    "IN OUT\n--in-place FILE...",
    "Authenticates each encrypted file with the key its private block names (the object tag\n"
    "covers every protected byte, every field of the block and the bound attributes), checks the\n"
    "patient identity against the one recorded ([dicom] patient_identity), then restores the\n"
    "original object: pixels bit for bit, marked attributes restored, the block removed. A\n"
    "native object compressed losslessly after encryption is decoded first. OUT is created\n"
    "0600 (it is PHI). The audit record is written before the output appears.",
    DECRYPT_OPTIONS,
    CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_AUTH) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL) |
        CM_X(CM_OUT_IDENTITY) | CM_X(CM_OUT_REENCODED),
    run_decrypt,
};

const cm_command cm_cmd_verify = {
    "verify",
    "authenticate encrypted DICOM files without writing anything",
    "FILE...",
    "Authenticates each encrypted file (object tag over the protected bytes, the private block\n"
    "and the bound attributes; patient identity) with the key it names, without unmasking or\n"
    "writing anything. Audited.",
    NULL,
    CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_AUTH) | CM_X(CM_OUT_INTERNAL) | CM_X(CM_OUT_IDENTITY) |
        CM_X(CM_OUT_REENCODED),
    run_verify,
};

const cm_command cm_cmd_rebind = {
    "rebind",
    "record an authorized patient identity change in encrypted files",
    "FILE...",
    "After an authorized correction of Patient Name, ID, Issuer of Patient ID, Birth Date, Sex\n"
    "or Accession Number in an encrypted file, authenticates the file and records its current\n"
    "identity in the private block (the pixels stay masked), so it decrypts again under the\n"
    "default policy. Replaces each FILE atomically. Needs the key; audited.",
    NULL,
    CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_AUTH) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL),
    run_rebind,
};

static const cm_optdef INSPECT_OPTIONS[] = {
    {"json", OPT_JSON, NULL, "one JSON object per file on stdout (also for a file that fails)"},
    CM_OPT_END,
};

const cm_command cm_cmd_inspect = {
    "inspect",
    "describe DICOM files: encrypted or not, private block, protected elements",
    "[--json] FILE...",
    "Describes each DICOM file without a key: encrypted or not, the private block (format\n"
    "version, profile, key id; a damaged field is named), the transfer syntax and the protected\n"
    "(or, for a clear object, protectable) elements with their sizes and segments.",
    INSPECT_OPTIONS,
    CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_INTERNAL),
    run_inspect,
};
