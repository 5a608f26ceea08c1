/* audit.c - the audit log (app_audit.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chaosmask/app_audit.h"
#include "chaosmask/app_json.h"
#include "chaosmask/app_outcome.h"
#include "chaosmask/config.h"

struct cm_audit {
    char path[CM_PATH_MAX];
    char program[64];
    char host[256];
    char user[64];
    int fd;
    int fsync_each;
    dev_t dev;
    ino_t ino;
    pthread_mutex_t lock;
};

static int open_log(cm_audit *a, cm_error *err)
{
    /* read as well as appended to: the last byte tells whether a record was cut short */
    int fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0)
        return cm_fail(err, CM_APP_EAUDIT, "audit log %s cannot be opened: %s%s", a->path, strerror(errno),
                       errno == ELOOP ? " (it is a symbolic link)" : "");
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_mode & 002)
        why = "writable by others (chmod o-w)";
    else if (st.st_uid != geteuid() && st.st_uid != 0)
        why = "owned by another user";
    if (why != NULL) {
        close(fd);
        return cm_fail(err, CM_APP_EAUDIT, "audit log %s is refused: %s", a->path, why);
    }
    if (a->fd >= 0)
        close(a->fd);
    a->fd = fd;
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    return 0;
}

int cm_audit_open(cm_audit **out, const char *path, int fsync_each, const char *program, cm_error *err)
{
    *out = NULL;
    cm_audit *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cm_fail(err, CM_APP_ENOMEM, "out of memory");
    a->fd = -1;
    a->fsync_each = fsync_each;
    snprintf(a->path, sizeof a->path, "%s", path ? path : "");
    snprintf(a->program, sizeof a->program, "%s", program ? program : "chaosmask");
    if (gethostname(a->host, sizeof a->host) != 0)
        a->host[0] = '\0';
    a->host[sizeof a->host - 1] = '\0';
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL)
        snprintf(a->user, sizeof a->user, "%s", pw.pw_name);
    pthread_mutex_init(&a->lock, NULL);
    if (a->path[0] != '\0') {
        int rc = open_log(a, err);
        if (rc != 0) {
            cm_audit_close(a);
            return rc;
        }
    }
    *out = a;
    return 0;
}

