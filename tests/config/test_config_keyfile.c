/* test_config_keyfile.c - cm_keyfile_read(): accepted encodings, refused contents, refused
 * modes and file types, and that the output key is wiped whenever reading fails. */
#include "fixture.h"

#include <errno.h>
#include <sys/types.h>

#include "chaosmask/config.h"

/* The 32 bytes 00 01 02 ... 1f in the two accepted encodings. */
#define HEX_0_31 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define B64_0_31 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void check_is_0_31(const uint8_t key[32])
{
    for (int i = 0; i < 32; i++)
        CHECK_EQ_INT(key[i], i);
}

static void check_all_zero(const uint8_t key[32])
{
    for (int i = 0; i < 32; i++)
        CHECK_EQ_INT(key[i], 0);
}

/* Writes text to a new 0600 file and expects cm_keyfile_read to fail with code and a
 * message naming the file and containing `about`. */
static void expect_refused(const char *name, const void *text, size_t len, mode_t mode, int code,
                           const char *about)
{
    const char *path = fx_path("%s", name);
    fx_write_bytes(path, text, len, mode);
    uint8_t key[32];
    memset(key, 0xAA, sizeof key);
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_keyfile_read(path, key, &err), code);
    CHECK(fx_contains(err.msg, path));
    CHECK(fx_contains(err.msg, about));
    check_all_zero(key); /* no half-decoded key left behind */
}

static void test_accepted(void)
{
    uint8_t key[32];
    cm_error err = {0, ""};
    struct {
        const char *name, *text;
        mode_t mode;
    } ok[] = {
        {"hex.key", HEX_0_31, 0600},
        {"hex-nl.key", HEX_0_31 "\n", 0600},
        {"hex-upper.key",
         "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F \t\r\n\n", 0600},
        {"b64.key", B64_0_31, 0600},
        {"b64-nl.key", B64_0_31 "\r\n", 0600},
        {"readonly.key", HEX_0_31 "\n", 0400},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *path = fx_path("%s", ok[i].name);
        fx_write(path, ok[i].text, ok[i].mode);
        memset(key, 0xAA, sizeof key);
        printf("accept %s\n", ok[i].name);
        int rc = cm_keyfile_read(path, key, &err);
        if (rc != 0)
            fprintf(stderr, "%s\n", err.msg);
        CHECK_EQ_INT(rc, 0);
        check_is_0_31(key);
    }
    /* err may be NULL */
    CHECK_EQ_INT(cm_keyfile_read(fx_path("hex.key"), key, NULL), 0);
    check_is_0_31(key);
}

