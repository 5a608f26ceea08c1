/* orthanc_read.c - the storage area's read side (orthanc_storage.h): authenticate, unmask or
 * unseal, audit, hand out; range reads of a DICOM header from its sealed header copy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosmask/app_outcome.h"
#include "storage_internal.h"

/* A sink into a malloc'ed buffer of our own (range reads that need the whole attachment). */
typedef struct heap_sink {
    uint8_t *buf;
    uint64_t size;
} heap_sink;

static uint8_t *heap_alloc(void *self, uint64_t size)
{
    heap_sink *h = self;
    h->buf = malloc(size ? (size_t)size : 1);
    h->size = size;
    return h->buf;
}

static void heap_wipe(heap_sink *h)
{
    if (h->buf != NULL)
        cm_memzero(h->buf, (size_t)h->size);
    free(h->buf);
    h->buf = NULL;
}

/* Opens a sealed attachment into a sink.  Refusals are audited by the caller. */
static int unseal_to_sink(cmo_storage *s, const uint8_t *sealed, size_t len, const cmo_seal_binding *b,
                          const cmo_sink *sink, char key_id[CM_KEYID_MAX], cm_error *err)
{
    uint64_t plain = 0;
    int rc = cmo_seal_plain_length(sealed, len, &plain, err);
    if (rc != 0)
        return rc;
    uint8_t *tmp = malloc(plain ? (size_t)plain : 1);
    if (tmp == NULL)
        return cm_fail(err, CM_APP_ENOMEM, "out of memory opening %llu bytes", (unsigned long long)plain);
    rc = cmo_unseal(tmp, sealed, len, b, s->keys, key_id, err);
    uint8_t *out = rc == 0 ? sink->alloc(sink->self, plain) : NULL;
    if (rc == 0 && out == NULL)
        rc = cm_fail(err, CM_APP_ENOMEM, "out of memory handing out %llu bytes", (unsigned long long)plain);
    if (rc == 0)
        memcpy(out, tmp, (size_t)plain);
    cm_memzero(tmp, (size_t)plain);
    free(tmp);
    return rc;
}

static int read_sealed_file(cmo_storage *s, const char *path, const cmo_seal_binding *b, const cmo_sink *sink,
                            char key_id[CM_KEYID_MAX], cm_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cmo_read_file(path, cmo_max_file(s), &buf, &len, err);
    if (rc == 0)
        rc = unseal_to_sink(s, buf, len, b, sink, key_id, err);
    free(buf);
    return rc;
}

int cmo_header_copy_open(cmo_storage *s, const char *uuid, cmo_header_copy *h, cm_error *err)
{
    char hpath[CM_PATH_MAX];
    struct stat st;
    memset(h, 0, sizeof *h);
    if (cmo_storage_path(s, uuid, CMO_HEADER_SUFFIX, hpath, err) != 0)
        return err->code;
    if (stat(hpath, &st) != 0 && errno == ENOENT)
        return 1;
    heap_sink heap = {NULL, 0};
    cmo_sink sink = {heap_alloc, &heap};
    cmo_seal_binding b = {uuid, CMO_TYPE_DICOM, CMO_SEAL_HEADER};
    int rc = read_sealed_file(s, hpath, &b, &sink, NULL, err);
    if (rc == 0 && (heap.size < 1 || heap.buf[0] == 0 || heap.buf[0] > CMO_UID_MAX || heap.size < 1u + heap.buf[0]))
        rc = cm_fail(err, CM_DICOM_EBLOCK, "%s: the header copy has no SOP Instance UID", hpath);
    if (rc != 0) {
        heap_wipe(&heap);
        return rc;
    }
    h->buf = heap.buf;
    h->len = (size_t)heap.size;
    memcpy(h->sop_uid, h->buf + 1, h->buf[0]);
    h->sop_uid[h->buf[0]] = '\0';
    h->prefix = h->buf + 1 + h->buf[0];
    h->prefix_len = h->len - 1 - h->buf[0];
    return 0;
}

