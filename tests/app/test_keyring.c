/* test_keyring.c - key ids, key generation and activation (the application layer writes
 * keys), the active key, and the refusals of the key ring (modes, unknown keys, invalid ids,
 * overwrites); then the key provider's cache. */
#include "config/fixture.h"

#include <dirent.h>
#include <time.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/app_keys.h"
#include "chaosmask/config.h"

static void test_keyid_valid(void)
{
    puts("key id syntax");
    char id63[64], id64[65], id70[71];
    memset(id63, 'a', 63);
    id63[63] = '\0';
    memset(id64, 'b', 64);
    id64[64] = '\0';
    memset(id70, 'c', 70);
    id70[70] = '\0';
    CHECK_EQ_INT(cm_keyid_valid("k1"), 1);
    CHECK_EQ_INT(cm_keyid_valid("site-A_2026.01"), 1);
    CHECK_EQ_INT(cm_keyid_valid("k20261124T120501Z-2"), 1);
    CHECK_EQ_INT(cm_keyid_valid(id63), 1);
    const char *bad[] = {"",    "../x", "a/b",       ".hidden", "..", ".",
                         "a b", "a\nb", "k\xc3\xa4", "a\\b",    id64, id70};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(cm_keyid_valid(bad[i]), 0);
    CHECK_EQ_INT(cm_keyid_valid(NULL), 0);
}

static int mode_of(const char *path)
{
    struct stat sb;
    CHECK(lstat(path, &sb) == 0);
    return (int)(sb.st_mode & 07777);
}

static void check_active(const char *dir, const char *want)
{
    cm_keyring kr;
    cm_error err = {0, ""};
    int rc = cm_keyring_open(&kr, dir, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    if (strcmp(kr.active_id, want) != 0)
        fprintf(stderr, "active '%s', expected '%s'\n", kr.active_id, want);
    CHECK(strcmp(kr.active_id, want) == 0);
}

/* No temporary file of an atomic write may survive. */
static void check_no_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_name[0] == '.')
            fprintf(stderr, "leftover %s/%s\n", dir, e->d_name);
        CHECK(e->d_name[0] != '.');
    }
    closedir(d);
}

static int is_timestamp_id(const char *id)
{
    /* k + YYYYmmdd + T + HHMMSS + Z */
    if (strlen(id) != 17 || id[0] != 'k' || id[9] != 'T' || id[16] != 'Z')
        return 0;
    return strspn(id + 1, "0123456789") == 8 && strspn(id + 10, "0123456789") == 6;
}

