/* atomic.c - the one atomic file writer (app_file.h): temporary file in the target's
 * directory under an exclusive flock, write, owner/mode/times, fsync, rename, fsync of the
 * directory; stale temporary files removed once per directory; signal cleanup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chaosmask/app_file.h"
#include "chaosmask/app_outcome.h"
#include "chaosmask/chaosmask.h"

/* ---- signal cleanup: the temporary files open right now ---- */

#define CLEANUP_SLOTS 64
static char cleanup_path[CLEANUP_SLOTS][CM_PATH_MAX];
static atomic_int cleanup_used[CLEANUP_SLOTS];

static int cleanup_register(const char *tmp)
{
    for (int i = 0; i < CLEANUP_SLOTS; i++) {
        int expected = 0;
        if (atomic_load(&cleanup_used[i]) == 0 &&
            atomic_compare_exchange_strong(&cleanup_used[i], &expected, 2)) {
            snprintf(cleanup_path[i], CM_PATH_MAX, "%s", tmp);
            atomic_store(&cleanup_used[i], 1); /* visible to the handler only once complete */
            return i;
        }
    }
    return -1; /* more files open than slots: still atomic, only not removed by a signal */
}

static void cleanup_unregister(int slot)
{
    if (slot >= 0)
        atomic_store(&cleanup_used[slot], 0);
}

static void cleanup_handler(int sig)
{
    for (int i = 0; i < CLEANUP_SLOTS; i++)
        if (atomic_load(&cleanup_used[i]) == 1)
            unlink(cleanup_path[i]); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void cm_atomic_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = cleanup_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- directories ---- */

int cm_fsync_dir(const char *dir, cm_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cm_fail(err, CM_APP_EIO, "%s: cannot open the directory to sync it: %s", dir, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return cm_fail(err, CM_APP_EIO, "%s: cannot sync the directory: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

/* dir and base name of path ("." when there is no slash). */
static int split_path(const char *path, char *dir, char *base)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, CM_PATH_MAX, ".");
        snprintf(base, CM_PATH_MAX, "%s", path);
    } else {
        size_t dlen = slash == path ? 1 : (size_t)(slash - path);
        snprintf(dir, CM_PATH_MAX, "%.*s", (int)dlen, path);
        snprintf(base, CM_PATH_MAX, "%s", slash + 1);
    }
    return base[0] == '\0' ? -1 : 0;
}

/* .NAME.chaosmask-XXXXXX with the name cut so the whole fits NAME_MAX. */
static int is_temp_name(const char *name)
{
    size_t n = strlen(name), tag = sizeof CM_ATOMIC_TMP_TAG - 1;
    if (n < 1 + tag + 6 || name[0] != '.' || memcmp(name + n - 6 - tag, CM_ATOMIC_TMP_TAG, tag) != 0)
        return 0;
    for (size_t i = n - 6; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9')))
            return 0;
    return 1;
}

/* Removes dir/name when it is a stale temporary file: a regular file of ours (or any, as
 * root), old enough, whose lock nobody holds.  1 when removed. */
static int remove_if_stale(int dfd, const char *name, time_t now)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    struct stat st, again;
    int removed = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_uid == geteuid() || geteuid() == 0) &&
        now - st.st_mtime >= CM_ATOMIC_STALE_SECONDS && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) == 0 && again.st_ino == st.st_ino &&
        again.st_dev == st.st_dev)
        removed = unlinkat(dfd, name, 0) == 0;
    close(fd);
    return removed;
}

int cm_atomic_clean_dir(const char *dir, unsigned *removed, cm_error *err)
{
    unsigned count = 0;
    if (removed != NULL)
        *removed = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return cm_fail(err, CM_APP_EIO, "%s: cannot list the directory: %s", dir, strerror(errno));
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (is_temp_name(e->d_name))
            count += (unsigned)remove_if_stale(dirfd(d), e->d_name, now);
    closedir(d);
    if (removed != NULL)
        *removed = count;
    return 0;
}

/* Directories already cleaned by this process (device and inode), so a run over a million
 * files in one directory scans it once. */
#define CLEANED_MAX 4096
static struct {
    dev_t dev;
    ino_t ino;
} cleaned[CLEANED_MAX];
static size_t ncleaned;
static pthread_mutex_t cleaned_lock = PTHREAD_MUTEX_INITIALIZER;

