/* keyring.c - the key ring: a directory of ID.key files (32-byte site keys, hex or base64)
 * plus `active`, the id of the key for new objects.  Key files are refused unless they are
 * regular files (no symlink) that nobody but their owner can read or write, so a key never
 * comes from a file someone else could have planted or read. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/config.h"
#include "config_internal.h"

#define KEY_SUFFIX ".key"
#define ACTIVE_NAME "active"
#define KEYFILE_MAX 128 /* far above 64 hex characters plus whitespace */
#define ACTIVE_MAX 256
#define KEY_FORMAT                                                                                 \
    "32 bytes written as 64 hex characters or 44 base64 characters, optionally followed by a "     \
    "newline"
#define KEYID_RULE "1 to 63 characters of A-Z a-z 0-9 . _ -, not starting with '.'"
#define LIST_MAX 32 /* key ids named in an "unknown key" message */

int cm_keyid_valid(const char *id)
{
    if (id == NULL || id[0] == '\0' || id[0] == '.')
        return 0;
    size_t len = strlen(id);
    if (len >= CM_KEYID_MAX)
        return 0;
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* A caller's id for a message: at most 64 characters, anything unprintable escaped (ids may
 * come from received DICOM objects, so they must not be able to forge log lines). */
static const char *printable_id(const char *id, char buf[300])
{
    size_t n = 0;
    for (size_t i = 0; id[i] != '\0' && i < 64; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
            buf[n++] = (char)c;
        else
            n += (size_t)snprintf(buf + n, 5, "\\x%02x", c);
    }
    if (strlen(id) > 64) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

int cm_keyid_check(const char *id, cm_error *err)
{
    if (cm_keyid_valid(id))
        return 0;
    char shown[300];
    if (id == NULL)
        return cfg_fail(err, CM_CFG_EINVAL, "no key id given; expected " KEYID_RULE);
    return cfg_fail(err, CM_CFG_EINVAL, "'%s' is not a valid key id; expected " KEYID_RULE,
                    printable_id(id, shown));
}

/* ---- key files ---- */

static int decode_key_text(const char *path, char *text, size_t n, uint8_t key[32], cm_error *err)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n == 64) {
        size_t bad = strspn(text, "0123456789abcdefABCDEF");
        if (bad != 64)
            return cfg_fail(err, CM_CFG_EFORMAT,
                            "key file %s: character %zu is not a hex digit; expected " KEY_FORMAT,
                            path, bad + 1);
        size_t got = 0;
        if (OPENSSL_hexstr2buf_ex(key, 32, &got, text, '\0') != 1 || got != 32)
            return cfg_fail(err, CM_CFG_EFORMAT,
                            "key file %s: cannot decode hex; expected " KEY_FORMAT, path);
        return 0;
    }
    if (n == 44) {
        size_t bad = strspn(text, b64);
        if (bad != 43 || text[43] != '=')
            return cfg_fail(
                err, CM_CFG_EFORMAT,
                "key file %s: character %zu is not valid base64 here; expected " KEY_FORMAT, path,
                bad + 1);
        /* EVP_DecodeBlock ignores padding: 44 characters always give 33 bytes, the last one
         * a zero from the '='.  Re-encoding rejects non-canonical text (stray low bits). */
        unsigned char raw[36], again[48];
        int rc = 0;
        if (EVP_DecodeBlock(raw, (const unsigned char *)text, 44) != 33 ||
            EVP_EncodeBlock(again, raw, 32) != 44 || CRYPTO_memcmp(again, text, 44) != 0)
            rc = cfg_fail(err, CM_CFG_EFORMAT,
                          "key file %s: not canonical base64 of 32 bytes; expected " KEY_FORMAT,
                          path);
        else
            memcpy(key, raw, 32);
        OPENSSL_cleanse(raw, sizeof raw);
        OPENSSL_cleanse(again, sizeof again);
        return rc;
    }
    return cfg_fail(err, CM_CFG_EFORMAT, "key file %s holds %zu characters; expected " KEY_FORMAT,
                    path, n);
}