static void test_generate_and_activate(void)
{
    char ring[CM_PATH_MAX];
    snprintf(ring, sizeof ring, "%s", fx_path("ring"));
    char id1[CM_KEYID_MAX], id[CM_KEYID_MAX], path[CM_PATH_MAX], text[256];
    int active = -1;
    cm_error err = {0, ""};

    puts("first key: creates the ring 0700, key file 0600 with 64 hex + newline, becomes active");
    int rc = cm_keys_generate(ring, NULL, 0, id1, &active, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    CHECK(is_timestamp_id(id1));
    CHECK_EQ_INT(active, 1);
    CHECK_EQ_INT(mode_of(ring), 0700);
    CHECK(snprintf(path, sizeof path, "%s/%s.key", ring, id1) < (int)sizeof path);
    CHECK_EQ_INT(mode_of(path), 0600);
    CHECK_EQ_INT(fx_read(path, text, sizeof text), 65);
    CHECK_EQ_INT(strspn(text, "0123456789abcdef"), 64);
    CHECK_EQ_INT(text[64], '\n');
    CHECK_EQ_INT(fx_read(fx_path("ring/active"), text, sizeof text), (long)strlen(id1) + 1);
    CHECK(strncmp(text, id1, strlen(id1)) == 0);
    check_active(ring, id1);

    puts("second key: not active unless asked");
    CHECK_EQ_INT(cm_keys_generate(ring, "second", 0, id, &active, &err), 0);
    CHECK(strcmp(id, "second") == 0);
    CHECK_EQ_INT(active, 0);
    CHECK_EQ_INT(mode_of(fx_path("ring/second.key")), 0600);
    check_active(ring, id1);

    puts("the two keys differ and both load");
    cm_keyring kr;
    uint8_t k1[32], k2[32];
    CHECK_EQ_INT(cm_keyring_open(&kr, ring, &err), 0);
    CHECK_EQ_INT(cm_keyring_load_key(&kr, id1, k1, &err), 0);
    CHECK_EQ_INT(cm_keyring_load_key(&kr, "second", k2, &err), 0);
    CHECK(memcmp(k1, k2, 32) != 0);

    puts("third key with make_active becomes active");
    CHECK_EQ_INT(cm_keys_generate(ring, "third", 1, id, &active, &err), 0);
    CHECK_EQ_INT(active, 1);
    check_active(ring, "third");

    puts("a duplicate id is refused and the file is untouched");
    char before[256], after[256];
    CHECK_EQ_INT(fx_read(fx_path("ring/second.key"), before, sizeof before), 65);
    rc = cm_keys_generate(ring, "second", 1, id, &active, &err);
    CHECK_EQ_INT(rc, CM_CFG_EEXIST);
    CHECK(fx_contains(err.msg, "'second' already exists"));
    CHECK(fx_contains(err.msg, fx_path("ring/second.key")));
    CHECK_EQ_INT(fx_read(fx_path("ring/second.key"), after, sizeof after), 65);
    CHECK(strcmp(before, after) == 0);
    check_active(ring, "third"); /* a refused key never becomes active */

    puts("set_active switches to an existing key");
    CHECK_EQ_INT(cm_keys_set_active(ring, "second", &err), 0);
    check_active(ring, "second");
    CHECK_EQ_INT(cm_keys_set_active(ring, "nope", &err), CM_CFG_EUNKNOWNKEY);
    CHECK(fx_contains(err.msg, fx_path("ring/nope.key")));
    check_active(ring, "second");
    CHECK_EQ_INT(cm_keys_set_active(ring, "../x", &err), CM_CFG_EINVAL);
    check_active(ring, "second");

    puts("set_active refuses a key whose mode is too open");
    CHECK(chmod(fx_path("ring/third.key"), 0644) == 0);
    CHECK_EQ_INT(cm_keys_set_active(ring, "third", &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "has mode 0644"));
    check_active(ring, "second");
    CHECK_EQ_INT(cm_keyring_load_key(&kr, "third", k1, &err), CM_CFG_EMODE);
    CHECK(chmod(fx_path("ring/third.key"), 0600) == 0);

    puts("the active file is written 0644 and holds one line");
    CHECK_EQ_INT(mode_of(fx_path("ring/active")), 0644);
    CHECK_EQ_INT(fx_read(fx_path("ring/active"), text, sizeof text), 7);
    CHECK(strcmp(text, "second\n") == 0);
    check_no_leftovers(ring);
    cm_memzero(k1, sizeof k1);
    cm_memzero(k2, sizeof k2);
}

static void test_generated_id_suffix(void)
{
    puts("a generated id that is taken gets -2");
    char ring[CM_PATH_MAX];
    snprintf(ring, sizeof ring, "%s", fx_path("ring-suffix"));
    fx_mkdir(ring, 0700);
    /* occupy the ids of this second and the next two, in case the clock ticks meanwhile */
    time_t now = time(NULL);
    char stamps[3][32];
    for (int i = 0; i < 3; i++) {
        time_t t = now + i;
        struct tm tm;
        CHECK(gmtime_r(&t, &tm) != NULL);
        CHECK(strftime(stamps[i], sizeof stamps[i], "k%Y%m%dT%H%M%SZ", &tm) > 0);
        fx_write(fx_path("ring-suffix/%s.key", stamps[i]),
                 "00000000000000000000000000000000000000000000000000000000000000ff\n", 0600);
    }
    char id[CM_KEYID_MAX];
    int active = -1;
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_keys_generate(ring, NULL, 0, id, &active, &err), 0);
    size_t len = strlen(id);
    CHECK(len == 19 && strcmp(id + 17, "-2") == 0);
    CHECK(strncmp(id, stamps[0], 17) == 0 || strncmp(id, stamps[1], 17) == 0 ||
          strncmp(id, stamps[2], 17) == 0);
    CHECK_EQ_INT(active, 1); /* no `active` existed: the first generated key becomes active */
    check_active(ring, id);
    check_no_leftovers(ring);
}

