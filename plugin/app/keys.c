/* keys.c - the key provider with its cache, and the writing side of the key ring (keygen,
 * activation) through the one atomic writer (app_keys.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chaosmask/app_file.h"
#include "chaosmask/app_keys.h"
#include "chaosmask/app_outcome.h"

typedef struct key_entry {
    char id[CM_KEYID_MAX];
    uint8_t key[CM_KEYBYTES];
    time_t loaded;
    int used;
} key_entry;

/* The secrets live in their own mapping, locked in memory where allowed and left out of core
 * dumps; the bookkeeping in struct cm_keys. */
typedef struct key_page {
    key_entry entries[CM_KEYS_CACHE];
} key_page;

struct cm_keys {
    cm_keyring ring;
    pthread_mutex_t lock;
    key_page *page;
    char active[CM_KEYID_MAX];
    time_t active_loaded;
    unsigned next_victim;
};

static time_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static key_page *page_alloc(void)
{
    void *p = mmap(NULL, sizeof(key_page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    (void)mlock(p, sizeof(key_page));             /* best effort: RLIMIT_MEMLOCK may forbid it */
    (void)madvise(p, sizeof(key_page), MADV_DONTDUMP);
    return p;
}

static void page_free(key_page *p)
{
    if (p == NULL)
        return;
    cm_memzero(p, sizeof *p);
    munlock(p, sizeof *p);
    munmap(p, sizeof *p);
}

void cm_keys_relock(cm_keys *k)
{
    if (k != NULL && k->page != NULL)
        (void)mlock(k->page, sizeof *k->page); /* best effort, as at the first lock */
}

int cm_keys_open(cm_keys **out, const char *dir, cm_error *err)
{
    *out = NULL;
    cm_keys *k = calloc(1, sizeof *k);
    if (k == NULL)
        return cm_fail(err, CM_APP_ENOMEM, "out of memory");
    int rc = cm_keyring_open(&k->ring, dir, err);
    if (rc == 0 && (k->page = page_alloc()) == NULL)
        rc = cm_fail(err, CM_APP_ENOMEM, "cannot map memory for the key cache: %s", strerror(errno));
    if (rc != 0) {
        free(k);
        return rc;
    }
    pthread_mutex_init(&k->lock, NULL);
    snprintf(k->active, sizeof k->active, "%s", k->ring.active_id);
    k->active_loaded = now_seconds();
    *out = k;
    return 0;
}

void cm_keys_close(cm_keys *k)
{
    if (k == NULL)
        return;
    page_free(k->page);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

const char *cm_keys_dir(const cm_keys *k)
{
    return k->ring.dir;
}

int cm_keys_active(cm_keys *k, char id[CM_KEYID_MAX], cm_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&k->lock);
    if (now_seconds() - k->active_loaded >= CM_KEYS_TTL) {
        char fresh[CM_KEYID_MAX];
        rc = cm_keyring_read_active(k->ring.dir, fresh, err);
        if (rc == 0) {
            memcpy(k->active, fresh, sizeof fresh);
            k->active_loaded = now_seconds();
        }
    }
    if (rc == 0)
        memcpy(id, k->active, CM_KEYID_MAX);
    pthread_mutex_unlock(&k->lock);
    if (rc == 0 && id[0] == '\0')
        rc = cm_fail(err, CM_CFG_EUNKNOWNKEY, "key ring %s has no active key (create one with: chaosmask keygen --keyring %s)",
                     k->ring.dir, k->ring.dir);
    return rc;
}

/* The cached entry for id, or NULL; called with the lock held. */
static key_entry *cache_find(cm_keys *k, const char *id, time_t now)
{
    for (unsigned i = 0; i < CM_KEYS_CACHE; i++) {
        key_entry *e = &k->page->entries[i];
        if (e->used && strcmp(e->id, id) == 0) {
            if (now - e->loaded < CM_KEYS_TTL)
                return e;
            cm_memzero(e, sizeof *e); /* expired: read the file again */
            return NULL;
        }
    }
    return NULL;
}

static void cache_store(cm_keys *k, const char *id, const uint8_t key[CM_KEYBYTES], time_t now)
{
    key_entry *slot = NULL;
    for (unsigned i = 0; i < CM_KEYS_CACHE && slot == NULL; i++)
        if (!k->page->entries[i].used)
            slot = &k->page->entries[i];
    if (slot == NULL)
        slot = &k->page->entries[k->next_victim++ % CM_KEYS_CACHE];
    snprintf(slot->id, sizeof slot->id, "%s", id);
    memcpy(slot->key, key, CM_KEYBYTES);
    slot->loaded = now;
    slot->used = 1;
}

int cm_keys_get(cm_keys *k, const char *id, uint8_t key[CM_KEYBYTES], char id_out[CM_KEYID_MAX], cm_error *err)
{
    char active[CM_KEYID_MAX];
    if (id == NULL) {
        int rc = cm_keys_active(k, active, err);
        if (rc != 0)
            return rc;
        id = active;
    }
    int rc = cm_keyid_check(id, err);
    if (rc != 0)
        return rc;
    time_t now = now_seconds();
    pthread_mutex_lock(&k->lock);
    key_entry *e = cache_find(k, id, now);
    if (e != NULL) {
        memcpy(key, e->key, CM_KEYBYTES);
    } else if ((rc = cm_keyring_load_key(&k->ring, id, key, err)) == 0) {
        cache_store(k, id, key, now);
    }
    pthread_mutex_unlock(&k->lock);
    if (rc == 0 && id_out != NULL)
        snprintf(id_out, CM_KEYID_MAX, "%s", id);
    return rc;
}

static int provider_get(void *self, const char *key_id, uint8_t key[CM_KEYBYTES], cm_error *err)
{
    return cm_keys_get(self, key_id, key, NULL, err);
}

cm_key_provider cm_keys_provider(cm_keys *k)
{
    cm_key_provider p = {provider_get, k};
    return p;
}

/* ---- writing keys ---- */

#define KEY_SUFFIX ".key"

/* Creates dir (one level, mode 0700) unless it exists, and makes the new entry durable. */
static int make_ring_dir(const char *dir, cm_error *err)
{
    if (mkdir(dir, 0700) != 0) {
        if (errno == EEXIST)
            return 0;
        return cm_fail(err, errno == ENOENT ? CM_CFG_ENOENT : CM_CFG_EIO, "cannot create key ring directory %s: %s%s",
                       dir, strerror(errno), errno == ENOENT ? " (its parent directory must exist)" : "");
    }
    char parent[CM_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t len = strlen(parent);
    while (len > 1 && parent[len - 1] == '/')
        parent[--len] = '\0';
    char *slash = strrchr(parent, '/');
    if (slash == NULL)
        snprintf(parent, sizeof parent, ".");
    else
        slash[slash == parent ? 1 : 0] = '\0';
    cm_error why;
    if (cm_fsync_dir(parent, &why) != 0)
        return cm_fail(err, CM_CFG_EIO, "%s", why.msg);
    return 0;
}

/* DIR/NAME written atomically; the writer's I/O error reported as a key ring error. */
static int write_ring_file(const char *dir, const char *name, const void *data, size_t len, unsigned mode,
                           int no_replace, cm_error *err)
{
    char path[CM_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return cm_fail(err, CM_CFG_EINVAL, "key ring path %s is too long", dir);
    cm_atomic_opts o = {.mode = mode, .no_replace = no_replace};
    cm_error why;
    if (cm_atomic_write_file(path, data, len, &o, &why) == 0)
        return 0;
    struct stat st;
    if (no_replace && lstat(path, &st) == 0)
        return cm_fail(err, CM_CFG_EEXIST, "%s already exists; it is never overwritten", path);
    return cm_fail(err, CM_CFG_EIO, "%s", why.msg);
}

static int write_active(const char *dir, const char *id, cm_error *err)
{
    char line[CM_KEYID_MAX + 1];
    int n = snprintf(line, sizeof line, "%s\n", id);
    return write_ring_file(dir, "active", line, (size_t)n, 0644, 0, err);
}

/* A fresh random key as DIR/ID.key; CM_CFG_EEXIST when that file exists. */
static int write_new_key(const char *dir, const char *id, cm_error *err)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t key[CM_KEYBYTES];
    char text[2 * CM_KEYBYTES + 1], name[CM_KEYID_MAX + sizeof KEY_SUFFIX];
    snprintf(name, sizeof name, "%s%s", id, KEY_SUFFIX);
    int rc;
    if (cm_random(key, sizeof key) != 0) {
        rc = cm_fail(err, CM_CFG_EIO, "cannot generate key '%s': the random generator failed", id);
    } else {
        for (size_t i = 0; i < sizeof key; i++) {
            text[2 * i] = hex[key[i] >> 4];
            text[2 * i + 1] = hex[key[i] & 15];
        }
        text[2 * sizeof key] = '\n';
        rc = write_ring_file(dir, name, text, sizeof text, 0600, 1, err);
    }
    cm_memzero(key, sizeof key);
    cm_memzero(text, sizeof text);
    return rc;
}

/* k<UTC date-time>, then -2, -3... while taken. */
static int write_dated_key(const char *dir, char id[CM_KEYID_MAX], cm_error *err)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "k%Y%m%dT%H%M%SZ", &tm) == 0)
        return cm_fail(err, CM_CFG_EIO, "cannot format the current UTC time for a key id");
    int rc = CM_CFG_EEXIST;
    for (int i = 1; i < 100 && rc == CM_CFG_EEXIST; i++) {
        if (i == 1)
            snprintf(id, CM_KEYID_MAX, "%s", stamp);
        else
            snprintf(id, CM_KEYID_MAX, "%s-%d", stamp, i);
        rc = write_new_key(dir, id, err);
    }
    if (rc == CM_CFG_EEXIST)
        rc = cm_fail(err, CM_CFG_EEXIST, "key ring %s already holds keys %s to %s-99", dir, stamp, stamp);
    return rc;
}