static int open_error(const char *what, const char *path, int e, cm_error *err)
{
    struct stat sb;
    if (e == ENOENT)
        return cfg_fail(err, CM_CFG_ENOENT, "%s %s does not exist", what, path);
    if (e == ELOOP && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
        return cfg_fail(err, CM_CFG_EMODE,
                        "%s %s is a symbolic link; it must be a regular file (symbolic links are "
                        "refused)",
                        what, path);
    return cfg_fail(err, CM_CFG_EIO, "cannot open %s %s: %s", what, path, strerror(e));
}

/* Reads at most max bytes of a small regular file opened without following a final symlink.
 * Checks what fstat says before reading: regular file, (mode & forbidden_mode) == 0. */
static int read_small_file(const char *what, const char *path, mode_t forbidden_mode,
                           const char *mode_advice, const char *expected, char *buf, size_t max,
                           size_t *len, cm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return open_error(what, path, errno, err);
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) != 0)
        rc = cfg_fail(err, CM_CFG_EIO, "cannot stat %s %s: %s", what, path, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        rc = cfg_fail(err, CM_CFG_EFORMAT,
                      "%s %s is a directory; expected a regular file holding %s", what, path,
                      expected);
    else if (!S_ISREG(sb.st_mode))
        rc = cfg_fail(err, CM_CFG_EFORMAT,
                      "%s %s is not a regular file; expected a regular file holding %s", what, path,
                      expected);
    else if (sb.st_mode & forbidden_mode)
        rc = cfg_fail(err, CM_CFG_EMODE, "%s %s has mode %04o; %s", what, path,
                      (unsigned)(sb.st_mode & 07777), mode_advice);
    else if (!cfg_owner_trusted(sb.st_uid))
        rc = cfg_fail(err, CM_CFG_EMODE,
                      "%s %s belongs to uid %u; it must belong to the user running chaosmask "
                      "(uid %u) or to root", what, path, (unsigned)sb.st_uid, (unsigned)geteuid());
    else if (sb.st_size > (off_t)max)
        rc = cfg_fail(err, CM_CFG_EFORMAT, "%s %s is %lld bytes; expected %s", what, path,
                      (long long)sb.st_size, expected);
    size_t n = 0;
    while (rc == 0) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = cfg_fail(err, CM_CFG_EIO, "cannot read %s %s: %s", what, path, strerror(errno));
        else if (r == 0)
            break;
        else if ((n += (size_t)r) > max)
            rc = cfg_fail(err, CM_CFG_EFORMAT, "%s %s is larger than %zu bytes; expected %s", what,
                          path, max, expected);
    }
    close(fd);
    *len = n;
    return rc;
}

static size_t trim_trailing_space(char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    s[n] = '\0';
    return n;
}

int cm_keyfile_read(const char *path, uint8_t key[32], cm_error *err)
{
    if (path == NULL || key == NULL)
        return cfg_fail(err, CM_CFG_EINVAL, "cm_keyfile_read: %s is NULL", path ? "key" : "path");
    char advice[CM_PATH_MAX + 64];
    snprintf(advice, sizeof advice, "key files must be 0600 (chmod 600 %s)", path);
    char text[KEYFILE_MAX + 2];
    size_t n = 0;
    int rc = read_small_file("key file", path, 077, advice, KEY_FORMAT, text, KEYFILE_MAX, &n, err);
    if (rc == 0) {
        n = trim_trailing_space(text, n);
        if (memchr(text, '\0', n) != NULL)
            rc = cfg_fail(err, CM_CFG_EFORMAT, "key file %s holds a NUL byte; expected " KEY_FORMAT,
                          path);
        else
            rc = decode_key_text(path, text, n, key, err);
    }
    OPENSSL_cleanse(text, sizeof text);
    if (rc != 0)
        cm_memzero(key, 32);
    return rc;
}

/* ---- the key ring directory ---- */

static int check_ring_path(const char *dir, cm_error *err);

/* dir exists, is a directory (symlinks to one are fine), belongs to us or root, and nobody but
 * its owner can add, replace or remove keys in it. */
