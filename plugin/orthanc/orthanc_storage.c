/* orthanc_storage.c - the storage area's write side (orthanc_storage.h): where files live,
 * masking DICOM objects, sealing everything else, removal, and the shared file helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosmask/app_file.h"
#include "chaosmask/app_outcome.h"
#include "storage_internal.h"

/* Stored files are for Orthanc alone (it runs as its own user). */
#define STORED_FILE_MODE 0600u
#define STORED_DIR_MODE 0700

/* ---- where files live ---- */

static int uuid_valid(const char *uuid)
{
    size_t n = uuid != NULL ? strlen(uuid) : 0;
    if (n < 4 || n > CMO_UUID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = uuid[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
            return 0;
    }
    return 1;
}

int cmo_storage_path(const cmo_storage *s, const char *uuid, const char *suffix, char out[CM_PATH_MAX],
                     cm_error *err)
{
    /* Orthanc makes the UUIDs, but a name that could leave the directory is never used. */
    if (!uuid_valid(uuid))
        return cm_fail(err, CM_APP_EUSAGE, "attachment name '%.80s' is not a UUID", uuid ? uuid : "");
    int n = snprintf(out, CM_PATH_MAX, "%s/%.2s/%.2s/%s%s", s->dir, uuid, uuid + 2, uuid, suffix ? suffix : "");
    if (n < 0 || n >= (int)CM_PATH_MAX)
        return cm_fail(err, CM_APP_EIO, "storage path for %s is too long", uuid);
    return 0;
}

/* mkdir of one level; a new directory is made durable in its parent. */
static int make_dir(const char *path, const char *parent, cm_error *err)
{
    if (mkdir(path, STORED_DIR_MODE) == 0)
        return cm_fsync_dir(parent, err);
    if (errno == EEXIST)
        return 0;
    return cm_fail(err, CM_APP_EIO, "cannot create %s: %s", path, strerror(errno));
}

/* DIR/aa and DIR/aa/bb for uuid. */
static int make_parents(const cmo_storage *s, const char *uuid, cm_error *err)
{
    char a[CM_PATH_MAX], b[CM_PATH_MAX];
    int na = snprintf(a, sizeof a, "%s/%.2s", s->dir, uuid);
    int nb = snprintf(b, sizeof b, "%s/%.2s/%.2s", s->dir, uuid, uuid + 2);
    if (na < 0 || nb < 0 || (size_t)nb >= sizeof b) /* cmo_storage_init bounds the length */
        return cm_fail(err, CM_APP_EIO, "storage path for %s is too long", uuid);
    if (access(b, F_OK) == 0)
        return 0;
    if (make_dir(a, s->dir, err) != 0)
        return err->code;
    return make_dir(b, a, err);
}

static int make_tree(const char *dir, cm_error *err)
{
    char path[CM_PATH_MAX];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, STORED_DIR_MODE) != 0 && errno != EEXIST)
            return cm_fail(err, CM_APP_EIO, "cannot create %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, STORED_DIR_MODE) != 0 && errno != EEXIST)
        return cm_fail(err, CM_APP_EIO, "cannot create the storage directory %s: %s", path, strerror(errno));
    return 0;
}

int cmo_storage_init(cmo_storage *s, const char *dir, int profile, cm_keys *keys, cm_audit *audit,
                     const cm_dicom_limits *limits, int identity_policy, cm_error *err)
{
    memset(s, 0, sizeof *s);
    if (dir == NULL || dir[0] != '/')
        return cm_fail(err, CM_APP_EUSAGE, "the storage directory must be an absolute path");
    if (strlen(dir) + 2 * 3 + CMO_UUID_MAX + sizeof CMO_HEADER_SUFFIX + 32 >= CM_PATH_MAX)
        return cm_fail(err, CM_APP_EUSAGE, "the storage directory path is too long");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    if (make_tree(s->dir, err) != 0)
        return err->code;
    struct stat st;
    if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cm_fail(err, CM_APP_EIO, "the storage directory %s is not a directory", s->dir);
    if (access(s->dir, W_OK | X_OK) != 0)
        return cm_fail(err, CM_APP_EIO, "the storage directory %s is not writable: %s", s->dir, strerror(errno));
    s->profile = profile;
    s->keys = keys;
    s->audit = audit;
    s->limits = *limits;
    s->identity_policy = identity_policy;
    return 0;
}

/* ---- shared helpers ---- */

uint64_t cmo_max_file(const cmo_storage *s)
{
    return s->limits.max_bytes + 4096u;
}

int cmo_read_file(const char *path, uint64_t max, uint8_t **buf, size_t *len, cm_error *err)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cm_fail(err, CM_APP_EIO, "cannot read %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        return cm_fail(err, CM_APP_EIO, "%s is not a regular file of at most %llu bytes", path,
                       (unsigned long long)max);
    }
    size_t n = (size_t)st.st_size, done = 0;
    uint8_t *b = malloc(n ? n : 1);
    while (b != NULL && done < n) {
        ssize_t r = read(fd, b + done, n - done);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
        done += r > 0 ? (size_t)r : 0;
    }
    int e = errno;
    close(fd);
    if (b == NULL)
        return cm_fail(err, CM_APP_ENOMEM, "out of memory reading %s (%zu bytes)", path, n);
    if (done != n) {
        free(b);
        return cm_fail(err, CM_APP_EIO, "cannot read %s: %s", path, done < n ? "file shrank while read" : strerror(e));
    }
    *buf = b;
    *len = n;
    return 0;
}

