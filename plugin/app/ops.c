/* ops.c - the shared file operations (app_ops.h): load, operate, write atomically, audit. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosmask/app_file.h"
#include "chaosmask/app_ops.h"

cm_dicom_limits cm_app_limits(const cm_app *app)
{
    cm_dicom_limits lim;
    cm_dicom_limits_default(&lim);
    if (app->cfg_loaded) {
        lim.max_depth = app->cfg.max_depth;
        lim.max_elements = app->cfg.max_elements;
        lim.max_bytes = app->cfg.max_object_bytes;
    }
    return lim;
}

/* Everything one operation holds; released by op_end. */
typedef struct op_ctx {
    cm_app *app;
    cm_op_result *r;
    cm_keys *keys;
    cm_audit *audit;
    cm_dicom_object *obj;
    const cm_executor *executor;
    double t0;
    char in_abs[CM_PATH_MAX];
    char target[CM_PATH_MAX];   /* the file written: the real file when in place */
    int in_place;
    struct stat in_stat;
} op_ctx;

static int op_fail(op_ctx *c, const cm_error *e)
{
    c->r->code = e->code < 0 ? e->code : CM_APP_EINTERNAL;
    c->r->err = *e;
    return c->r->code;
}

/* The absolute form of path for records (the path itself when it cannot be resolved). */
static void absolute(const char *path, char out[CM_PATH_MAX])
{
    char *real = realpath(path, NULL);
    snprintf(out, CM_PATH_MAX, "%s", real ? real : path);
    free(real);
}

static int op_begin(op_ctx *c, cm_app *app, const char *in, cm_op_result *r, int need_keys)
{
    memset(c, 0, sizeof *c);
    memset(r, 0, sizeof *r);
    c->app = app;
    c->r = r;
    c->t0 = cm_app_seconds();
    absolute(in, c->in_abs);
    cm_error e = {0, ""};
    cm_pool *pool = NULL;
    if ((need_keys && cm_app_keys(app, &c->keys, &e) != 0) || cm_app_audit(app, &c->audit, &e) != 0 ||
        cm_app_pool(app, &pool, &e) != 0)
        return op_fail(c, &e);
    c->executor = cm_pool_threads(pool) > 1 ? cm_pool_executor(pool) : NULL;
    cm_dicom_limits lim = cm_app_limits(app);
    if (cm_dicom_load(&c->obj, in, &lim, &e) != 0)
        return op_fail(c, &e);
    return 0;
}

static void op_end(op_ctx *c)
{
    cm_dicom_free(c->obj);
    c->obj = NULL;
    c->r->seconds = cm_app_seconds() - c->t0;
}

/* out == in: the real file behind in, with its metadata kept; else out, which must not be
 * another name of in (writing it would leave in's content under its other name). */
