/* migrate.c - archive migration (app_migrate.h): walk, shard, journal, files in parallel under
 * a memory budget, one shared file operation per file, outcomes reported and summed. */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "chaosmask/app_file.h"
#include "chaosmask/app_migrate.h"
#include "chaosmask/app_ops.h"

static const char *const ACTION_NAMES[] = {"encrypt", "decrypt", "rekey", "verify", "scan"};

int cm_migrate_action_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof ACTION_NAMES / sizeof ACTION_NAMES[0]); i++)
        if (name != NULL && strcmp(name, ACTION_NAMES[i]) == 0)
            return i;
    return -1;
}

const char *cm_migrate_action_name(cm_migrate_action a)
{
    return ACTION_NAMES[a];
}

unsigned cm_migrate_shard_of(const char *relative_path, unsigned n)
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)relative_path, strlen(relative_path), d);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | d[i];
    return n > 1 ? (unsigned)(v % n) : 0;
}

/* ---- the file list ---- */

enum { KIND_FILE, KIND_SYMLINK, KIND_UNREADABLE };

typedef struct mfile {
    char *path, *rel;
    uint64_t size;
    unsigned long nlink;
    int kind;
} mfile;

typedef struct run {
    cm_app *app;
    const cm_migrate_opts *o;
    cm_migrate_summary *s;
    mfile *files;
    size_t nfiles, cap;
    char journal_real[CM_PATH_MAX];
    char out_real[CM_PATH_MAX];
    char **temp_dirs;         /* directories where the walk saw temporary files (cleaned at the end) */
    size_t ntemp_dirs;
    /* journal */
    sqlite3 *db;
    struct stat journal_files[4]; /* the journal and its -wal, -shm, -journal files: the walk passes over them */
    size_t njournal_files;
    sqlite3_stmt *insert;
    struct journaled *done;   /* what the journal holds, sorted by path */
    size_t ndone;
    unsigned pending;         /* records not yet committed */
    double last_commit;
    int *sync_fds;            /* the file systems written to, made durable before each commit */
    size_t nsync;
    int sync_errno;           /* the first failure to make outputs durable */
    /* reporting */
    pthread_mutex_t lock;
    double t0, last_progress;
    cm_migrate_progress progress;
    /* memory budget */
    pthread_mutex_t mem_lock;
    pthread_cond_t mem_cond;
    uint64_t mem_budget, mem_in_use;
} run;

static int add_file(run *r, const char *path, const char *rel, const struct stat *st, int kind)
{
    if (r->nfiles == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        mfile *f = realloc(r->files, cap * sizeof *f);
        if (f == NULL)
            return -1;
        r->files = f;
        r->cap = cap;
    }
    mfile *f = &r->files[r->nfiles];
    f->path = strdup(path);
    f->rel = strdup(rel);
    f->size = st ? (uint64_t)st->st_size : 0;
    f->nlink = st ? (unsigned long)st->st_nlink : 1;
    f->kind = kind;
    if (f->path == NULL || f->rel == NULL) {
        free(f->path);
        free(f->rel);
        return -1;
    }
    r->nfiles++;
    return 0;
}

/* The directory of a temporary file the walk passed over, remembered once. */
static void note_temp_dir(run *r, const FTSENT *e)
{
    size_t len = (size_t)(e->fts_pathlen - e->fts_namelen);
    while (len > 1 && e->fts_path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < r->ntemp_dirs; i++)
        if (strlen(r->temp_dirs[i]) == len && strncmp(r->temp_dirs[i], e->fts_path, len) == 0)
            return;
    char **grown = realloc(r->temp_dirs, (r->ntemp_dirs + 1) * sizeof *grown);
    if (grown == NULL)
        return; /* only a clean-up is lost */
    r->temp_dirs = grown;
    if ((r->temp_dirs[r->ntemp_dirs] = strndup(e->fts_path, len)) != NULL)
        r->ntemp_dirs++;
}