void cmo_header_copy_free(cmo_header_copy *h)
{
    if (h->buf != NULL)
        cm_memzero(h->buf, h->len);
    free(h->buf);
    memset(h, 0, sizeof *h);
}

/* The header copy, or 1 when there is none usable.  One that does not open (changed, or
 * emptied by a crash: it is written without fsync) is audited and passed over: the object
 * itself, which authenticates everything, answers instead. */
static int usable_header_copy(cmo_storage *s, const char *uuid, cmo_header_copy *h)
{
    cm_error e = {0, ""};
    int rc = cmo_header_copy_open(s, uuid, h, &e);
    if (rc < 0) {
        char hpath[CM_PATH_MAX];
        cm_error why = {0, ""};
        cm_fail(&why, rc, "%s; the object is read instead", e.msg);
        if (cmo_storage_path(s, uuid, CMO_HEADER_SUFFIX, hpath, &e) == 0)
            cmo_audit(s, "decrypt", hpath, uuid, CMO_TYPE_DICOM, NULL, &why, -1);
    }
    return rc < 0 ? 1 : rc;
}

/* The object found under uuid must be the one Orthanc stored there: the SOP Instance UID the
 * header copy recorded.  Without a usable copy there is nothing to compare with. */
static int check_identity(cmo_storage *s, const char *uuid, const cm_dicom_report *rep, cm_error *err)
{
    cmo_header_copy h;
    if (usable_header_copy(s, uuid, &h) != 0)
        return 0;
    int same = strcmp(h.sop_uid, rep->sop_instance_uid) == 0;
    cm_error e = {0, ""};
    if (!same)
        cm_fail(&e, CM_DICOM_EAUTH, "attachment %s holds SOP Instance %s, but Orthanc stored %s under it: the "
                "file was moved or swapped", uuid, rep->sop_instance_uid, h.sop_uid);
    cmo_header_copy_free(&h);
    if (!same)
        *err = e;
    return same ? 0 : e.code;
}

/* From the header copy: 0 served, 1 not available (no usable copy, or the range goes past it). */
static int range_from_header(cmo_storage *s, const char *uuid, uint64_t start, uint8_t *out, size_t len)
{
    cmo_header_copy h;
    if (usable_header_copy(s, uuid, &h) != 0)
        return 1;
    int served = start <= h.prefix_len && len <= h.prefix_len - start;
    if (served)
        memcpy(out, h.prefix + start, len);
    cmo_header_copy_free(&h);
    return served ? 0 : 1;
}

/* The decrypted object, serialized into memory (never a file), then audited, then handed out:
 * no plaintext leaves without its record. */
static int hand_out_decrypted(cmo_storage *s, const char *path, const char *uuid, cm_dicom_object *obj,
                              const cm_dicom_report *rep, const cmo_sink *sink, cm_error *err)
{
    int fd = memfd_create("chaosmask-orthanc", MFD_CLOEXEC);
    if (fd < 0)
        return cm_fail(err, CM_APP_EIO, "memfd_create: %s", strerror(errno));
    cm_error w = {0, ""};
    int rc = cm_dicom_write_fd(obj, fd, 0, &w);
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc != 0 || size < 0) {
        close(fd);
        return cm_fail(err, CM_APP_EIO, "cannot serialize the decrypted object: %s", w.msg);
    }
    rc = cmo_audit(s, "decrypt", path, uuid, CMO_TYPE_DICOM, rep, NULL, (long long)rep->protected_bytes);
    if (rc != 0) {
        close(fd);
        return cm_fail(err, rc, "the audit record of this decryption could not be written: nothing handed out");
    }
    uint8_t *out = sink->alloc(sink->self, (uint64_t)size);
    size_t done = 0;
    while (out != NULL && done < (size_t)size) {
        ssize_t r = pread(fd, out + done, (size_t)size - done, (off_t)done);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
        done += r > 0 ? (size_t)r : 0;
    }
    close(fd);
    if (out == NULL)
        return cm_fail(err, CM_APP_ENOMEM, "out of memory handing out %lld bytes", (long long)size);
    if (done != (size_t)size) {
        cm_memzero(out, (size_t)size);
        return cm_fail(err, CM_APP_EIO, "cannot read back the decrypted object from memory");
    }
    return 0;
}