static void test_refusals(void)
{
    char id[CM_KEYID_MAX];
    int active = -1;
    cm_error err = {0, ""};
    uint8_t key[32];

    puts("invalid ids are refused by generate and load_key, nothing is written");
    char ring[CM_PATH_MAX];
    snprintf(ring, sizeof ring, "%s", fx_path("ring-ids"));
    char id70[71];
    memset(id70, 'x', 70);
    id70[70] = '\0';
    const char *bad[] = {"../x", "", "a/b", ".hidden", id70};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(cm_keys_generate(ring, bad[i], 1, id, &active, &err), CM_CFG_EINVAL);
        CHECK(fx_contains(err.msg, "not a valid key id"));
    }
    CHECK(access(ring, F_OK) != 0); /* not even the directory was created */
    CHECK(access(fx_path("x.key"), F_OK) != 0);
    CHECK_EQ_INT(cm_keys_generate(ring, "good", 0, id, &active, &err), 0);
    cm_keyring kr;
    CHECK_EQ_INT(cm_keyring_open(&kr, ring, &err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(cm_keyring_load_key(&kr, bad[i], key, &err), CM_CFG_EINVAL);
    /* control characters in a bad id are escaped in the message */
    CHECK_EQ_INT(cm_keyring_load_key(&kr, "evil\nline", key, &err), CM_CFG_EINVAL);
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK(fx_contains(err.msg, "evil\\x0aline"));

    puts("an unknown key names where it looked and what the ring holds");
    CHECK_EQ_INT(cm_keys_generate(ring, "another", 0, id, &active, &err), 0);
    CHECK_EQ_INT(cm_keyring_load_key(&kr, "absent", key, &err), CM_CFG_EUNKNOWNKEY);
    CHECK(fx_contains(err.msg, fx_path("ring-ids/absent.key")));
    CHECK(fx_contains(err.msg, "holds: another, good"));

    puts("open: missing ring, ring open to others, a file instead of a directory");
    CHECK_EQ_INT(cm_keyring_open(&kr, fx_path("no-such-ring"), &err), CM_CFG_ENOENT);
    CHECK(fx_contains(err.msg, fx_path("no-such-ring")));
    char wide[CM_PATH_MAX];
    snprintf(wide, sizeof wide, "%s", fx_path("ring-wide"));
    fx_mkdir(wide, 0777);
    CHECK_EQ_INT(cm_keyring_open(&kr, wide, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, wide));
    CHECK(fx_contains(err.msg, "has mode 0777"));
    CHECK_EQ_INT(cm_keys_generate(wide, "k", 0, id, &active, &err), CM_CFG_EMODE);
    CHECK(access(fx_path("ring-wide/k.key"), F_OK) != 0);
    CHECK(chmod(wide, 0770) == 0);
    CHECK_EQ_INT(cm_keyring_open(&kr, wide, &err), CM_CFG_EMODE);
    CHECK(chmod(wide, 0750) == 0); /* readable by a group is fine */
    CHECK_EQ_INT(cm_keyring_open(&kr, wide, &err), 0);
    CHECK(strcmp(kr.active_id, "") == 0); /* no key yet */
    fx_write(fx_path("plain-file"), "x", 0600);
    CHECK_EQ_INT(cm_keyring_open(&kr, fx_path("plain-file"), &err), CM_CFG_EFORMAT);
    CHECK(fx_contains(err.msg, "not a directory"));

    puts("generate refuses a ring whose parent does not exist");
    CHECK_EQ_INT(cm_keys_generate(fx_path("no/parent"), NULL, 0, id, &active, &err),
                 CM_CFG_ENOENT);
    CHECK(fx_contains(err.msg, fx_path("no/parent")));

    puts("a broken `active` is an error; generate repairs it only with make_active");
    char broken[CM_PATH_MAX];
    snprintf(broken, sizeof broken, "%s", fx_path("ring-broken"));
    fx_mkdir(broken, 0700);
    fx_write(fx_path("ring-broken/active"), "../../etc/passwd\n", 0644);
    CHECK_EQ_INT(cm_keyring_open(&kr, broken, &err), CM_CFG_EFORMAT);
    CHECK(fx_contains(err.msg, fx_path("ring-broken/active")));
    CHECK_EQ_INT(cm_keys_generate(broken, "fresh", 0, id, &active, &err), CM_CFG_EFORMAT);
    CHECK(access(fx_path("ring-broken/fresh.key"), F_OK) != 0);
    CHECK_EQ_INT(cm_keys_generate(broken, "fresh", 1, id, &active, &err), 0);
    CHECK_EQ_INT(active, 1);
    check_active(broken, "fresh");
    CHECK(chmod(fx_path("ring-broken/active"), 0666) == 0);
    CHECK_EQ_INT(cm_keyring_open(&kr, broken, &err), CM_CFG_EMODE);
    CHECK(chmod(fx_path("ring-broken/active"), 0644) == 0);

    puts("a key file that is a symlink is refused through the ring too");
    CHECK(symlink(fx_path("ring-ids/good.key"), fx_path("ring-broken/linked.key")) == 0);
    CHECK_EQ_INT(cm_keyring_open(&kr, broken, &err), 0);
    CHECK_EQ_INT(cm_keyring_load_key(&kr, "linked", key, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "symbolic link"));

    puts("NULL arguments");
    CHECK_EQ_INT(cm_keyring_open(NULL, ring, &err), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_keyring_open(&kr, NULL, &err), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_keyring_load_key(NULL, "good", key, &err), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_keys_generate(NULL, NULL, 0, id, &active, NULL), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_keys_set_active(ring, NULL, &err), CM_CFG_EINVAL);
    /* id_out and is_active may be NULL */
    CHECK_EQ_INT(cm_keys_generate(ring, "quiet", 0, NULL, NULL, NULL), 0);
    CHECK(access(fx_path("ring-ids/quiet.key"), F_OK) == 0);
    check_no_leftovers(ring);
}

static void test_provider_cache(void)
{
    puts("the key provider: active key, cache, errors passed through with their own codes");
    char ring[CM_PATH_MAX], id[CM_KEYID_MAX];
    snprintf(ring, sizeof ring, "%s", fx_path("ring-cache"));
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_keys_generate(ring, "one", 0, NULL, NULL, &err), 0);
    CHECK_EQ_INT(cm_keys_generate(ring, "two", 0, NULL, NULL, &err), 0);
    cm_keys *keys = NULL;
    CHECK_EQ_INT(cm_keys_open(&keys, ring, &err), 0);
    uint8_t a[CM_KEYBYTES], b[CM_KEYBYTES];
    CHECK_EQ_INT(cm_keys_get(keys, NULL, a, id, &err), 0);
    CHECK(strcmp(id, "one") == 0);
    CHECK_EQ_INT(cm_keys_active(keys, id, &err), 0);
    CHECK(strcmp(id, "one") == 0);

    puts("a cached key is not read again: replacing its file changes nothing within the TTL");
    CHECK(unlink(fx_path("ring-cache/one.key")) == 0);
    fx_write(fx_path("ring-cache/one.key"), "00000000000000000000000000000000000000000000000000000000000000aa\n", 0600);
    cm_key_provider p = cm_keys_provider(keys);
    CHECK_EQ_INT(p.get(p.self, "one", b, &err), 0);
    CHECK(memcmp(a, b, sizeof a) == 0);

    puts("through the provider: unknown id and a key file of the wrong mode keep their codes");
    CHECK_EQ_INT(p.get(p.self, "three", b, &err), CM_CFG_EUNKNOWNKEY);
    CHECK_EQ_INT(err.code, CM_CFG_EUNKNOWNKEY);
    CHECK(fx_contains(err.msg, "holds: one, two"));
    CHECK(chmod(fx_path("ring-cache/two.key"), 0640) == 0);
    CHECK_EQ_INT(p.get(p.self, "two", b, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "has mode 0640"));
    CHECK_EQ_INT(p.get(p.self, "../one", b, &err), CM_CFG_EINVAL);
    cm_keys_close(keys);

    puts("a ring without an active key says how to make one");
    char empty[CM_PATH_MAX];
    snprintf(empty, sizeof empty, "%s", fx_path("ring-empty"));
    fx_mkdir(empty, 0700);
    CHECK_EQ_INT(cm_keys_open(&keys, empty, &err), 0);
    CHECK_EQ_INT(cm_keys_get(keys, NULL, a, id, &err), CM_CFG_EUNKNOWNKEY);
    CHECK(fx_contains(err.msg, "chaosmask keygen"));
    cm_keys_close(keys);
    cm_memzero(a, sizeof a);
    cm_memzero(b, sizeof b);
}

int main(void)
{
    fixture_init();
    test_keyid_valid();
    test_generate_and_activate();
    test_generated_id_suffix();
    test_refusals();
    test_provider_cache();
    puts("ok");
    return 0;
}
