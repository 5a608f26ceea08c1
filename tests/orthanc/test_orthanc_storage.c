/* test_orthanc_storage.c - the Orthanc storage area without Orthanc: sealed files (round trip,
 * every changed region, a file moved to another attachment), DICOM objects masked and read
 * back exactly, header ranges from the sealed prefix and past it, objects without pixels and
 * other attachments sealed, refusals (tampering, plaintext put into the storage area, a name
 * that is not a UUID, a store that cannot be masked) audited and leaving nothing behind, and
 * the settings read from Orthanc's JSON. */
#include "config/fixture.h"

#include "attachment_seal.h"
#include "chaosmask/app_outcome.h"
#include "orthanc_settings.h"
#include "orthanc_storage.h"

#define SAMPLES "/usr/lib/python3/dist-packages/pydicom/data/test_files"
#define UUID_A "0123abcd-0000-4000-8000-000000000001"
#define UUID_B "0123abcd-0000-4000-8000-000000000002"

static cm_keys *keys;
static cm_audit *audit;
static cmo_storage store;

typedef struct heap {
    uint8_t *buf;
    uint64_t size;
} heap;

static uint8_t *heap_alloc(void *self, uint64_t size)
{
    heap *h = self;
    free(h->buf);
    h->buf = malloc(size ? size : 1);
    h->size = size;
    return h->buf;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL); /* the samples come with python3-pydicom (scripts/deps.sh) */
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    CHECK(n > 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n);
    CHECK(b != NULL && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void flip_byte(const char *path, long from_end)
{
    size_t len;
    uint8_t *b = load(path, &len);
    b[len - (size_t)from_end] ^= 0x01;
    fx_write_bytes(path, b, len, 0600);
    free(b);
}

static int audit_has(const char *needle)
{
    size_t len;
    uint8_t *b = load(fx_path("audit.log"), &len);
    b = realloc(b, len + 1);
    b[len] = 0;
    int found = strstr((char *)b, needle) != NULL;
    free(b);
    return found;
}

static const char *stored(const char *uuid, const char *suffix)
{
    static char path[CM_PATH_MAX];
    cm_error e = {0, ""};
    CHECK_EQ_INT(cmo_storage_path(&store, uuid, suffix, path, &e), 0);
    return path;
}

static void setup(void)
{
    cm_error e = {0, ""};
    char id[CM_KEYID_MAX];
    fixture_init();
    cm_dicom_set_log_level(CM_LOG_WARN); /* DCMTK's own warnings stay out of the test's output */
    CHECK_EQ_INT(cm_keys_generate(fx_path("keyring"), "site1", 1, id, NULL, &e), 0);
    CHECK_EQ_INT(cm_keys_open(&keys, fx_path("keyring"), &e), 0);
    CHECK_EQ_INT(cm_audit_open(&audit, fx_path("audit.log"), 0, "chaosmask-orthanc", &e), 0);
    cm_dicom_limits lim;
    cm_dicom_limits_default(&lim);
    CHECK_EQ_INT(cmo_storage_init(&store, fx_path("storage/sub"), CM_PROFILE_LORENZ_CHACHA20, keys, audit, &lim,
                                  CM_DICOM_IDENTITY_REFUSE, &e), 0);
}

static void test_seal(void)
{
    puts("sealed files: round trip; a changed header, ciphertext or tag byte, another binding, a cut file fail");
    const uint8_t plain[] = "{\"PatientName\": \"DOE^JANE\"}";
    uint8_t key[CM_KEYBYTES], out[sizeof plain];
    cm_error e = {0, ""};
    CHECK_EQ_INT(cm_keys_get(keys, "site1", key, NULL, &e), 0);
    cmo_seal_binding b = {UUID_A, 2, CMO_SEAL_ATTACHMENT};
    size_t n = cmo_seal_size(sizeof plain, "site1");
    uint8_t *s = malloc(n);
    CHECK_EQ_INT(cmo_seal(s, plain, sizeof plain, &b, "site1", key, &e), 0);
    CHECK(cmo_seal_is_sealed(s, n) && memmem(s, n, "DOE^JANE", 8) == NULL);
    char id[CM_KEYID_MAX];
    CHECK_EQ_INT(cmo_unseal(out, s, n, &b, keys, id, &e), 0);
    CHECK(memcmp(out, plain, sizeof plain) == 0 && strcmp(id, "site1") == 0);
    for (size_t i = 9; i < n; i++) {      /* every byte after the magic and version */
        s[i] ^= 0x80;
        int rc = cmo_unseal(out, s, n, &b, keys, NULL, &e);
        CHECK(rc == CM_DICOM_EAUTH || rc == CM_DICOM_EBLOCK || rc == CM_CFG_EUNKNOWNKEY || rc == CM_CFG_EINVAL);
        s[i] ^= 0x80;
    }
    cmo_seal_binding other[] = {{UUID_B, 2, CMO_SEAL_ATTACHMENT}, {UUID_A, 3, CMO_SEAL_ATTACHMENT},
                                {UUID_A, 2, CMO_SEAL_HEADER}};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(cmo_unseal(out, s, n, &other[i], keys, NULL, &e), CM_DICOM_EAUTH);
    CHECK_EQ_INT(cmo_unseal(out, s, n - 1, &b, keys, NULL, &e), CM_DICOM_EBLOCK);
    cm_memzero(key, sizeof key);
    free(s);
}

static void test_dicom_round_trip(void)
{
    puts("a DICOM object is stored masked (no plaintext), read back exactly; header ranges from the prefix");
    size_t len;
    uint8_t *ct = load(SAMPLES "/CT_small.dcm", &len);
    cm_error e = {0, ""};
    CHECK_EQ_INT(cmo_storage_create(&store, UUID_A, CMO_TYPE_DICOM, ct, len, &e), 0);
    size_t slen;
    uint8_t *s = load(stored(UUID_A, NULL), &slen);
    CHECK(slen > 132 && memcmp(s + 128, "DICM", 4) == 0);
    CHECK(memmem(s, slen, ct + len - 4096, 64) == NULL);   /* the last pixel rows are masked */
    free(s);
    heap h = {NULL, 0};
    cmo_sink sink = {heap_alloc, &h};
    CHECK_EQ_INT(cmo_storage_read(&store, UUID_A, CMO_TYPE_DICOM, &sink, &e), 0);
    CHECK(h.size == len && memcmp(h.buf, ct, len) == 0);
    CHECK(audit_has("\"event\": \"decrypt\", \"outcome\": \"ok\""));
    uint8_t part[512];
    CHECK_EQ_INT(cmo_storage_read_range(&store, UUID_A, CMO_TYPE_DICOM, 100, part, sizeof part, &e), 0);
    CHECK(memcmp(part, ct + 100, sizeof part) == 0);
    /* past the prefix: the whole object is decrypted for it */
    CHECK_EQ_INT(cmo_storage_read_range(&store, UUID_A, CMO_TYPE_DICOM, len - 512, part, sizeof part, &e), 0);
    CHECK(memcmp(part, ct + len - 512, sizeof part) == 0);
    CHECK(cm_outcome_of(cmo_storage_read_range(&store, UUID_A, CMO_TYPE_DICOM, len - 10, part, 20, &e)) != CM_OUT_OK);
    free(h.buf);
    free(ct);
}

static void test_sealed_kinds(void)
{
    puts("an object without pixels and a JSON attachment are sealed whole and read back");
    size_t len;
    uint8_t *plan = load(SAMPLES "/rtplan.dcm", &len);
    const char json[] = "{\"0010,0010\": {\"Name\": \"PatientName\", \"Value\": \"DOE^JOHN\"}}";
    cm_error e = {0, ""};
    CHECK_EQ_INT(cmo_storage_create(&store, UUID_B, CMO_TYPE_DICOM, plan, len, &e), 0);
    CHECK_EQ_INT(cmo_storage_create(&store, UUID_B "-j", 2, (const uint8_t *)json, sizeof json, &e), 0);
    size_t slen;
    uint8_t *s = load(stored(UUID_B, NULL), &slen);
    CHECK(cmo_seal_is_sealed(s, slen));
    free(s);
    s = load(stored(UUID_B "-j", NULL), &slen);
    CHECK(cmo_seal_is_sealed(s, slen) && memmem(s, slen, "DOE^JOHN", 8) == NULL);
    free(s);
    heap h = {NULL, 0};
    cmo_sink sink = {heap_alloc, &h};
    CHECK_EQ_INT(cmo_storage_read(&store, UUID_B, CMO_TYPE_DICOM, &sink, &e), 0);
    CHECK(h.size == len && memcmp(h.buf, plan, len) == 0);
    CHECK_EQ_INT(cmo_storage_read(&store, UUID_B "-j", 2, &sink, &e), 0);
    CHECK(h.size == sizeof json && memcmp(h.buf, json, sizeof json) == 0);
    uint8_t part[16];
    CHECK_EQ_INT(cmo_storage_read_range(&store, UUID_B "-j", 2, 4, part, sizeof part, &e), 0);
    CHECK(memcmp(part, json + 4, sizeof part) == 0);
    free(h.buf);
    free(plan);
}

static void test_refusals(void)
{
    puts("a changed header prefix is audited and passed over: the range comes from the object");
    heap h = {NULL, 0};
    cmo_sink sink = {heap_alloc, &h};
    cm_error e = {0, ""};
    uint8_t part[64];
    size_t ct_len;
    uint8_t *ct = load(SAMPLES "/CT_small.dcm", &ct_len);
    flip_byte(stored(UUID_A, CMO_HEADER_SUFFIX), 40);
    CHECK_EQ_INT(cmo_storage_read_range(&store, UUID_A, CMO_TYPE_DICOM, 0, part, sizeof part, &e), 0);
    CHECK(memcmp(part, ct, sizeof part) == 0);
    CHECK(audit_has("the object is read instead"));
    free(ct);
    puts("tampering, a moved file, plaintext put into the storage area: refused and audited");
    flip_byte(stored(UUID_A, NULL), 2000);
    CHECK_EQ_INT(cm_outcome_of(cmo_storage_read(&store, UUID_A, CMO_TYPE_DICOM, &sink, &e)), CM_OUT_AUTH);
    CHECK(audit_has("\"outcome\": \"refused\", \"reason\": \"auth\"") && audit_has(UUID_A));
    char json_path[CM_PATH_MAX];
    snprintf(json_path, sizeof json_path, "%s", stored(UUID_B "-j", NULL));
    CHECK(rename(json_path, stored(UUID_B, NULL)) == 0);  /* the JSON's sealed file under the DICOM's name */
    CHECK_EQ_INT(cm_outcome_of(cmo_storage_read(&store, UUID_B, CMO_TYPE_DICOM, &sink, &e)), CM_OUT_AUTH);
    size_t len;
    uint8_t *mr = load(SAMPLES "/MR_small.dcm", &len);
    fx_write_bytes(stored(UUID_B, NULL), mr, len, 0600);
    CHECK_EQ_INT(cmo_storage_read(&store, UUID_B, CMO_TYPE_DICOM, &sink, &e), CM_DICOM_ENOTENCRYPTED);
    CHECK(strstr(e.msg, "not encrypted") != NULL);
    CHECK_EQ_INT(cmo_storage_read(&store, "../../etc/passwd", 2, &sink, &e), CM_APP_EUSAGE);
    free(mr);
    free(h.buf);
}

static void test_swapped_objects(void)
{
    puts("an object moved under another object's name is refused: the header copy names the instance");
    const char *u1 = "0123abcd-0000-4000-8000-0000000000a1", *u2 = "0123abcd-0000-4000-8000-0000000000a2";
    size_t l1, l2;
    uint8_t *ct = load(SAMPLES "/CT_small.dcm", &l1), *mr = load(SAMPLES "/MR_small.dcm", &l2);
    cm_error e = {0, ""};
    CHECK_EQ_INT(cmo_storage_create(&store, u1, CMO_TYPE_DICOM, ct, l1, &e), 0);
    CHECK_EQ_INT(cmo_storage_create(&store, u2, CMO_TYPE_DICOM, mr, l2, &e), 0);
    char p2[CM_PATH_MAX];
    snprintf(p2, sizeof p2, "%s", stored(u2, NULL));
    CHECK(rename(p2, stored(u1, NULL)) == 0);   /* MR's object under CT's name; CT's header copy stays */
    heap h = {NULL, 0};
    cmo_sink sink = {heap_alloc, &h};
    CHECK_EQ_INT(cm_outcome_of(cmo_storage_read(&store, u1, CMO_TYPE_DICOM, &sink, &e)), CM_OUT_AUTH);
    CHECK(strstr(e.msg, "moved or swapped") != NULL && audit_has("moved or swapped"));
    free(h.buf);
    free(ct);
    free(mr);
}

static void test_store_refused(void)
{
    puts("a store that cannot be masked is refused, audited, and leaves no file");
    const char not_dicom[] = "this is not a DICOM object at all, but Orthanc said it was";
    const char *uuid = "0123abcd-0000-4000-8000-00000000000f";
    cm_error e = {0, ""};
    CHECK_EQ_INT(cm_outcome_of(cmo_storage_create(&store, uuid, CMO_TYPE_DICOM, (const uint8_t *)not_dicom,
                                                  sizeof not_dicom, &e)), CM_OUT_INPUT);
    CHECK(access(stored(uuid, NULL), F_OK) != 0 && access(stored(uuid, CMO_HEADER_SUFFIX), F_OK) != 0);
    CHECK(audit_has("\"event\": \"encrypt\", \"outcome\": \"refused\""));
    puts("remove takes the object and its prefix; removing again is not an error");
    CHECK_EQ_INT(cmo_storage_remove(&store, UUID_A, CMO_TYPE_DICOM, &e), 0);
    CHECK(access(stored(UUID_A, NULL), F_OK) != 0 && access(stored(UUID_A, CMO_HEADER_SUFFIX), F_OK) != 0);
    CHECK_EQ_INT(cmo_storage_remove(&store, UUID_A, CMO_TYPE_DICOM, &e), 0);
}

static void test_settings(void)
{
    puts("settings: defaults, relative paths, unknown keys and wrong types named");
    cmo_settings s;
    cm_error e = {0, ""};
    CHECK_EQ_INT(cmo_settings_parse(&s, "{}", "/etc/orthanc", &e), 0);
    CHECK(strcmp(s.storage_dir, "/etc/orthanc/OrthancStorage") == 0 && !s.has_section && s.storage_cache_mb == 128);
    CHECK_EQ_INT(cmo_settings_parse(&s, "{\"StorageDirectory\": \"/srv/st\", \"MaximumStorageCacheSize\": 0, "
                                        "\"ChaosMask\": {\"Config\": \"cm.ini\", \"KeyRing\": \"/k\", "
                                        "\"Profile\": \"aes-256-gcm\"}}", "/etc/orthanc", &e), 0);
    CHECK(strcmp(s.storage_dir, "/srv/st") == 0 && strcmp(s.config_path, "/etc/orthanc/cm.ini") == 0);
    CHECK(strcmp(s.keyring_dir, "/k") == 0 && strcmp(s.profile, "aes-256-gcm") == 0 && s.storage_cache_mb == 0);
    CHECK_EQ_INT(cmo_settings_parse(&s, "{\"ChaosMask\": {\"Keyring\": \"/k\"}}", "/", &e), CM_APP_EUSAGE);
    CHECK(strstr(e.msg, "ChaosMask.Keyring") != NULL);
    CHECK_EQ_INT(cmo_settings_parse(&s, "{\"ChaosMask\": {\"Config\": 3}}", "/", &e), CM_APP_EUSAGE);
    CHECK(strstr(e.msg, "ChaosMask.Config") != NULL);
    CHECK_EQ_INT(cmo_settings_parse(&s, "{\"StorageCompression\": true}", "/", &e), 0);
    CHECK(s.storage_compression == 1);
    CHECK_EQ_INT(cmo_settings_parse(&s, "{\"StorageCompression\": \"yes\"}", "/", &e), CM_APP_EUSAGE);
    CHECK_EQ_INT(cmo_settings_parse(&s, "{not json", "/", &e), CM_APP_EUSAGE);
}

int main(void)
{
    setup();
    test_seal();
    test_dicom_round_trip();
    test_sealed_kinds();
    test_refusals();
    test_swapped_objects();
    test_store_refused();
    test_settings();
    cm_audit_close(audit);
    cm_keys_close(keys);
    puts("all checks passed");
    return 0;
}