static void test_refused_content(void)
{
    char longer[200];
    snprintf(longer, sizeof longer, "%s\n%s\n", HEX_0_31, HEX_0_31);
    char bin[32];
    for (int i = 0; i < 32; i++)
        bin[i] = (char)(i * 7 + 1);
    puts("refuse wrong sizes and characters");
    expect_refused("short.key", HEX_0_31, 62, 0600, CM_CFG_EFORMAT, "holds 62 characters");
    expect_refused("long.key", HEX_0_31 "00", 66, 0600, CM_CFG_EFORMAT, "64 hex characters");
    expect_refused("two.key", longer, strlen(longer), 0600, CM_CFG_EFORMAT, "44 base64");
    expect_refused("empty.key", "", 0, 0600, CM_CFG_EFORMAT, "holds 0 characters");
    expect_refused("binary.key", bin, sizeof bin, 0600, CM_CFG_EFORMAT, "expected 32 bytes");
    expect_refused("leading-space.key", " " HEX_0_31, 65, 0600, CM_CFG_EFORMAT, "holds 65");
    expect_refused("badhex.key",
                   "000102030g0405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, 0600,
                   CM_CFG_EFORMAT, "character 10 is not a hex digit");
    expect_refused("prefix.key", "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                   64, 0600, CM_CFG_EFORMAT, "character 2 is not a hex digit");
    /* base64url alphabet, missing padding, non-canonical last character */
    expect_refused("b64url.key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=", 44, 0600,
                   CM_CFG_EFORMAT, "character 43 is not valid base64");
    expect_refused("b64nopad.key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43, 0600,
                   CM_CFG_EFORMAT, "holds 43 characters");
    expect_refused("b64noncanon.key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", 44, 0600,
                   CM_CFG_EFORMAT, "not canonical base64");
    expect_refused("nul.key", HEX_0_31 "\0\n", 66, 0600, CM_CFG_EFORMAT, "NUL byte");
    char huge[5000];
    memset(huge, 'a', sizeof huge);
    expect_refused("huge.key", huge, sizeof huge, 0600, CM_CFG_EFORMAT, "is 5000 bytes");
}

static void test_refused_modes(void)
{
    puts("refuse modes open to group or others");
    char want[CM_PATH_MAX * 2 + 100];
    const char *path = fx_path("k0644.key");
    snprintf(want, sizeof want, "key file %s has mode 0644; key files must be 0600 (chmod 600 %s)",
             path, path);
    expect_refused("k0644.key", HEX_0_31 "\n", 65, 0644, CM_CFG_EMODE, want);
    expect_refused("k0640.key", HEX_0_31 "\n", 65, 0640, CM_CFG_EMODE, "has mode 0640");
    expect_refused("k0604.key", HEX_0_31 "\n", 65, 0604, CM_CFG_EMODE, "has mode 0604");
    expect_refused("k0601.key", HEX_0_31 "\n", 65, 0601, CM_CFG_EMODE, "has mode 0601");
    expect_refused("k0620.key", HEX_0_31 "\n", 65, 0620, CM_CFG_EMODE, "has mode 0620");
    /* the mode is checked before the content: a bad file with a bad mode reports the mode */
    expect_refused("k0666bad.key", "nonsense", 8, 0666, CM_CFG_EMODE, "has mode 0666");

    /* a key someone else owns could have been planted: refused whatever its mode (the suite
     * runs as root, which may give a file away) */
    puts("refuse a key file owned by another user");
    const char *foreign = fx_path("foreign.key");
    fx_write(foreign, HEX_0_31 "\n", 0600);
    CHECK(chown(foreign, 65534, 65534) == 0);
    uint8_t key[32];
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_keyfile_read(foreign, key, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "belongs to uid 65534"));
    check_all_zero(key);
}

static void test_refused_types(void)
{
    uint8_t key[32];
    cm_error err = {0, ""};

    puts("refuse a symbolic link to a good key file");
    const char *target = fx_path("target.key");
    const char *link = fx_path("link.key");
    fx_write(target, HEX_0_31 "\n", 0600);
    CHECK(symlink(target, link) == 0);
    memset(key, 0xAA, sizeof key);
    CHECK_EQ_INT(cm_keyfile_read(link, key, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, link));
    CHECK(fx_contains(err.msg, "symbolic link"));
    check_all_zero(key);

    puts("refuse a directory");
    const char *dir = fx_path("dir.key");
    fx_mkdir(dir, 0700);
    CHECK_EQ_INT(cm_keyfile_read(dir, key, &err), CM_CFG_EFORMAT);
    CHECK(fx_contains(err.msg, dir));
    CHECK(fx_contains(err.msg, "is a directory"));

    puts("refuse a FIFO without blocking on it");
    const char *fifo = fx_path("fifo.key");
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_EQ_INT(cm_keyfile_read(fifo, key, &err), CM_CFG_EFORMAT);
    CHECK(fx_contains(err.msg, "not a regular file"));

    puts("a missing file is ENOENT and named");
    const char *missing = fx_path("missing.key");
    CHECK_EQ_INT(cm_keyfile_read(missing, key, &err), CM_CFG_ENOENT);
    CHECK(fx_contains(err.msg, missing));
    CHECK(fx_contains(err.msg, "does not exist"));

    puts("a path through a regular file cannot be read (ENOTDIR): EIO, named");
    const char *through = fx_path("target.key/x.key");
    CHECK_EQ_INT(cm_keyfile_read(through, key, &err), CM_CFG_EIO);
    CHECK(fx_contains(err.msg, through));

    puts("NULL arguments");
    CHECK_EQ_INT(cm_keyfile_read(NULL, key, &err), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_keyfile_read(target, NULL, &err), CM_CFG_EINVAL);
}

int main(void)
{
    fixture_init();
    test_accepted();
    test_refused_content();
    test_refused_modes();
    test_refused_types();
    puts("ok");
    return 0;
}