/* Files the walk passes over: our temporary files and the journal with its SQLite companions. */
static int ignored(run *r, const FTSENT *e)
{
    const char *name = e->fts_name;
    size_t n = strlen(name), tag = sizeof CM_ATOMIC_TMP_TAG - 1;
    if (name[0] == '.' && n > tag + 6 && memcmp(name + n - 6 - tag, CM_ATOMIC_TMP_TAG, tag) == 0) {
        note_temp_dir(r, e);
        return 1;
    }
    for (size_t i = 0; e->fts_statp != NULL && e->fts_info == FTS_F && i < r->njournal_files; i++)
        if (e->fts_statp->st_dev == r->journal_files[i].st_dev && e->fts_statp->st_ino == r->journal_files[i].st_ino)
            return 1;
    return 0;
}

static const char *relative(const char *root, const char *path)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (strncmp(path, root, n) == 0 && path[n] == '/')
        return path + n + 1;
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path; /* the root itself was a file */
}

static int walk_root(run *r, const char *root, cm_error *err)
{
    char *const roots[] = {(char *)root, NULL};
    int flags = FTS_NOCHDIR | (r->o->follow_symlinks ? FTS_LOGICAL : FTS_PHYSICAL | FTS_COMFOLLOW);
    FTS *fts = fts_open(roots, flags, NULL);
    if (fts == NULL)
        return cm_fail(err, CM_APP_EUSAGE, "%s: cannot walk: %s", root, strerror(errno));
    FTSENT *e;
    int rc = 0;
    while (rc == 0 && (e = fts_read(fts)) != NULL) {
        if (e->fts_info == FTS_D) {
            char real[CM_PATH_MAX];
            if (r->out_real[0] && realpath(e->fts_path, real) && strcmp(real, r->out_real) == 0)
                fts_set(fts, e, FTS_SKIP); /* the mirror being written is not input */
            continue;
        }
        if (e->fts_info == FTS_DP || e->fts_info == FTS_DC || ignored(r, e))
            continue;
        const char *rel = relative(root, e->fts_path);
        if (r->o->shard_count > 1 && cm_migrate_shard_of(rel, r->o->shard_count) != r->o->shard_index)
            continue;
        int kind = e->fts_info == FTS_F ? KIND_FILE
                   : e->fts_info == FTS_SL || e->fts_info == FTS_SLNONE ? KIND_SYMLINK
                                                                        : KIND_UNREADABLE;
        if (e->fts_info == FTS_DEFAULT)
            continue; /* devices, sockets, fifos: not archive files */
        if (add_file(r, e->fts_path, rel, kind == KIND_FILE ? e->fts_statp : NULL, kind) != 0)
            rc = cm_fail(err, CM_APP_ENOMEM, "out of memory listing the files");
    }
    fts_close(fts);
    return rc;
}

/* ---- journal ---- */

/* One file an earlier run finished: its path, outcome and reason (three strings, one
 * allocation). */
struct journaled {
    char *path;
    const char *outcome, *reason;
};

static int cmp_journaled(const void *a, const void *b)
{
    return strcmp(((const struct journaled *)a)->path, ((const struct journaled *)b)->path);
}

static const struct journaled *journal_done(run *r, const char *path)
{
    struct journaled key = {(char *)path, NULL, NULL};
    return r->ndone > 0 ? bsearch(&key, r->done, r->ndone, sizeof *r->done, cmp_journaled) : NULL;
}

static void default_journal(const cm_migrate_opts *o, char *out, size_t n)
{
    if (o->shard_count > 1)
        snprintf(out, n, "chaosmask-migrate-%s-shard-%u-of-%u.journal", cm_migrate_action_name(o->action),
                 o->shard_index, o->shard_count);
    else
        snprintf(out, n, "chaosmask-migrate-%s.journal", cm_migrate_action_name(o->action));
}