int cm_keys_generate(const char *dir, const char *id_or_null, int make_active, char id_out[CM_KEYID_MAX],
                     int *is_active, cm_error *err)
{
    if (dir == NULL || dir[0] == '\0')
        return cm_fail(err, CM_CFG_EINVAL, "no key ring directory given");
    if (strlen(dir) + 2 * CM_KEYID_MAX + 32 >= CM_PATH_MAX)
        return cm_fail(err, CM_CFG_EINVAL, "key ring path %s is too long", dir);
    int rc = id_or_null != NULL ? cm_keyid_check(id_or_null, err) : 0;
    if (rc == 0)
        rc = make_ring_dir(dir, err);
    if (rc == 0)
        rc = cm_keyring_check_dir(dir, err);
    if (rc != 0)
        return rc;
    char active[CM_KEYID_MAX];
    rc = cm_keyring_read_active(dir, active, err);
    if (rc != 0 && !make_active) /* a broken `active` is repaired only on request */
        return rc;
    int becomes_active = make_active || active[0] == '\0';
    char id[CM_KEYID_MAX];
    if (id_or_null != NULL) {
        snprintf(id, sizeof id, "%s", id_or_null);
        if ((rc = write_new_key(dir, id, err)) == CM_CFG_EEXIST)
            rc = cm_fail(err, CM_CFG_EEXIST,
                         "key '%s' already exists in key ring %s (%s/%s" KEY_SUFFIX "); key files are never overwritten",
                         id, dir, dir, id);
    } else {
        rc = write_dated_key(dir, id, err);
    }
    if (rc != 0)
        return rc;
    if (becomes_active) {
        cm_error why;
        if ((rc = write_active(dir, id, &why)) != 0)
            return cm_fail(err, rc, "key '%s' was created but could not be made active: %s", id, why.msg);
    }
    if (id_out != NULL)
        snprintf(id_out, CM_KEYID_MAX, "%s", id);
    if (is_active != NULL)
        *is_active = becomes_active;
    return 0;
}

int cm_keys_set_active(const char *dir, const char *id, cm_error *err)
{
    if (dir == NULL || dir[0] == '\0')
        return cm_fail(err, CM_CFG_EINVAL, "no key ring directory given");
    int rc = cm_keyid_check(id, err);
    if (rc == 0)
        rc = cm_keyring_check_dir(dir, err);
    cm_keyring ring;
    memset(&ring, 0, sizeof ring);
    snprintf(ring.dir, sizeof ring.dir, "%s", dir);
    /* only a key that can actually be read may become the key of every new object */
    uint8_t key[CM_KEYBYTES];
    if (rc == 0)
        rc = cm_keyring_load_key(&ring, id, key, err);
    cm_memzero(key, sizeof key);
    return rc != 0 ? rc : write_active(dir, id, err);
}