static int check_ring_dir(const char *dir, cm_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT)
            return cfg_fail(err, CM_CFG_ENOENT, "key ring directory %s does not exist", dir);
        return cfg_fail(err, CM_CFG_EIO, "cannot stat key ring directory %s: %s", dir,
                        strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return cfg_fail(err, CM_CFG_EFORMAT,
                        "key ring %s is not a directory; expected a directory of ID.key files",
                        dir);
    if (sb.st_mode & 022)
        return cfg_fail(err, CM_CFG_EMODE,
                        "key ring %s has mode %04o; it must not be writable by group or others "
                        "(chmod 700 %s)",
                        dir, (unsigned)(sb.st_mode & 07777), dir);
    if (!cfg_owner_trusted(sb.st_uid))
        return cfg_fail(err, CM_CFG_EMODE,
                        "key ring %s belongs to uid %u; it must belong to the user running chaosmask "
                        "(uid %u) or to root: keys planted by someone else are never used",
                        dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    return 0;
}

int cm_keyring_check_dir(const char *dir, cm_error *err)
{
    int rc = check_ring_path(dir, err);
    return rc != 0 ? rc : check_ring_dir(dir, err);
}

static int check_ring_path(const char *dir, cm_error *err)
{
    if (dir == NULL || dir[0] == '\0')
        return cfg_fail(err, CM_CFG_EINVAL, "no key ring directory given");
    /* DIR + "/" + id + ".key" and the temporary names next to them must fit. */
    if (strlen(dir) + 2 * CM_KEYID_MAX + 32 >= CM_PATH_MAX)
        return cfg_fail(err, CM_CFG_EINVAL, "key ring path %s is too long", dir);
    return 0;
}

int cm_keyring_read_active(const char *dir, char id[CM_KEYID_MAX], cm_error *err)
{
    char path[CM_PATH_MAX], text[ACTIVE_MAX + 2];
    size_t n = 0;
    id[0] = '\0';
    if (cfg_path_join(path, sizeof path, dir, ACTIVE_NAME) != 0)
        return cfg_fail(err, CM_CFG_EINVAL, "key ring path %s is too long", dir);
    int rc =
        read_small_file("active key file", path, 022, "it must not be writable by group or others",
                        "one line with a key id", text, ACTIVE_MAX, &n, err);
    if (rc == CM_CFG_ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    n = trim_trailing_space(text, n);
    if (memchr(text, '\0', n) != NULL || !cm_keyid_valid(text))
        return cfg_fail(err, CM_CFG_EFORMAT,
                        "%s does not hold a valid key id; expected one line with the id of the "
                        "active key (" KEYID_RULE ")",
                        path);
    memcpy(id, text, n + 1);
    return 0;
}

int cm_keyring_open(cm_keyring *kr, const char *dir, cm_error *err)
{
    if (kr == NULL)
        return cfg_fail(err, CM_CFG_EINVAL, "cm_keyring_open: kr is NULL");
    memset(kr, 0, sizeof *kr);
    int rc = cm_keyring_check_dir(dir, err);
    if (rc != 0)
        return rc;
    snprintf(kr->dir, sizeof kr->dir, "%s", dir);
    rc = cm_keyring_read_active(dir, kr->active_id, err);
    if (rc != 0)
        memset(kr, 0, sizeof *kr);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int cm_keyring_list(const char *dir, char (*ids)[CM_KEYID_MAX], size_t max, size_t *total, cm_error *err)
{
    *total = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return cfg_fail(err, errno == ENOENT ? CM_CFG_ENOENT : CM_CFG_EIO, "cannot list key ring %s: %s", dir,
                        strerror(errno));
    char (*all)[CM_KEYID_MAX] = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), slen = sizeof KEY_SUFFIX - 1;
        if (len <= slen || len - slen >= CM_KEYID_MAX || strcmp(e->d_name + len - slen, KEY_SUFFIX) != 0)
            continue;
        char id[CM_KEYID_MAX];
        memcpy(id, e->d_name, len - slen);
        id[len - slen] = '\0';
        if (!cm_keyid_valid(id))
            continue;
        if (count == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            void *p = realloc(all, ncap * sizeof *all);
            if (p == NULL) {
                rc = cfg_fail(err, CM_CFG_EIO, "cannot list key ring %s: out of memory", dir);
                break;
            }
            all = p;
            cap = ncap;
        }
        memcpy(all[count++], id, sizeof id);
    }
    closedir(d);
    if (rc == 0) {
        if (count > 0)
            qsort(all, count, sizeof all[0], compare_names);
        for (size_t i = 0; i < count && i < max; i++)
            memcpy(ids[i], all[i], sizeof all[i]);
        *total = count;
    }
    free(all);
    return rc;
}

/* ", "-separated ids of the key files in dir (sorted; at most LIST_MAX), or "no keys". */
static void list_key_ids(const char *dir, char *buf, size_t bufsz)
{
    char ids[LIST_MAX][CM_KEYID_MAX];
    size_t total = 0;
    snprintf(buf, bufsz, "no keys");
    if (cm_keyring_list(dir, ids, LIST_MAX, &total, NULL) != 0 || total == 0)
        return;
    size_t n = 0, shown = total < LIST_MAX ? total : LIST_MAX;
    buf[0] = '\0';
    for (size_t i = 0; i < shown && n < bufsz; i++)
        n += (size_t)snprintf(buf + n, bufsz - n, "%s%s", i ? ", " : "", ids[i]);
    if (total > shown && n < bufsz)
        snprintf(buf + n, bufsz - n, " and %zu more", total - shown);
}

/* DIR/ID.key, reported as an unknown key when it does not exist. */
static int read_ring_key(const char *dir, const char *id, uint8_t key[32], cm_error *err)
{
    char path[CM_PATH_MAX], name[CM_KEYID_MAX + sizeof KEY_SUFFIX];
    snprintf(name, sizeof name, "%s%s", id, KEY_SUFFIX);
    if (cfg_path_join(path, sizeof path, dir, name) != 0)
        return cfg_fail(err, CM_CFG_EINVAL, "key ring path %s is too long", dir);
    int rc = cm_keyfile_read(path, key, err);
    if (rc == CM_CFG_ENOENT) {
        char held[LIST_MAX * (CM_KEYID_MAX + 2) + 32];
        list_key_ids(dir, held, sizeof held);
        rc = cfg_fail(err, CM_CFG_EUNKNOWNKEY,
                      "key '%s' is not in the key ring: looked for %s; key ring %s holds: %s", id,
                      path, dir, held);
    }
    return rc;
}

int cm_keyring_load_key(const cm_keyring *kr, const char *id, uint8_t key[32], cm_error *err)
{
    if (kr == NULL || key == NULL)
        return cfg_fail(err, CM_CFG_EINVAL, "cm_keyring_load_key: %s is NULL", kr ? "key" : "kr");
    if (!cm_keyid_valid(id)) {
        cm_memzero(key, 32);
        return cm_keyid_check(id, err);
    }
    if (kr->dir[0] == '\0')
        return cfg_fail(err, CM_CFG_EINVAL, "cm_keyring_load_key: key ring not opened");
    return read_ring_key(kr->dir, id, key, err);
}