void cm_audit_close(cm_audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

int cm_audit_enabled(const cm_audit *a)
{
    return a != NULL && a->fd >= 0;
}

cm_audit_event cm_audit_event_init(const char *event)
{
    cm_audit_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event = event;
    ev.status = -1;
    ev.tls = -1;
    ev.bytes = -1;
    ev.count = -1;
    return ev;
}

static void timestamp(char out[40])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static const char *outcome_word(int code)
{
    if (code >= 0)
        return "ok";
    cm_outcome o = cm_outcome_of(code);
    return o == CM_OUT_IO || o == CM_OUT_INTERNAL ? "failed" : o == CM_OUT_OK ? "ok" : "refused";
}

static void optional(cm_json *j, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0')
        cm_json_str(j, key, value);
}

static void build_line(const cm_audit *a, const cm_audit_event *ev, cm_json *j)
{
    char when[40];
    timestamp(when);
    cm_json_object_begin(j, NULL);
    cm_json_str(j, "time", when);
    cm_json_str(j, "host", a->host);
    cm_json_str(j, "program", a->program);
    cm_json_int(j, "pid", (long long)getpid());
    cm_json_int(j, "uid", (long long)geteuid());
    optional(j, "user", a->user);
    cm_json_str(j, "event", ev->event);
    cm_json_str(j, "outcome", ev->outcome ? ev->outcome : outcome_word(ev->code));
    if (ev->code < 0)
        cm_json_str(j, "reason", cm_exit_table()[cm_outcome_of(ev->code)].name);
    else
        cm_json_null(j, "reason");
    optional(j, "message", ev->message);
    optional(j, "file", ev->file);
    optional(j, "output", ev->output);
    optional(j, "sop_class_uid", ev->sop_class_uid);
    optional(j, "sop_instance_uid", ev->sop_instance_uid);
    optional(j, "study_instance_uid", ev->study_instance_uid);
    optional(j, "key_id", ev->key_id);
    optional(j, "profile", ev->profile);
    optional(j, "peer_ae", ev->peer_ae);
    optional(j, "peer_address", ev->peer_address);
    optional(j, "called_ae", ev->called_ae);
    if (ev->tls >= 0)
        cm_json_bool(j, "tls", ev->tls);
    optional(j, "tls_subject", ev->tls_subject);
    optional(j, "operation", ev->operation);
    optional(j, "transfer_syntax", ev->transfer_syntax);
    optional(j, "level", ev->level);
    optional(j, "mode", ev->mode);
    optional(j, "destination", ev->destination);
    if (ev->status >= 0) {
        char hex[8];
        snprintf(hex, sizeof hex, "0x%04X", (unsigned)ev->status & 0xFFFFu);
        cm_json_str(j, "status", hex);
    }
    if (ev->bytes >= 0)
        cm_json_int(j, "bytes", ev->bytes);
    if (ev->count >= 0)
        cm_json_int(j, "count", ev->count);
    optional(j, "detail", ev->detail);
    cm_json_object_end(j);
}

/* The log is empty or its last byte ends a line (also when it cannot be read: nothing to repair). */
static int ends_with_newline(int fd)
{
    struct stat st;
    char last;
    if (fstat(fd, &st) != 0 || st.st_size == 0)
        return 1;
    return pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n';
}

/* Takes (F_WRLCK, waiting) or releases (F_UNLCK) the whole-file record lock. */
static int log_lock(int fd, short type)
{
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = type;
    l.l_whence = SEEK_SET;
    int rc;
    while ((rc = fcntl(fd, F_SETLKW, &l)) != 0 && errno == EINTR)
        ;
    return rc;
}

/* Opens the file again when it was renamed or removed (log rotation). */
static int follow_rotation(cm_audit *a, cm_error *err)
{
    struct stat st;
    if (stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
        return 0;
    return open_log(a, err);
}

int cm_audit_write(cm_audit *a, const cm_audit_event *ev, cm_error *err)
{
    if (!cm_audit_enabled(a))
        return 0;
    cm_json j;
    cm_json_init(&j);
    build_line(a, ev, &j);
    if (j.failed) {
        cm_json_free(&j);
        return cm_fail(err, CM_APP_EIO, "audit log %s: out of memory building a record", a->path);
    }
    size_t len = j.len;
    j.buf[len] = '\n'; /* the terminating NUL becomes the newline: one write, one line */
    pthread_mutex_lock(&a->lock);
    cm_error why;
    int rc = follow_rotation(a, &why);
    const char *line = j.buf;
    char *repaired = NULL;
    /* Writers of other processes are kept out while the last byte is read and the record
     * appended (without the lock, another writer's record in progress looks like a cut one).
     * A POSIX record lock belongs to the process, so it also keeps out the children a service
     * forks with this descriptor (flock would not: they share the open file); where locks are
     * not supported the check is skipped. */
    const int locked = rc == 0 && log_lock(a->fd, F_WRLCK) == 0;
    if (locked && !ends_with_newline(a->fd)) {
        /* a record cut short (a full disk) must not swallow this one: end it first */
        if ((repaired = malloc(len + 2)) != NULL) {
            repaired[0] = '\n';
            memcpy(repaired + 1, j.buf, len + 1);
            line = repaired;
            len++;
        }
    }
    if (rc == 0) {
        ssize_t n = write(a->fd, line, len + 1);
        if (locked)
            log_lock(a->fd, F_UNLCK);
        if (n != (ssize_t)(len + 1))
            rc = cm_fail(err, CM_APP_EIO, "audit log %s: write failed: %s", a->path,
                         n < 0 ? strerror(errno) : "short write (disk full?)");
        else if (a->fsync_each && fdatasync(a->fd) != 0)
            rc = cm_fail(err, CM_APP_EIO, "audit log %s: fdatasync failed: %s", a->path, strerror(errno));
    } else {
        rc = cm_fail(err, CM_APP_EIO, "%s", why.msg);
    }
    pthread_mutex_unlock(&a->lock);
    free(repaired);
    cm_json_free(&j);
    return rc;
}