static void clean_once(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return;
    pthread_mutex_lock(&cleaned_lock);
    int seen = 0;
    for (size_t i = 0; i < ncleaned && !seen; i++)
        seen = cleaned[i].dev == st.st_dev && cleaned[i].ino == st.st_ino;
    if (!seen && ncleaned < CLEANED_MAX) {
        cleaned[ncleaned].dev = st.st_dev;
        cleaned[ncleaned].ino = st.st_ino;
        ncleaned++;
    }
    pthread_mutex_unlock(&cleaned_lock);
    if (!seen)
        cm_atomic_clean_dir(dir, NULL, NULL);
}

/* ---- the writer ---- */

static int create_temp(cm_atomic *f, const char *base, mode_t create_mode)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t room = NAME_MAX - 1 - (sizeof CM_ATOMIC_TMP_TAG - 1) - 6;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint8_t r[6];
        char suffix[7];
        if (cm_random(r, sizeof r) != 0) {
            errno = EIO;
            return -1;
        }
        for (size_t i = 0; i < 6; i++)
            suffix[i] = alphabet[r[i] % (sizeof alphabet - 1)];
        suffix[6] = '\0';
        int n = snprintf(f->tmp, sizeof f->tmp, "%s/.%.*s%s%s", f->dir, (int)room, base, CM_ATOMIC_TMP_TAG,
                         suffix);
        if (n < 0 || (size_t)n >= sizeof f->tmp) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, create_mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

int cm_atomic_open(cm_atomic *f, const char *path, const cm_atomic_opts *opts, cm_error *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->slot = -1;
    if (opts != NULL)
        f->opts = *opts;
    else
        f->opts.mode = CM_ATOMIC_UMASK;
    if (f->opts.like != NULL) {
        f->like = *f->opts.like;
        f->opts.like = &f->like;
    }
    char base[CM_PATH_MAX];
    if (path == NULL || strlen(path) >= sizeof f->path || split_path(path, f->dir, base) != 0)
        return cm_fail(err, CM_APP_EIO, "%s: not a usable file name", path ? path : "(none)");
    snprintf(f->path, sizeof f->path, "%s", path);
    clean_once(f->dir);
    /* Created 0600 unless the umask decides: owner and mode are set at commit, so a file that
     * will be PHI is never readable by others, not even for a moment. */
    mode_t create_mode = f->opts.mode == CM_ATOMIC_UMASK && f->opts.like == NULL ? 0666 : 0600;
    f->fd = create_temp(f, base, create_mode);
    if (f->fd < 0)
        return cm_fail(err, CM_APP_EIO, "%s: cannot create a temporary file in %s: %s", path, f->dir,
                       strerror(errno));
    f->slot = cleanup_register(f->tmp);
    if (flock(f->fd, LOCK_EX | LOCK_NB) != 0 && errno != ENOLCK && errno != EOPNOTSUPP) {
        int e = errno;
        cm_atomic_abort(f);
        return cm_fail(err, CM_APP_EIO, "%s: cannot lock the temporary file: %s", path, strerror(e));
    }
    return 0;
}

