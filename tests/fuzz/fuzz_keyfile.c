/* fuzz_keyfile.c - libFuzzer harness for the key ring readers (config.h): a key file
 * (cm_keyfile_read), the `active` file (cm_keyring_read_active) and a whole ring
 * (cm_keyring_open, then cm_keyring_load_key of the active id).
 *
 * Input: byte 0 chooses what is read and how the file is kept:
 *   bits 0-1: 0 and 3 a key file, 1 the active file, 2 a ring: the rest is the active file and
 *             the ring holds one key file, whose content is the fixed key in hex;
 *   bits 2-3: the file's mode: 0600, 0400, 0640 (group may read), 0666;
 *   bit 4:    the file is reached through a symbolic link.
 * The rest of the input is the file's content.
 *
 * Invariants: a key is accepted only from a regular file, no symbolic link, that nobody but
 * its owner can read or write, and only when its text (trailing white space aside) is exactly
 * the hex or canonical base64 of the 32 bytes returned; a refused key leaves 32 zero bytes;
 * the active id is accepted only when it is a valid key id equal to the file's text; refusals
 * carry their documented code and a message naming the file. */
#include "fuzz_common.h"

#include <ctype.h>
#include <openssl/evp.h>

#include "chaosmask/config.h"

static const mode_t modes[] = {0600, 0400, 0640, 0666};

/* The text a key file holds once trailing white space is dropped (as the reader does). */
static size_t trimmed(const uint8_t *data, size_t size)
{
    while (size > 0 && isspace(data[size - 1]))
        size--;
    return size;
}

static void hex_of(const uint8_t key[32], char out[65], int upper)
{
    static const char lower_digits[] = "0123456789abcdef", upper_digits[] = "0123456789ABCDEF";
    const char *digits = upper ? upper_digits : lower_digits;
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[key[i] >> 4];
        out[2 * i + 1] = digits[key[i] & 15];
    }
    out[64] = '\0';
}

/* The text holds the key: hex in either case (mixed case is hex too), or canonical base64. */
static int text_is_key(const uint8_t *text, size_t n, const uint8_t key[32])
{
    if (n == 64) {
        char lo[65], up[65];
        hex_of(key, lo, 0);
        hex_of(key, up, 1);
        for (size_t i = 0; i < 64; i++)
            if (text[i] != (uint8_t)lo[i] && text[i] != (uint8_t)up[i])
                return 0;
        return 1;
    }
    if (n == 44) {
        unsigned char b64[48];
        return EVP_EncodeBlock(b64, key, 32) == 44 && memcmp(b64, text, 44) == 0;
    }
    return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Writes the file (and the link to it when asked); returns the path to read. */
static const char *place(const char *name, const uint8_t *data, size_t size, mode_t mode, int via_link, char *path,
                         size_t n)
{
    char real[512];
    fuzz_scratch_path(via_link ? "target" : name, real, sizeof real);
    fuzz_write_file(real, data, size, mode);
    fuzz_scratch_path(name, path, n);
    if (via_link) {
        unlink(path);
        if (symlink(real, path) != 0)
            fuzz_fail("symlink: %s", strerror(errno));
    }
    return path;
}

static void key_file(const uint8_t *data, size_t size, mode_t mode, int via_link)
{
    char path[512];
    place("k.key", data, size, mode, via_link, path, sizeof path);
    uint8_t key[32];
    memset(key, 0x55, sizeof key);
    cm_error err = {0, ""};
    int rc = cm_keyfile_read(path, key, &err);
    if (rc == 0) {
        FUZZ_CHECK(!via_link, "a key was read through a symbolic link");
        FUZZ_CHECK((mode & 077) == 0, "a key was read from a file of mode %04o", (unsigned)mode);
        FUZZ_CHECK(text_is_key(data, trimmed(data, size), key), "a key was accepted from text that does not hold it");
        return;
    }
    FUZZ_CHECK(all_zero(key, sizeof key), "a refused key file left bytes in the key");
    FUZZ_CHECK(err.code == rc && strstr(err.msg, path) != NULL, "a refusal that does not name the file: %s", err.msg);
    if (via_link)
        FUZZ_CHECK(rc == CM_CFG_EMODE, "a key file behind a symbolic link: %d (%s)", rc, err.msg);
    else if (mode & 077)
        FUZZ_CHECK(rc == CM_CFG_EMODE, "a key file of mode %04o: %d (%s)", (unsigned)mode, rc, err.msg);
    else
        FUZZ_CHECK(rc == CM_CFG_EFORMAT, "a key file refused with %d (%s)", rc, err.msg);
}

/* The active file; returns the id read ("" when refused). */
static void active_file(const uint8_t *data, size_t size, mode_t mode, int via_link, char id[CM_KEYID_MAX])
{
    char path[512];
    place("active", data, size, mode, via_link, path, sizeof path);
    cm_error err = {0, ""};
    int rc = cm_keyring_read_active(fuzz_scratch_dir(), id, &err);
    if (rc == 0) {
        FUZZ_CHECK(!via_link, "the active id was read through a symbolic link");
        FUZZ_CHECK((mode & 022) == 0, "the active id was read from a file of mode %04o", (unsigned)mode);
        size_t n = trimmed(data, size);
        FUZZ_CHECK(cm_keyid_valid(id) && strlen(id) == n && memcmp(id, data, n) == 0,
                   "active id \"%s\" accepted from other text", id);
        return;
    }
    FUZZ_CHECK(id[0] == '\0', "a refused active file left an id");
    FUZZ_CHECK(err.code == rc && strstr(err.msg, "active") != NULL, "a refusal that does not name the file: %s",
               err.msg);
    FUZZ_CHECK(rc == CM_CFG_EMODE || rc == CM_CFG_EFORMAT, "the active file refused with %d (%s)", rc, err.msg);
}

static void ring(const uint8_t *data, size_t size, mode_t mode, int via_link)
{
    char id[CM_KEYID_MAX];
    active_file(data, size, mode, via_link, id);
    if (id[0] == '\0')
        return;
    char name[CM_KEYID_MAX + 8], path[512];
    snprintf(name, sizeof name, "%s.key", id);
    uint8_t fixed[32];
    fuzz_key(fixed);
    char hex[65];
    hex_of(fixed, hex, 0);
    fuzz_write_file(fuzz_scratch_path(name, path, sizeof path), (const uint8_t *)hex, 64, 0600);
    cm_keyring kr;
    cm_error err = {0, ""};
    int rc = cm_keyring_open(&kr, fuzz_scratch_dir(), &err);
    FUZZ_CHECK(rc == 0 && strcmp(kr.active_id, id) == 0, "the ring does not open with active id %s: %s", id, err.msg);
    uint8_t key[32];
    rc = cm_keyring_load_key(&kr, id, key, &err);
    FUZZ_CHECK(rc == 0 && memcmp(key, fixed, 32) == 0, "the active key %s does not load: %s", id, err.msg);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const unsigned what = data[0] & 3;
    const mode_t mode = modes[(data[0] >> 2) & 3];
    const int via_link = (data[0] >> 4) & 1;
    char id[CM_KEYID_MAX];
    if (what == 1)
        active_file(data + 1, size - 1, mode, via_link, id);
    else if (what == 2)
        ring(data + 1, size - 1, mode, via_link);
    else
        key_file(data + 1, size - 1, mode, via_link);
    return 0;
}
