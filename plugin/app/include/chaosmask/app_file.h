/*
 * app_file.h - the one way every ChaosMask program writes a file: a temporary file in the
 * target's directory, write, fsync, rename over the target, fsync of the directory.  A crash
 * or a failure at any point leaves the old file (or no file) under the target name, never a
 * torn one.
 *
 * Temporary files are named  .<name>.chaosmask-<6 letters or digits>  (the name cut to fit
 * NAME_MAX), created with O_EXCL and held under an exclusive flock while they are written.
 * One that a killed process left behind is stale: its lock is free.  The first cm_atomic_open
 * of a process in a directory removes the stale ones there that are at least 2 seconds old
 * (cm_atomic_clean_dir does it on request).  With cm_atomic_cleanup_on_signals(), SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT remove the temporary files of the process before it dies.
 *
 * Permissions: a new file gets 0666 minus the umask (CM_ATOMIC_UMASK), or exactly the mode
 * asked for whatever the umask (0600 for decrypted objects: they are PHI).  A file replaced
 * in place keeps its owner, group, mode and modification time (`like`); when the owner
 * cannot be kept (not root), nothing is replaced and the call fails.
 *
 * Thread-safe: any number of files may be open at once from any threads.
 */
#ifndef CHAOSMASK_APP_FILE_H
#define CHAOSMASK_APP_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "chaosmask/config.h" /* CM_PATH_MAX */
#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_ATOMIC_UMASK 0xFFFFu    /* mode: 0666 minus the umask, as open(2) would create it */
#define CM_ATOMIC_TMP_TAG ".chaosmask-"
#define CM_ATOMIC_STALE_SECONDS 2

typedef struct cm_atomic_opts {
    unsigned mode;             /* CM_ATOMIC_UMASK or an explicit mode (07777 bits) */
    const struct stat *like;   /* in place: keep owner, group, mode and mtime of this file */
    int no_replace;            /* fail with CM_APP_EIO (EEXIST) rather than replace a file */
    int sync;                  /* CM_ATOMIC_SYNC_...: how commit makes the file durable */
} cm_atomic_opts;

/* Durability of a commit.  FULL: the file is fsynced before the rename and its directory after
 * it, so the new content is on disk when commit returns.  FILE: the file is fsynced before the
 * rename (a crash never leaves a replaced original without its replacement), the directory is
 * left to the caller.  DEFER: no fsync at all; the caller makes a batch durable (syncfs) before
 * it declares the batch done, or accepts losing the file to a crash - for new files whose
 * source still exists, or derived files whose loss costs time, not data; never for a
 * replacement.  In every mode the file is never torn while the system runs. */
enum { CM_ATOMIC_SYNC_FULL = 0, CM_ATOMIC_SYNC_FILE = 1, CM_ATOMIC_SYNC_DEFER = 2 };

typedef struct cm_atomic {
    int fd;                    /* write here (or through cm_atomic_stream) */
    FILE *stream;
    int slot;                  /* signal-cleanup slot, -1 when none */
    int replaced;              /* commit failed after its rename had replaced a file: the new
                                  content is in place but may not survive a crash */
    cm_atomic_opts opts;
    struct stat like;
    char path[CM_PATH_MAX];    /* the target */
    char dir[CM_PATH_MAX];
    char tmp[CM_PATH_MAX];
} cm_atomic;

/* Creates the temporary file for path.  0, or CM_APP_EIO with err naming the path. */
int cm_atomic_open(cm_atomic *f, const char *path, const cm_atomic_opts *opts, cm_error *err);
/* Writes all of buf (restarting after EINTR and short writes).  0 or CM_APP_EIO. */
int cm_atomic_write(cm_atomic *f, const void *buf, size_t len, cm_error *err);
/* A stdio stream on the temporary file (created once; flushed by commit).  NULL on failure. */
FILE *cm_atomic_stream(cm_atomic *f);
/* Owner/mode/times, fsync, rename over the target, fsync of the directory.  On failure the
 * temporary file is removed and the target is as it was - except when the rename is done and
 * the directory cannot be synced (or the file closed): a new name is then removed again, but a
 * file that was replaced stays replaced (f->replaced is set).  0 or CM_APP_EIO. */
int cm_atomic_commit(cm_atomic *f, cm_error *err);
/* Gives up: removes the temporary file.  Safe after a failed open or commit. */
void cm_atomic_abort(cm_atomic *f);

/* Whole-buffer convenience: open, write, commit. */
int cm_atomic_write_file(const char *path, const void *buf, size_t len, const cm_atomic_opts *opts,
                         cm_error *err);

/* Removes the stale temporary files of dir (see above); *removed (may be NULL) counts them. */
int cm_atomic_clean_dir(const char *dir, unsigned *removed, cm_error *err);

/* Installs the SIGINT/SIGTERM/SIGHUP/SIGQUIT handler that removes every temporary file of
 * the process, then dies of the signal as it would have (exit status 128 + signal). */
void cm_atomic_cleanup_on_signals(void);

/* fsync() of a directory (a rename or a new entry in it made durable); file systems that
 * cannot sync a directory (EINVAL) count as done.  0 or CM_APP_EIO. */
int cm_fsync_dir(const char *dir, cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