int cmo_audit(cmo_storage *s, const char *event, const char *path, const char *uuid, uint32_t type,
              const cm_dicom_report *rep, const cm_error *failure, long long bytes)
{
    char detail[160];
    snprintf(detail, sizeof detail, "orthanc attachment %s (content type %u)", uuid, type);
    cm_audit_event ev = cm_audit_event_init(event);
    ev.code = failure != NULL ? failure->code : 0;
    ev.message = failure != NULL ? failure->msg : NULL;
    ev.file = path;
    ev.detail = detail;
    ev.bytes = bytes;
    if (rep != NULL) {
        ev.sop_class_uid = rep->sop_class_uid;
        ev.sop_instance_uid = rep->sop_instance_uid;
        ev.study_instance_uid = rep->study_instance_uid;
        ev.key_id = rep->key_id;
        ev.profile = rep->profile;
    }
    cm_error e = {0, ""};
    return cm_audit_write(s->audit, &ev, &e) == 0 ? 0 : e.code;
}

/* ---- writing ---- */

/* Attachments are written durably; the header copy is derived data (bytes the object holds),
 * so it skips the fsyncs: lost or emptied by a crash, it costs one decryption. */
static int write_bytes(const char *path, const uint8_t *bytes, size_t len, int durable, cm_error *err)
{
    cm_atomic_opts o = {.mode = STORED_FILE_MODE, .sync = durable ? CM_ATOMIC_SYNC_FULL : CM_ATOMIC_SYNC_DEFER};
    return cm_atomic_write_file(path, bytes, len, &o, err);
}

/* Seals bytes under the active key and writes them to path. */
static int write_sealed(cmo_storage *s, const char *path, const cmo_seal_binding *b, const uint8_t *bytes,
                        size_t len, cm_error *err)
{
    uint8_t key[CM_KEYBYTES];
    char id[CM_KEYID_MAX];
    int rc = cm_keys_get(s->keys, NULL, key, id, err);
    if (rc != 0)
        return rc;
    size_t n = cmo_seal_size(len, id);
    uint8_t *sealed = malloc(n);
    if (sealed == NULL)
        rc = cm_fail(err, CM_APP_ENOMEM, "out of memory sealing %zu bytes", len);
    else if ((rc = cmo_seal(sealed, bytes, len, b, id, key, err)) == 0)
        rc = write_bytes(path, sealed, n, b->kind != CMO_SEAL_HEADER, err);
    cm_memzero(key, sizeof key);
    free(sealed);
    return rc;
}

/* The masked object, written straight from DCMTK's data set to the temporary file. */
static int write_object(const char *path, cm_dicom_object *obj, cm_error *err)
{
    cm_atomic f;
    cm_atomic_opts o = {.mode = STORED_FILE_MODE};
    if (cm_atomic_open(&f, path, &o, err) != 0)
        return err->code;
    cm_error w = {0, ""};
    if (cm_dicom_write_fd(obj, f.fd, 0, &w) != 0) {
        cm_atomic_abort(&f);
        return cm_fail(err, CM_APP_EIO, "%s: %s", path, w.msg);
    }
    return cm_atomic_commit(&f, err);
}

/* How many leading bytes of the object as Orthanc gave it to keep for header reads: all but
 * the pixel bytes the object protects.  Those lie at or after the Pixel Data element, so the
 * prefix reaches it wherever it is, except when Overlay or Icon pixels (which come earlier)
 * make it fall short: then Orthanc's header read decrypts the object, correct but slower.
 * 0: nothing worth keeping. */
static size_t header_prefix_length(uint64_t protected_bytes, size_t total)
{
    return protected_bytes > 0 && protected_bytes < total ? total - (size_t)protected_bytes : 0;
}

/* The report of an object that arrived encrypted (nothing was masked here): its SOP Instance
 * UID and the bytes its block protects. */
static void report_of_encrypted(cm_dicom_object *obj, cm_dicom_report *rep)
{
    cm_dicom_info *info = calloc(1, sizeof *info);
    cm_error e = {0, ""};
    if (info != NULL && cm_dicom_inspect(obj, info, &e) == 0 && info->layout_error == 0) {
        size_t count = info->element_count < CM_DICOM_INFO_MAX_ELEMENTS ? info->element_count
                                                                         : CM_DICOM_INFO_MAX_ELEMENTS;
        rep->protected_bytes = 0;
        for (size_t i = 0; i < count; i++)
            rep->protected_bytes += info->elements[i].length;
        snprintf(rep->sop_instance_uid, sizeof rep->sop_instance_uid, "%s", info->sop_instance_uid);
    }
    free(info);
}