int cm_atomic_write(cm_atomic *f, const void *buf, size_t len, cm_error *err)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            return cm_fail(err, CM_APP_EIO, "%s: write failed: %s; nothing was changed", f->path, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

FILE *cm_atomic_stream(cm_atomic *f)
{
    if (f->stream == NULL && f->fd >= 0) {
        int fd = dup(f->fd);
        if (fd >= 0 && (f->stream = fdopen(fd, "wb")) == NULL)
            close(fd);
    }
    return f->stream;
}

/* Owner, group, mode and times of the file replaced in place, or the explicit mode. */
static int apply_metadata(cm_atomic *f, cm_error *err)
{
    if (f->opts.like != NULL) {
        const struct stat *l = f->opts.like;
        if ((l->st_uid != geteuid() || l->st_gid != getegid()) && fchown(f->fd, l->st_uid, l->st_gid) != 0)
            return cm_fail(err, CM_APP_EIO,
                           "%s: cannot give the new file the owner %u:%u of the file it replaces: %s (run as "
                           "root or as the file's owner); nothing was changed",
                           f->path, (unsigned)l->st_uid, (unsigned)l->st_gid, strerror(errno));
        if (fchmod(f->fd, l->st_mode & 07777) != 0)
            return cm_fail(err, CM_APP_EIO, "%s: cannot set the mode %04o: %s", f->path,
                           (unsigned)(l->st_mode & 07777), strerror(errno));
        struct timespec times[2] = {l->st_atim, l->st_mtim};
        if (futimens(f->fd, times) != 0)
            return cm_fail(err, CM_APP_EIO, "%s: cannot keep the modification time: %s", f->path, strerror(errno));
    } else if (f->opts.mode != CM_ATOMIC_UMASK && fchmod(f->fd, f->opts.mode & 07777) != 0) {
        return cm_fail(err, CM_APP_EIO, "%s: cannot set the mode %04o: %s", f->path, f->opts.mode & 07777,
                       strerror(errno));
    }
    return 0;
}

static int rename_into_place(cm_atomic *f)
{
    if (!f->opts.no_replace)
        return rename(f->tmp, f->path);
    if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    /* a file system without RENAME_NOREPLACE: link() refuses an existing name just the same */
    if (link(f->tmp, f->path) != 0)
        return -1;
    unlink(f->tmp);
    return 0;
}

int cm_atomic_commit(cm_atomic *f, cm_error *err)
{
    if (f->fd < 0)
        return cm_fail(err, CM_APP_EIO, "%s: no temporary file to commit", f->path);
    if (f->stream != NULL) {
        int bad = ferror(f->stream) || fflush(f->stream) != 0;
        int e = errno;
        if (fclose(f->stream) != 0 && !bad)
            bad = 1, e = errno;
        f->stream = NULL;
        if (bad) {
            cm_atomic_abort(f);
            return cm_fail(err, CM_APP_EIO, "%s: write failed: %s; nothing was changed", f->path, strerror(e));
        }
    }
    int rc = apply_metadata(f, err);
    if (rc == 0 && f->opts.sync != CM_ATOMIC_SYNC_DEFER && fsync(f->fd) != 0)
        rc = cm_fail(err, CM_APP_EIO, "%s: fsync failed: %s; nothing was changed", f->path, strerror(errno));
    /* deferred: start the writeback now (it does not wait), so the caller's batch flush finds
     * little left to write */
    if (rc == 0 && f->opts.sync == CM_ATOMIC_SYNC_DEFER)
        (void)sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    struct stat before;
    const int existed = lstat(f->path, &before) == 0;
    /* renamed while the lock is still held, so no cleaner can take it for stale meanwhile */
    if (rc == 0 && rename_into_place(f) != 0)
        rc = cm_fail(err, CM_APP_EIO, "%s: %s: %s; nothing was changed", f->path,
                     errno == EEXIST ? "already exists (never overwritten)" : "rename failed", strerror(errno));
    if (rc != 0) {
        cm_atomic_abort(f);
        return rc;
    }
    cleanup_unregister(f->slot);
    f->slot = -1;
    const int close_errno = close(f->fd) != 0 ? errno : 0;
    f->fd = -1;
    cm_error why = {0, ""};
    if (f->opts.sync == CM_ATOMIC_SYNC_FULL)
        rc = cm_fsync_dir(f->dir, &why);
    if (rc == 0 && close_errno != 0)
        rc = cm_fail(&why, CM_APP_EIO, "closing it failed: %s", strerror(close_errno));
    if (rc == 0)
        return 0;
    /* The file is complete under its name, but may not survive a crash.  A new name is taken
     * back, so a failure leaves no output; a file that was replaced cannot be put back. */
    if (!existed && unlink(f->path) == 0) {
        cm_fsync_dir(f->dir, NULL);
        return cm_fail(err, CM_APP_EIO, "%s: %s; the new file was removed again, nothing was changed", f->path,
                       why.msg);
    }
    f->replaced = 1;
    return cm_fail(err, CM_APP_EIO, "%s: replaced, but %s: the new content may not survive a crash", f->path,
                   why.msg);
}

void cm_atomic_abort(cm_atomic *f)
{
    if (f->stream != NULL) {
        fclose(f->stream);
        f->stream = NULL;
    }
    if (f->fd >= 0) {
        unlink(f->tmp); /* before close: the lock keeps cleaners of other processes away */
        close(f->fd);
        f->fd = -1;
    }
    cleanup_unregister(f->slot);
    f->slot = -1;
}

int cm_atomic_write_file(const char *path, const void *buf, size_t len, const cm_atomic_opts *opts,
                         cm_error *err)
{
    cm_atomic f;
    int rc = cm_atomic_open(&f, path, opts, err);
    if (rc == 0 && (rc = cm_atomic_write(&f, buf, len, err)) == 0)
        return cm_atomic_commit(&f, err);
    cm_atomic_abort(&f);
    return rc;
}