/* What identifies a run: a resumed run must be the same one. */
static void run_identity(const cm_migrate_opts *o, char *out, size_t n)
{
    size_t used = (size_t)snprintf(out, n, "%s|out=%s|shard=%u/%u|", cm_migrate_action_name(o->action),
                                   o->out_dir ? o->out_dir : "", o->shard_index, o->shard_count);
    for (size_t i = 0; i < o->npaths && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s|", o->paths[i]);
}

static int sql(run *r, const char *text, cm_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, text, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    cm_fail(err, CM_APP_EIO, "journal %s: %s", r->journal_real, msg ? msg : sqlite3_errmsg(r->db));
    sqlite3_free(msg);
    return CM_APP_EIO;
}

/* "path\0outcome\0reason\0" in one block. */
static int add_journaled(run *r, size_t *cap, const char *path, const char *outcome, const char *reason)
{
    if (r->ndone == *cap) {
        size_t ncap = *cap ? 2 * *cap : 1024;
        struct journaled *d = realloc(r->done, ncap * sizeof *d);
        if (d == NULL)
            return -1;
        r->done = d;
        *cap = ncap;
    }
    size_t lp = strlen(path) + 1, lo = strlen(outcome) + 1, lr = strlen(reason) + 1;
    char *block = malloc(lp + lo + lr);
    if (block == NULL)
        return -1;
    memcpy(block, path, lp);
    memcpy(block + lp, outcome, lo);
    memcpy(block + lp + lo, reason, lr);
    r->done[r->ndone++] = (struct journaled){block, block + lp, lr > 1 ? block + lp + lo : NULL};
    return 0;
}

static int load_done(run *r, cm_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT path, outcome, ifnull(reason, '') FROM files", -1, &st, NULL) != SQLITE_OK)
        return cm_fail(err, CM_APP_EIO, "journal %s: %s", r->journal_real, sqlite3_errmsg(r->db));
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        if (add_journaled(r, &cap, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                          (const char *)sqlite3_column_text(st, 2)) != 0)
            rc = cm_fail(err, CM_APP_ENOMEM, "journal %s: out of memory", r->journal_real);
    sqlite3_finalize(st);
    if (r->ndone > 0)
        qsort(r->done, r->ndone, sizeof *r->done, cmp_journaled);
    return rc;
}

/* The identity recorded by an earlier run, checked against ours; ours recorded when new. */
static int check_identity(run *r, cm_error *err)
{
    char mine[8192], theirs[8192] = "";
    run_identity(r->o, mine, sizeof mine);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM run WHERE key = 'identity'", -1, &st, NULL) != SQLITE_OK)
        return cm_fail(err, CM_APP_EIO, "journal %s: %s", r->journal_real, sqlite3_errmsg(r->db));
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(theirs, sizeof theirs, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (theirs[0] == '\0') {
        char *q = sqlite3_mprintf("INSERT INTO run VALUES ('identity', %Q)", mine);
        int rc = sql(r, q, err);
        sqlite3_free(q);
        return rc;
    }
    if (strcmp(mine, theirs) != 0)
        return cm_fail(err, CM_APP_EUSAGE, "journal %s belongs to another run (%s); use another --journal", r->journal_real,
                       theirs);
    return 0;
}

static int journal_open(run *r, cm_error *err)
{
    char name[CM_PATH_MAX];
    if (r->o->journal != NULL)
        snprintf(name, sizeof name, "%s", r->o->journal);
    else
        default_journal(r->o, name, sizeof name);
    if (sqlite3_open_v2(name, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) !=
        SQLITE_OK)
        return cm_fail(err, CM_APP_EIO, "journal %s cannot be opened: %s", name,
                       r->db ? sqlite3_errmsg(r->db) : "out of memory");
    if (realpath(name, r->journal_real) == NULL)
        snprintf(r->journal_real, sizeof r->journal_real, "%s", name);
    /* One run per journal: SQLite's own lock, taken here and held to the end (locking_mode
     * EXCLUSIVE never releases a lock once taken; WAL then keeps its index in memory, no -shm
     * file).  A second run on the journal (another shell, a cron job, a run thought killed) is
     * refused here, before it touches a file.  No lock of ours beside it: closing any
     * descriptor of the journal would drop SQLite's POSIX locks, and NFS turns flock() into
     * such a lock. */
    int lrc = sqlite3_exec(r->db, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT", NULL, NULL, NULL);
    if (lrc == SQLITE_BUSY || lrc == SQLITE_LOCKED)
        return cm_fail(err, CM_APP_EUSAGE,
                       "journal %s is in use by another run of chaosmask migrate; wait for it to end (or stop it), "
                       "then run again with --resume",
                       r->journal_real);
    if (lrc != SQLITE_OK)
        return cm_fail(err, CM_APP_EIO, "journal %s: %s", r->journal_real, sqlite3_errmsg(r->db));
    /* the walk passes over the journal's files, known by device and inode (a relative PATH
     * names them otherwise than journal_real) */
    if (stat(r->journal_real, &r->journal_files[0]) == 0)
        r->njournal_files = 1;
    int rc = sql(r, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "CREATE TABLE IF NOT EXISTS run(key TEXT PRIMARY KEY, value TEXT); "
                    "CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, outcome TEXT, reason TEXT, "
                    "bytes INTEGER, key_id TEXT, at TEXT)",
                 err);
    if (rc == 0)
        rc = load_done(r, err);
    if (rc == 0 && r->ndone > 0 && !r->o->resume)
        rc = cm_fail(err, CM_APP_EUSAGE,
                     "journal %s holds %zu files of an earlier run: continue it with --resume, or remove the journal",
                     r->journal_real, r->ndone);
    if (rc == 0)
        rc = check_identity(r, err);
    if (rc == 0 && sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, datetime('now'))", -1,
                                      &r->insert, NULL) != SQLITE_OK)
        rc = cm_fail(err, CM_APP_EIO, "journal %s: %s", r->journal_real, sqlite3_errmsg(r->db));
    if (rc == 0)
        rc = sql(r, "BEGIN", err);
    /* its companions (-shm and -journal: left by an older build or an interrupted switch to WAL) */
    static const char *const companions[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; rc == 0 && i < sizeof companions / sizeof *companions; i++) {
        char path[CM_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s%s", r->journal_real, companions[i]);
        if (stat(path, &r->journal_files[r->njournal_files]) == 0)
            r->njournal_files++;
    }
    return rc;
}

/* Group commit: the outputs of the records about to be committed reach the disk first (files
 * written with CM_ATOMIC_SYNC_DEFER or _FILE, and the directories their renames changed), so the
 * journal never holds an outcome a crash could still undo.  0, or -1 with r->sync_errno set. */
static int make_durable(run *r)
{
    /* Once a syncfs has failed, the outputs it should have flushed may be lost even though a
     * later syncfs succeeds (the kernel reports a writeback error once): nothing more is
     * committed in this run, and --resume redoes every file since the last good commit. */
    if (r->sync_errno != 0)
        return -1;
    for (size_t i = 0; i < r->nsync; i++)
        if (syncfs(r->sync_fds[i]) != 0) {
            if (r->sync_errno == 0)
                r->sync_errno = errno;
            return -1;
        }
    return 0;
}

static int open_sync_fds(run *r, cm_error *err)
{
    const cm_migrate_opts *o = r->o;
    size_t n = o->out_dir != NULL ? 1 : o->npaths;
    r->sync_fds = calloc(n, sizeof *r->sync_fds);
    if (r->sync_fds == NULL)
        return cm_fail(err, CM_APP_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *p = o->out_dir != NULL ? r->out_real : o->paths[i];
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return cm_fail(err, CM_APP_EIO, "%s: %s", p, strerror(errno));
        r->sync_fds[r->nsync++] = fd;
    }
    /* new files in a mirror are synced by batch; a replaced original only after its replacement */
    r->app->write_sync = o->out_dir != NULL ? CM_ATOMIC_SYNC_DEFER : CM_ATOMIC_SYNC_FILE;
    return 0;
}

/* Records a final outcome (under r->lock); commits every 64 records or 2 seconds, once the
 * outputs are durable (a batch that cannot be made durable stays uncommitted: redone by --resume). */
static void journal_record(run *r, const cm_migrate_file *f)
{
    if (r->db == NULL || f->from_journal || strcmp(f->outcome, "failed") == 0)
        return;
    sqlite3_bind_text(r->insert, 1, f->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(r->insert, 2, f->outcome, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(r->insert, 3, f->reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(r->insert, 4, (sqlite3_int64)f->bytes);
    sqlite3_bind_text(r->insert, 5, f->key_id, -1, SQLITE_TRANSIENT);
    sqlite3_step(r->insert);
    sqlite3_reset(r->insert);
    double now = cm_app_seconds();
    if (++r->pending >= 64 || now - r->last_commit >= 2.0) {
        if (make_durable(r) == 0) {
            sql(r, "COMMIT; BEGIN", NULL);
            r->pending = 0;
        }
        r->last_commit = now;
    }
}

/* Commits the last batch when its outputs are durable; 0, or CM_APP_EIO when they could not be
 * made so (the batch is rolled back and redone by --resume). */
static int journal_close(run *r, cm_error *err)
{
    int rc = 0;
    if (r->db != NULL) {
        if (make_durable(r) == 0) {
            sql(r, "COMMIT", NULL);
        } else {
            sql(r, "ROLLBACK", NULL);
            rc = cm_fail(err, CM_APP_EIO,
                         "the outputs could not be flushed to disk (%s): the journal does not record the last %u "
                         "files; run the same command with --resume",
                         strerror(r->sync_errno), r->pending);
        }
        sqlite3_finalize(r->insert);
        sqlite3_close(r->db);
    }
    for (size_t i = 0; i < r->nsync; i++)
        close(r->sync_fds[i]);
    free(r->sync_fds);
    for (size_t i = 0; i < r->ndone; i++)
        free(r->done[i].path);
    free(r->done);
    return rc;
}

/* ---- summary and reporting ---- */

static void count_reason(cm_migrate_summary *s, const char *name, int failure)
{
    for (size_t i = 0; i < s->nreasons; i++)
        if (strcmp(s->reasons[i].name, name) == 0 && s->reasons[i].failure == failure) {
            s->reasons[i].count++;
            return;
        }
    if (s->nreasons < CM_MIGRATE_REASONS) {
        snprintf(s->reasons[s->nreasons].name, sizeof s->reasons[0].name, "%s", name);
        s->reasons[s->nreasons].count = 1;
        s->reasons[s->nreasons++].failure = failure;
    }
}

static void count_scan(cm_migrate_summary *s, const cm_migrate_file *f)
{
    for (size_t i = 0; i < s->nscan; i++) {
        cm_migrate_scan_row *row = &s->scan[i];
        if (strcmp(row->key_id, f->key_id) == 0 && strcmp(row->profile, f->profile) == 0 &&
            row->block_version == f->block_version) {
            row->objects++;
            row->bytes += f->bytes;
            return;
        }
    }
    if (s->nscan < CM_MIGRATE_SCAN_ROWS) {
        cm_migrate_scan_row *row = &s->scan[s->nscan++];
        snprintf(row->key_id, sizeof row->key_id, "%s", f->key_id);
        snprintf(row->profile, sizeof row->profile, "%s", f->profile);
        row->block_version = f->block_version;
        row->objects = 1;
        row->bytes = f->bytes;
    }
}

static void report(run *r, const cm_migrate_file *f)
{
    pthread_mutex_lock(&r->lock);
    cm_migrate_summary *s = r->s;
    int failed = strcmp(f->outcome, "failed") == 0, skipped = strcmp(f->outcome, "skipped") == 0;
    if (failed)
        s->failed++;
    else if (skipped)
        s->skipped++;
    else
        s->processed++, s->bytes_processed += f->bytes;
    /* a scanned object's reason is what it is (plain, damaged...), not why it was skipped */
    if (f->reason != NULL)
        count_reason(s, f->reason, failed ? CM_MIGRATE_FAILURE : strcmp(f->outcome, "scanned") == 0 ? CM_MIGRATE_FOUND
                                                                                                    : CM_MIGRATE_SKIP);
    if (f->from_journal)
        s->from_journal++;
    if (r->o->action == CM_MIGRATE_SCAN && f->key_id != NULL && f->key_id[0] != '\0' && !failed)
        count_scan(s, f);
    journal_record(r, f);
    if (r->o->on_file != NULL)
        r->o->on_file(r->o->user, f);
    r->progress.files_done++;
    r->progress.bytes_done += f->bytes;
    r->progress.failed = s->failed;
    double now = cm_app_seconds();
    if (r->o->on_progress != NULL && (now - r->last_progress >= 0.2 || r->progress.files_done == r->nfiles)) {
        r->progress.seconds = now - r->t0;
        r->o->on_progress(r->o->user, &r->progress);
        r->last_progress = now;
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- memory budget ---- */

static uint64_t reserve(run *r, uint64_t size)
{
    uint64_t need = 3 * size + ((uint64_t)16 << 20);
    pthread_mutex_lock(&r->mem_lock);
    while (r->mem_in_use > 0 && r->mem_in_use + need > r->mem_budget)
        pthread_cond_wait(&r->mem_cond, &r->mem_lock);
    r->mem_in_use += need;
    pthread_mutex_unlock(&r->mem_lock);
    return need;
}

static void release(run *r, uint64_t need)
{
    pthread_mutex_lock(&r->mem_lock);
    r->mem_in_use -= need;
    pthread_cond_broadcast(&r->mem_cond);
    pthread_mutex_unlock(&r->mem_lock);
}

static uint64_t default_budget(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t quarter = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 : 0;
    return quarter > ((uint64_t)1 << 30) ? quarter : (uint64_t)1 << 30;
}

/* ---- one file ---- */

/* Part 10 files say "DICM" at byte 128; a DICOMDIR names its SOP class in the meta header. */
static const char *classify(const char *path)
{
    uint8_t head[1024];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return "unreadable";
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n < 132 || memcmp(head + 128, "DICM", 4) != 0)
        return "not-dicom";
    static const char dicomdir[] = "1.2.840.10008.1.3.10";
    for (ssize_t i = 132; i + (ssize_t)sizeof dicomdir <= n; i++) {
        uint8_t next = head[i + sizeof dicomdir - 1]; /* the UID ends there: not 1.2.840.10008.1.3.10.x */
        if (memcmp(head + i, dicomdir, sizeof dicomdir - 1) == 0 && next != '.' && (next < '0' || next > '9'))
            return "dicomdir";
    }
    return NULL;
}

static int writes_in_place(const run *r)
{
    cm_migrate_action a = r->o->action;
    return r->o->out_dir == NULL && (a == CM_MIGRATE_ENCRYPT || a == CM_MIGRATE_DECRYPT || a == CM_MIGRATE_REKEY);
}

static int writes(const run *r)
{
    cm_migrate_action a = r->o->action;
    return a == CM_MIGRATE_ENCRYPT || a == CM_MIGRATE_DECRYPT || a == CM_MIGRATE_REKEY;
}

/* out_dir/rel, with the directories above it created. */
static int output_path(const run *r, const mfile *m, char out[CM_PATH_MAX], cm_error *err)
{
    if (snprintf(out, CM_PATH_MAX, "%s/%s", r->o->out_dir, m->rel) >= CM_PATH_MAX)
        return cm_fail(err, CM_APP_EIO, "%s/%s: path too long", r->o->out_dir, m->rel);
    mode_t mode = r->o->action == CM_MIGRATE_DECRYPT ? 0700 : 0755;
    for (char *p = out + strlen(r->o->out_dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        int rc = mkdir(out, mode);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return cm_fail(err, CM_APP_EIO, "%s: cannot create the directory: %s", out, strerror(errno));
    }
    return 0;
}

static void fill_from_result(cm_migrate_file *f, const cm_op_result *res)
{
    f->key_id = res->report.key_id;
    f->profile = res->report.profile;
    f->block_version = res->report.block_version;
    f->output = res->wrote ? res->output : NULL;
}

static void set_failure(cm_migrate_file *f, const cm_op_result *res)
{
    f->outcome = "failed";
    f->reason = cm_exit_table()[cm_outcome_of(res->code)].name;
    f->message = res->err.msg;
}

/* The action on one DICOM file: outcome and reason into f. */
static void act(run *r, const mfile *m, const char *out, cm_migrate_file *f, cm_op_result *res)
{
    const cm_migrate_opts *o = r->o;
    int rc;
    switch (o->action) {
    case CM_MIGRATE_ENCRYPT: {
        cm_op_encrypt_opts eo = {o->profile, o->key_id, 0};
        rc = cm_op_encrypt_file(r->app, m->path, out, &eo, res);
        f->outcome = res->already_encrypted ? "skipped" : "encrypted";
        f->reason = res->already_encrypted ? "already-encrypted" : NULL;
        break;
    }
    case CM_MIGRATE_DECRYPT:
        rc = cm_op_decrypt_file(r->app, m->path, out, res);
        f->outcome = "decrypted";
        break;
    case CM_MIGRATE_REKEY:
        rc = cm_op_rekey_file(r->app, m->path, out, o->from_id, o->profile, res);
        f->outcome = res->skipped ? "skipped" : "rekeyed";
        f->reason = res->skipped;
        break;
    case CM_MIGRATE_VERIFY:
        rc = cm_op_verify_file(r->app, m->path, res);
        f->outcome = "verified";
        break;
    default:
        return;
    }
    fill_from_result(f, res);
    if (rc == 0)
        return;
    cm_outcome oc = cm_outcome_of(rc);
    if (oc == CM_OUT_NOTHING || rc == CM_DICOM_ENOTENCRYPTED) {
        f->outcome = "skipped";
        f->reason = oc == CM_OUT_NOTHING ? "nothing-to-protect" : "not-encrypted";
    } else {
        set_failure(f, res);
    }
}

/* scan: no key; what the object is. */
static void scan(run *r, const mfile *m, cm_migrate_file *f, cm_op_result *res)
{
    cm_dicom_info *info = malloc(sizeof *info); /* large: an elements table */
    if (info == NULL) {
        f->outcome = "failed";
        f->reason = "internal";
        f->message = "out of memory";
        return;
    }
    f->outcome = "scanned";
    if (cm_op_inspect_file(r->app, m->path, info, res) != 0) {
        f->reason = "damaged";
        f->message = res->err.msg;
        free(info);
        return;
    }
    snprintf(res->report.key_id, sizeof res->report.key_id, "%s", info->key_id);
    snprintf(res->report.profile, sizeof res->report.profile, "%s", info->profile);
    res->report.block_version = info->block_version;
    if (info->encrypted && info->block_error) {
        snprintf(res->err.msg, sizeof res->err.msg, "%s", info->block_message);
        f->reason = "damaged-block";
        f->message = res->err.msg;
    } else if (info->encrypted) {
        fill_from_result(f, res);
    } else {
        f->reason = info->layout_error == CM_DICOM_ENOTHING ? "no-pixels" : "plain";
    }
    free(info);
}

static int process(void *ctx, size_t i)
{
    run *r = ctx;
    const mfile *m = &r->files[i];
    cm_migrate_file f = {.path = m->path, .bytes = m->size, .outcome = "skipped"};
    const struct journaled *done;
    cm_op_result *res = calloc(1, sizeof *res);
    double t0 = cm_app_seconds();
    char out[CM_PATH_MAX];
    cm_error err = {0, ""};
    if (res == NULL) {
        f.outcome = "failed";
        f.reason = "internal";
        f.message = "out of memory";
    } else if ((done = journal_done(r, m->path)) != NULL) {
        f.outcome = done->outcome;
        f.reason = done->reason;
        f.from_journal = 1;
    } else if (m->kind != KIND_FILE) {
        f.reason = m->kind == KIND_SYMLINK ? "symlink" : "unreadable";
    } else if ((f.reason = classify(m->path)) != NULL) {
        /* not DICOM, DICOMDIR, unreadable: skipped and counted */
    } else if (writes_in_place(r) && m->nlink > 1 && !r->o->allow_hardlinks) {
        f.reason = "hardlink";
        f.message = "more than one hard link: its other names would keep the old content (--allow-hardlinks)";
    } else if (r->o->dry_run) {
        f.outcome = "would-process";
    } else if (writes(r) && r->o->out_dir != NULL && output_path(r, m, out, &err) != 0) {
        f.outcome = "failed";
        f.reason = "io";
        f.message = err.msg;
    } else {
        uint64_t need = reserve(r, m->size);
        if (r->o->action == CM_MIGRATE_SCAN)
            scan(r, m, &f, res);
        else
            act(r, m, r->o->out_dir != NULL ? out : m->path, &f, res);
        release(r, need);
    }
    f.ms = 1000.0 * (cm_app_seconds() - t0);
    report(r, &f);
    free(res);
    return 0;
}

/* ---- the run ---- */

static int prepare(run *r, cm_error *err)
{
    const cm_migrate_opts *o = r->o;
    if (o->npaths == 0)
        return cm_fail(err, CM_APP_EUSAGE, "no PATH given");
    if (o->shard_count > 1 && o->shard_index >= o->shard_count)
        return cm_fail(err, CM_APP_EUSAGE, "--shard %u/%u: the index must be below the count", o->shard_index,
                       o->shard_count);
    if (o->out_dir != NULL && !writes(r))
        return cm_fail(err, CM_APP_EUSAGE, "--out is for encrypt, decrypt and rekey");
    if (o->out_dir != NULL) {
        if (mkdir(o->out_dir, o->action == CM_MIGRATE_DECRYPT ? 0700 : 0755) != 0 && errno != EEXIST)
            return cm_fail(err, CM_APP_EIO, "%s: cannot create the output directory: %s", o->out_dir, strerror(errno));
        if (realpath(o->out_dir, r->out_real) == NULL)
            return cm_fail(err, CM_APP_EIO, "%s: %s", o->out_dir, strerror(errno));
    }
    cm_keys *keys;
    cm_audit *audit;
    cm_pool *pool;
    /* the shared resources exist before any worker asks for them */
    if ((o->action != CM_MIGRATE_SCAN && cm_app_keys(r->app, &keys, err) != 0) || cm_app_audit(r->app, &audit, err) != 0 ||
        cm_app_pool(r->app, &pool, err) != 0)
        return err->code;
    if (o->action != CM_MIGRATE_SCAN && o->action != CM_MIGRATE_VERIFY && o->action != CM_MIGRATE_DECRYPT) {
        char id[CM_KEYID_MAX];
        uint8_t key[CM_KEYBYTES];
        int rc = cm_keys_get(keys, o->action == CM_MIGRATE_ENCRYPT ? o->key_id : NULL, key, id, err);
        cm_memzero(key, sizeof key);
        if (rc != 0)
            return rc;
    }
    if (!o->dry_run && writes(r) && open_sync_fds(r, err) != 0)
        return err->code;
    if (!o->dry_run && o->action != CM_MIGRATE_SCAN)
        return journal_open(r, err);
    return 0;
}

int cm_migrate_run(cm_app *app, const cm_migrate_opts *o, cm_migrate_summary *s, cm_error *err)
{
    run r;
    memset(&r, 0, sizeof r);
    memset(s, 0, sizeof *s);
    r.app = app;
    r.o = o;
    r.s = s;
    r.t0 = cm_app_seconds();
    r.mem_budget = o->memory_budget ? o->memory_budget : default_budget();
    pthread_mutex_init(&r.lock, NULL);
    pthread_mutex_init(&r.mem_lock, NULL);
    pthread_cond_init(&r.mem_cond, NULL);
    int rc = prepare(&r, err);
    for (size_t i = 0; rc == 0 && i < o->npaths; i++)
        rc = walk_root(&r, o->paths[i], err);
    if (rc == 0) {
        for (size_t i = 0; i < r.nfiles; i++)
            s->bytes += r.files[i].size;
        s->files = r.nfiles;
        r.progress.files_total = r.nfiles;
        r.progress.bytes_total = s->bytes;
        cm_pool *pool = NULL;
        cm_app_pool(app, &pool, err);
        const cm_executor *ex = cm_pool_executor(pool);
        ex->run(ex->self, r.nfiles, process, &r);
    }
    /* A run killed a moment before this one left temporary files too young for the clean-up at
     * a directory's first write (they must be 2 s old: cm_atomic_clean_dir); by now most are. */
    for (size_t i = 0; i < r.ntemp_dirs; i++) {
        if (rc == 0 && !o->dry_run && writes_in_place(&r))
            cm_atomic_clean_dir(r.temp_dirs[i], NULL, NULL);
        free(r.temp_dirs[i]);
    }
    free(r.temp_dirs);
    cm_error close_err = {0, ""};
    if (journal_close(&r, &close_err) != 0 && rc == 0)
        rc = close_err.code, *err = close_err;
    app->write_sync = CM_ATOMIC_SYNC_FULL;
    for (size_t i = 0; i < r.nfiles; i++)
        free(r.files[i].path), free(r.files[i].rel);
    free(r.files);
    pthread_mutex_destroy(&r.lock);
    pthread_mutex_destroy(&r.mem_lock);
    pthread_cond_destroy(&r.mem_cond);
    s->seconds = cm_app_seconds() - r.t0;
    return rc;
}