/* UUID.header: the SOP Instance UID and the leading bytes (cmo_header_copy layout). */
static int write_header_copy(cmo_storage *s, const char *uuid, const char *sop_uid, const uint8_t *content,
                             size_t prefix, cm_error *err)
{
    char hpath[CM_PATH_MAX];
    size_t n = strlen(sop_uid);
    if (n == 0 || n > CMO_UID_MAX)
        return 0; /* no UID to bind: no copy, header reads decrypt the object */
    int rc = cmo_storage_path(s, uuid, CMO_HEADER_SUFFIX, hpath, err);
    uint8_t *copy = rc == 0 ? malloc(1 + n + prefix) : NULL;
    if (rc == 0 && copy == NULL)
        rc = cm_fail(err, CM_APP_ENOMEM, "out of memory for the header copy of %s", uuid);
    if (rc == 0) {
        copy[0] = (uint8_t)n;
        memcpy(copy + 1, sop_uid, n);
        memcpy(copy + 1 + n, content, prefix);
        cmo_seal_binding b = {uuid, CMO_TYPE_DICOM, CMO_SEAL_HEADER};
        rc = write_sealed(s, hpath, &b, copy, 1 + n + prefix, err);
        cm_memzero(copy, 1 + n + prefix); /* trailing elements after Pixel Data may hold pixels */
    }
    free(copy);
    return rc;
}

/* Masks obj and writes it; an object that is encrypted already is written as it arrived, one
 * with nothing to mask is sealed whole. */
static int store_masked(cmo_storage *s, const char *path, const char *uuid, cm_dicom_object *obj,
                        const uint8_t *content, size_t size, cm_dicom_report *rep, cm_error *err)
{
    uint8_t key[CM_KEYBYTES];
    char id[CM_KEYID_MAX];
    int rc = cm_keys_get(s->keys, NULL, key, id, err);
    if (rc != 0)
        return rc;
    cm_dicom_encrypt_params p = {s->profile, id, key, cm_keys_provider(s->keys), NULL, 0};
    rc = cm_dicom_encrypt(obj, &p, rep, err);
    cm_memzero(key, sizeof key);
    if (rc == 0) {
        cm_dicom_release_bytes(obj);
        return write_object(path, obj, err);
    }
    if (rc == CM_DICOM_EENCRYPTED) {
        memset(err, 0, sizeof *err);
        report_of_encrypted(obj, rep);
        return write_bytes(path, content, size, 1, err);
    }
    if (rc == CM_DICOM_ENOTHING) {
        memset(err, 0, sizeof *err);
        cmo_seal_binding b = {uuid, CMO_TYPE_DICOM, CMO_SEAL_ATTACHMENT};
        return write_sealed(s, path, &b, content, size, err);
    }
    return rc;
}

static int store_dicom(cmo_storage *s, const char *path, const char *uuid, const uint8_t *content, size_t size,
                       cm_error *err)
{
    cm_dicom_object *obj = NULL;
    cm_dicom_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = cm_dicom_parse(&obj, content, size, NULL, &s->limits, err);
    if (rc == 0)
        rc = store_masked(s, path, uuid, obj, content, size, &rep, err);
    cm_dicom_free(obj);
    size_t prefix = header_prefix_length(rep.protected_bytes, size);
    if (rc == 0 && prefix > 0 && (rc = write_header_copy(s, uuid, rep.sop_instance_uid, content, prefix, err)) != 0)
        unlink(path); /* nothing half-stored: Orthanc will not know this UUID */
    if (rc != 0)
        cmo_audit(s, "encrypt", path, uuid, CMO_TYPE_DICOM, &rep, err, (long long)size);
    return rc;
}

int cmo_storage_create(cmo_storage *s, const char *uuid, uint32_t type, const uint8_t *content, size_t size,
                       cm_error *err)
{
    char path[CM_PATH_MAX];
    int rc = cmo_storage_path(s, uuid, NULL, path, err);
    if (rc == 0)
        rc = make_parents(s, uuid, err);
    if (rc == 0 && type == CMO_TYPE_DICOM)
        return store_dicom(s, path, uuid, content, size, err);
    if (rc == 0) {
        cmo_seal_binding b = {uuid, type, CMO_SEAL_ATTACHMENT};
        rc = write_sealed(s, path, &b, content, size, err);
    }
    if (rc != 0)
        cmo_audit(s, "encrypt", path, uuid, type, NULL, err, (long long)size);
    return rc;
}

int cmo_storage_remove(cmo_storage *s, const char *uuid, uint32_t type, cm_error *err)
{
    char path[CM_PATH_MAX], hpath[CM_PATH_MAX];
    if (cmo_storage_path(s, uuid, NULL, path, err) != 0 || cmo_storage_path(s, uuid, CMO_HEADER_SUFFIX, hpath, err) != 0)
        return err->code;
    if (type == CMO_TYPE_DICOM && unlink(hpath) != 0 && errno != ENOENT)
        return cm_fail(err, CM_APP_EIO, "cannot remove %s: %s", hpath, strerror(errno));
    if (unlink(path) != 0 && errno != ENOENT)
        return cm_fail(err, CM_APP_EIO, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}