static int decrypt_object(cmo_storage *s, const char *path, const char *uuid, const cmo_sink *sink,
                          cm_dicom_report *rep, cm_error *err)
{
    cm_dicom_object *obj = NULL;
    int rc = cm_dicom_load(&obj, path, &s->limits, err);
    if (rc == 0) {
        cm_dicom_release_bytes(obj);
        cm_dicom_open_params p = {cm_keys_provider(s->keys), NULL, s->identity_policy};
        rc = cm_dicom_decrypt(obj, &p, rep, err);
        if (rc == CM_DICOM_ENOTENCRYPTED)
            cm_fail(err, rc, "the stored object is not encrypted (plaintext put into the storage area, or not "
                    "migrated): refused");
    }
    if (rc == 0)
        rc = check_identity(s, uuid, rep, err);
    if (rc == 0)
        rc = hand_out_decrypted(s, path, uuid, obj, rep, sink, err);
    cm_dicom_free(obj);
    return rc;
}

/* 1 when the file starts with the sealed-file magic, 0 when not, or CM_APP_EIO. */
static int peek_sealed(const char *path, cm_error *err)
{
    uint8_t head[CMO_SEAL_MAGICBYTES];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return cm_fail(err, CM_APP_EIO, "cannot read %s: %s", path, strerror(errno));
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    return n == (ssize_t)sizeof head && cmo_seal_is_sealed(head, sizeof head);
}

static int read_dicom(cmo_storage *s, const char *path, const char *uuid, const cmo_sink *sink, cm_error *err)
{
    cm_dicom_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = peek_sealed(path, err);
    if (rc == 1) {
        cmo_seal_binding b = {uuid, CMO_TYPE_DICOM, CMO_SEAL_ATTACHMENT};
        rc = read_sealed_file(s, path, &b, sink, rep.key_id, err);
        if (rc == 0)
            snprintf(rep.profile, sizeof rep.profile, "sealed (aes-256-gcm)");
        if (rc == 0 && (rc = cmo_audit(s, "decrypt", path, uuid, CMO_TYPE_DICOM, &rep, NULL, -1)) != 0)
            cm_fail(err, rc, "the audit record of this decryption could not be written");
    } else if (rc == 0) {
        rc = decrypt_object(s, path, uuid, sink, &rep, err);
    }
    if (rc != 0)
        cmo_audit(s, "decrypt", path, uuid, CMO_TYPE_DICOM, &rep, err, -1);
    return rc;
}

int cmo_storage_read(cmo_storage *s, const char *uuid, uint32_t type, const cmo_sink *sink, cm_error *err)
{
    char path[CM_PATH_MAX];
    int rc = cmo_storage_path(s, uuid, NULL, path, err);
    if (rc != 0)
        return rc;
    if (type == CMO_TYPE_DICOM)
        return read_dicom(s, path, uuid, sink, err);
    cmo_seal_binding b = {uuid, type, CMO_SEAL_ATTACHMENT};
    rc = read_sealed_file(s, path, &b, sink, NULL, err);
    if (rc != 0)
        cmo_audit(s, "decrypt", path, uuid, type, NULL, err, -1);
    return rc;
}

int cmo_storage_read_range(cmo_storage *s, const char *uuid, uint32_t type, uint64_t start, uint8_t *out,
                           size_t len, cm_error *err)
{
    if (type == CMO_TYPE_DICOM && range_from_header(s, uuid, start, out, len) == 0)
        return 0;
    heap_sink h = {NULL, 0};
    cmo_sink sink = {heap_alloc, &h};
    int rc = cmo_storage_read(s, uuid, type, &sink, err);
    if (rc == 0 && (start > h.size || len > h.size - start))
        rc = cm_fail(err, CM_APP_EUSAGE, "range %llu+%zu is beyond the %llu bytes of attachment %s",
                     (unsigned long long)start, len, (unsigned long long)h.size, uuid);
    if (rc == 0)
        memcpy(out, h.buf + start, len);
    heap_wipe(&h);
    return rc;
}