static int choose_target(op_ctx *c, const char *in, const char *out)
{
    cm_error e = {0, ""};
    c->in_place = strcmp(in, out) == 0;
    if (c->in_place) {
        if (realpath(in, c->target) == NULL || stat(c->target, &c->in_stat) != 0) {
            cm_fail(&e, CM_DICOM_EINPUT, "%s", strerror(errno));
            return op_fail(c, &e);
        }
        return 0;
    }
    struct stat a, b;
    if (stat(in, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        cm_fail(&e, CM_APP_EUSAGE, "%s is the same file as the input (use --in-place to replace it)", out);
        return op_fail(c, &e);
    }
    snprintf(c->target, sizeof c->target, "%s", out);
    return 0;
}

static int audit(op_ctx *c, const char *event, const char *output, const char *detail)
{
    cm_dicom_report *rep = &c->r->report;
    cm_audit_event ev = cm_audit_event_init(event);
    ev.code = c->r->code;
    ev.message = c->r->code ? c->r->err.msg : NULL;
    ev.file = c->in_abs;
    ev.output = output;
    ev.sop_class_uid = rep->sop_class_uid;
    ev.sop_instance_uid = rep->sop_instance_uid;
    ev.study_instance_uid = rep->study_instance_uid;
    ev.key_id = rep->key_id;
    ev.profile = rep->profile;
    ev.bytes = rep->protected_bytes > 0 ? (long long)rep->protected_bytes : -1;
    ev.detail = detail != NULL ? detail : rep->identity_changed[0] ? rep->identity_changed : NULL;
    cm_error e = {0, ""};
    if (cm_audit_write(c->audit, &ev, &e) == 0)
        return 0;
    if (c->r->code == 0)
        op_fail(c, &e);
    return e.code;
}

/* How an output is made durable: as the application asks, except that a replaced original is
 * never renamed away before its replacement is on disk. */
static int output_sync(const op_ctx *c)
{
    int s = c->app->write_sync;
    return c->in_place && s == CM_ATOMIC_SYNC_DEFER ? CM_ATOMIC_SYNC_FILE : s;
}

/* Opens the atomic output for target (metadata kept in place; mode for a new file). */
static int open_output(op_ctx *c, cm_atomic *f, unsigned new_mode)
{
    cm_atomic_opts o = {.mode = new_mode, .sync = output_sync(c)};
    if (c->in_place)
        o.like = &c->in_stat;
    cm_error e = {0, ""};
    if (cm_atomic_open(f, c->target, &o, &e) != 0)
        return op_fail(c, &e);
    cm_error w = {0, ""};
    if (cm_dicom_write_fd(c->obj, f->fd, 0, &w) != 0) {
        cm_atomic_abort(f);
        cm_fail(&e, w.code == CM_DICOM_EIO ? CM_APP_EIO : w.code, "%s: %s; nothing was changed", c->target, w.msg);
        return op_fail(c, &e);
    }
    return 0;
}

static int commit_output(op_ctx *c, cm_atomic *f)
{
    cm_error e = {0, ""};
    if (cm_atomic_commit(f, &e) != 0)
        return op_fail(c, &e);
    c->r->wrote = 1;
    snprintf(c->r->output, sizeof c->r->output, "%s", c->target);
    return 0;
}

/* op_begin, the output chosen, and the key new objects get (key_id NULL: the active one). */
static int op_begin_keyed(op_ctx *c, cm_app *app, const char *in, const char *out, cm_op_result *r,
                          const char *key_id, uint8_t key[CM_KEYBYTES], char id[CM_KEYID_MAX])
{
    cm_error e = {0, ""};
    if (op_begin(c, app, in, r, 1) != 0 || (out != NULL && choose_target(c, in, out) != 0))
        return c->r->code;
    if (cm_keys_get(c->keys, key_id, key, id, &e) != 0)
        return op_fail(c, &e);
    return 0;
}

/* An object that is still encrypted (encrypt, rekey, rebind): written when asked, then
 * recorded, outcome included. */
static void write_then_audit(op_ctx *c, int write, const char *event, const char *detail)
{
    if (write) {
        cm_atomic f;
        if (open_output(c, &f, CM_ATOMIC_UMASK) == 0)
            commit_output(c, &f);
    }
    audit(c, event, c->r->wrote ? c->r->output : NULL, detail);
}

/* The already-encrypted input, copied to out byte for byte as it was verified. */
static int copy_verified(op_ctx *c)
{
    cm_atomic f;
    cm_error e = {0, ""};
    cm_atomic_opts o = {.mode = CM_ATOMIC_UMASK, .sync = output_sync(c)};
    size_t len = 0;
    const uint8_t *bytes = cm_dicom_bytes(c->obj, &len);
    if (cm_atomic_open(&f, c->target, &o, &e) != 0 || cm_atomic_write(&f, bytes, len, &e) != 0) {
        cm_atomic_abort(&f);
        return op_fail(c, &e);
    }
    return commit_output(c, &f);
}

int cm_op_encrypt_file(cm_app *app, const char *in, const char *out, const cm_op_encrypt_opts *o, cm_op_result *r)
{
    op_ctx c;
    uint8_t key[CM_KEYBYTES];
    char id[CM_KEYID_MAX];
    cm_error e = {0, ""};
    if (op_begin_keyed(&c, app, in, out, r, o->key_id, key, id) != 0)
        goto done;
    cm_dicom_encrypt_params p = {o->profile, id, key, cm_keys_provider(c.keys), c.executor, o->force};
    int rc = cm_dicom_encrypt(c.obj, &p, &r->report, &e);
    cm_memzero(key, sizeof key);
    if (rc == CM_DICOM_EENCRYPTED) {
        r->already_encrypted = 1;
        if (out != NULL && !c.in_place)
            copy_verified(&c);
        audit(&c, "encrypt", r->wrote ? r->output : NULL, "already encrypted: left as it was");
        goto done;
    }
    if (rc != 0) {
        op_fail(&c, &e);
        audit(&c, "encrypt", NULL, NULL);
        goto done;
    }
    cm_dicom_release_bytes(c.obj);
    write_then_audit(&c, out != NULL, "encrypt", NULL);
done:
    cm_memzero(key, sizeof key);
    op_end(&c);
    return r->code;
}

int cm_op_decrypt_file(cm_app *app, const char *in, const char *out, cm_op_result *r)
{
    op_ctx c;
    cm_error e = {0, ""};
    if (op_begin(&c, app, in, r, 1) != 0 || (out != NULL && choose_target(&c, in, out) != 0))
        goto done;
    cm_dicom_release_bytes(c.obj);
    cm_dicom_open_params p = {cm_keys_provider(c.keys), c.executor,
                              app->cfg.identity_policy == CM_IDENTITY_ALLOW ? CM_DICOM_IDENTITY_ALLOW
                                                                            : CM_DICOM_IDENTITY_REFUSE};
    if (cm_dicom_decrypt(c.obj, &p, &r->report, &e) != 0) {
        op_fail(&c, &e);
        audit(&c, "decrypt", NULL, NULL);
        goto done;
    }
    if (out == NULL) {
        audit(&c, "decrypt", NULL, NULL);
        goto done;
    }
    /* The record comes first: no decrypted file exists without it. */
    cm_atomic f;
    if (open_output(&c, &f, 0600) != 0) {
        audit(&c, "decrypt", NULL, NULL);
        goto done;
    }
    if (audit(&c, "decrypt", c.target, NULL) != 0) {
        cm_atomic_abort(&f);
        goto done;
    }
    if (commit_output(&c, &f) != 0)
        audit(&c, "decrypt", f.replaced ? c.target : NULL,
              f.replaced ? "the decrypted output replaced the old file but may not survive a crash"
                         : "the decrypted output could not be written: nothing was left");
done:
    op_end(&c);
    return r->code;
}

int cm_op_verify_file(cm_app *app, const char *in, cm_op_result *r)
{
    op_ctx c;
    cm_error e = {0, ""};
    if (op_begin(&c, app, in, r, 1) == 0) {
        cm_dicom_release_bytes(c.obj);
        cm_dicom_open_params p = {cm_keys_provider(c.keys), c.executor,
                                  app->cfg.identity_policy == CM_IDENTITY_ALLOW ? CM_DICOM_IDENTITY_ALLOW
                                                                                : CM_DICOM_IDENTITY_REFUSE};
        if (cm_dicom_verify(c.obj, &p, &r->report, &e) != 0)
            op_fail(&c, &e);
        audit(&c, "verify", NULL, NULL);
    }
    op_end(&c);
    return r->code;
}

static cm_dicom_open_params open_params(op_ctx *c)
{
    cm_dicom_open_params p = {cm_keys_provider(c->keys), c->executor,
                              c->app->cfg.identity_policy == CM_IDENTITY_ALLOW ? CM_DICOM_IDENTITY_ALLOW
                                                                                : CM_DICOM_IDENTITY_REFUSE};
    return p;
}

/* Why a rekey leaves the object alone, or NULL when it is to be re-encrypted. */
static const char *rekey_skip(op_ctx *c, const char *from_id, const char *active)
{
    cm_dicom_info *info = malloc(sizeof *info); /* large: an elements table */
    cm_error e = {0, ""};
    const char *skip = NULL;
    if (info == NULL || cm_dicom_inspect(c->obj, info, &e) != 0 || !info->encrypted)
        skip = "not-encrypted";
    else if (from_id != NULL && strcmp(info->key_id, from_id) != 0)
        skip = "other-key";
    else if (from_id == NULL && strcmp(info->key_id, active) == 0)
        skip = "current-key";
    free(info);
    return skip;
}

int cm_op_rekey_file(cm_app *app, const char *in, const char *out, const char *from_id, int profile,
                     cm_op_result *r)
{
    op_ctx c;
    uint8_t key[CM_KEYBYTES];
    char id[CM_KEYID_MAX];
    cm_error e = {0, ""};
    if (op_begin_keyed(&c, app, in, out, r, NULL, key, id) != 0)
        goto done;
    if ((r->skipped = rekey_skip(&c, from_id, id)) != NULL)
        goto done;
    cm_dicom_release_bytes(c.obj);
    cm_dicom_open_params op = open_params(&c);
    cm_dicom_encrypt_params ep = {profile, id, key, cm_keys_provider(c.keys), c.executor, 1};
    cm_dicom_report old;
    if (cm_dicom_decrypt(c.obj, &op, &old, &e) != 0 || cm_dicom_encrypt(c.obj, &ep, &r->report, &e) != 0) {
        op_fail(&c, &e);
        audit(&c, "rekey", NULL, NULL);
        goto done;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "re-encrypted from key %s (%s)", old.key_id, old.profile);
    write_then_audit(&c, out != NULL, "rekey", detail);
done:
    cm_memzero(key, sizeof key);
    op_end(&c);
    return r->code;
}

int cm_op_rebind_file(cm_app *app, const char *in, cm_op_result *r)
{
    op_ctx c;
    cm_error e = {0, ""};
    if (op_begin(&c, app, in, r, 1) != 0 || choose_target(&c, in, in) != 0)
        goto done;
    cm_dicom_release_bytes(c.obj);
    cm_dicom_open_params p = {cm_keys_provider(c.keys), c.executor, CM_DICOM_IDENTITY_ALLOW};
    if (cm_dicom_rebind(c.obj, &p, &r->report, &e) != 0) {
        op_fail(&c, &e);
        audit(&c, "rebind", NULL, NULL);
        goto done;
    }
    write_then_audit(&c, 1, "rebind", NULL);
done:
    op_end(&c);
    return r->code;
}

int cm_op_inspect_file(cm_app *app, const char *in, cm_dicom_info *info, cm_op_result *r)
{
    memset(r, 0, sizeof *r);
    double t0 = cm_app_seconds();
    cm_dicom_object *obj = NULL;
    cm_error e = {0, ""};
    cm_dicom_limits lim = cm_app_limits(app);
    if (cm_dicom_load(&obj, in, &lim, &e) != 0 || cm_dicom_inspect(obj, info, &e) != 0) {
        r->code = e.code < 0 ? e.code : CM_APP_EINTERNAL;
        r->err = e;
    }
    cm_dicom_free(obj);
    r->seconds = cm_app_seconds() - t0;
    return r->code;
}
