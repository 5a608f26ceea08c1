/*
 * app_migrate.h - archive migration: one action over every file of directory trees, in
 * parallel, resumable from a journal, sharded for several machines.  The engine decides and
 * reports through callbacks; `chaosmask migrate` prints.
 *
 * Files: every regular file under each PATH (symbolic links followed only when asked); not
 * DICOM files, DICOMDIRs and objects with nothing to protect are skipped and counted, never
 * changed.  In place (no out_dir) a replaced file keeps owner, group, mode and mtime; a file
 * with more than one hard link is skipped (its other names would keep the old content) unless
 * allow_hardlinks.  With out_dir, each file's result goes to out_dir/<path relative to its
 * PATH> (directories created as needed: 0700 for decrypt, whose outputs are PHI, else 0755).
 *
 * Sharding: shard i of n takes the files whose relative path hashes (SHA-256, first 8 bytes,
 * little-endian, modulo n) to i: n machines with the same n cover a tree exactly once, with
 * no coordination.
 *
 * Journal (SQLite): the outcome of each file is recorded after its output is durable; a file
 * found in the journal is not processed again by a run with resume.  Failures are not
 * recorded, so a resumed run retries them.  A run without resume refuses a journal that holds
 * files of an earlier run.  Default: ./chaosmask-migrate-ACTION[-shard-I-of-N].journal.
 *
 * Memory: each file in flight reserves about three times its size (its bytes, DCMTK's parse,
 * the output) against memory_budget; a file that would exceed the budget waits until others
 * finish, and one larger than the budget runs alone.
 */
#ifndef CHAOSMASK_APP_MIGRATE_H
#define CHAOSMASK_APP_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/app.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_migrate_action {
    CM_MIGRATE_ENCRYPT,
    CM_MIGRATE_DECRYPT,
    CM_MIGRATE_REKEY,
    CM_MIGRATE_VERIFY,
    CM_MIGRATE_SCAN
} cm_migrate_action;

/* "encrypt", ... ; -1 for an unknown name. */
int cm_migrate_action_from_name(const char *name);
const char *cm_migrate_action_name(cm_migrate_action a);

/* What happened to one file. */
typedef struct cm_migrate_file {
    const char *path;       /* as walked: PATH/relative */
    const char *output;     /* written, or NULL */
    const char *outcome;    /* "encrypted", "decrypted", "rekeyed", "verified", "scanned", "skipped", "failed", "would-process" */
    const char *reason;     /* skipped/failed: why ("not-dicom", "already-encrypted", "auth", ...), else NULL */
    const char *message;    /* failed: the error message */
    uint64_t bytes;         /* the file's size */
    const char *key_id;     /* of the object after the action, when encrypted */
    const char *profile;
    unsigned block_version; /* scan: the object's format, 0 when plain */
    double ms;
    int from_journal;       /* done by an earlier run (resume) */
} cm_migrate_file;

typedef struct cm_migrate_progress {
    uint64_t files_total, files_done, bytes_total, bytes_done, failed;
    double seconds;
} cm_migrate_progress;

typedef struct cm_migrate_opts {
    cm_migrate_action action;
    char *const *paths;
    size_t npaths;
    const char *out_dir;         /* NULL: in place */
    unsigned shard_index, shard_count; /* count 0 or 1: every file */
    const char *journal;         /* NULL: the default name */
    int resume, dry_run, follow_symlinks, allow_hardlinks;
    const char *key_id;          /* encrypt: NULL = the active key */
    const char *from_id;         /* rekey: only objects under this key (NULL: every key but the active one) */
    int profile;                 /* encrypt, rekey */
    uint64_t memory_budget;      /* bytes; 0 = a quarter of the machine's memory, at least 1 GiB */
    void (*on_file)(void *user, const cm_migrate_file *f);          /* serialised */
    void (*on_progress)(void *user, const cm_migrate_progress *p);  /* at most 5 times a second */
    void *user;
} cm_migrate_opts;

#define CM_MIGRATE_REASONS 32
#define CM_MIGRATE_SCAN_ROWS 64

typedef struct cm_migrate_scan_row {
    char key_id[CM_KEYID_MAX];
    char profile[32];
    unsigned block_version;
    uint64_t objects, bytes;
} cm_migrate_scan_row;

typedef struct cm_migrate_summary {
    uint64_t files, bytes;           /* every file walked in this shard */
    uint64_t processed, skipped, failed;
    uint64_t bytes_processed;
    uint64_t from_journal;           /* of the above, done by an earlier run */
    struct {
        char name[32];
        uint64_t count;
        int failure;                 /* 1: a failure reason, 0: a skip reason */
    } reasons[CM_MIGRATE_REASONS];
    size_t nreasons;
    cm_migrate_scan_row scan[CM_MIGRATE_SCAN_ROWS]; /* scan: objects per key, profile, format */
    size_t nscan;
    double seconds;
} cm_migrate_summary;

/* Runs the action.  0 when the run happened (files may have failed: see summary), else a
 * code with err (bad options, journal, key ring). */
int cm_migrate_run(cm_app *app, const cm_migrate_opts *o, cm_migrate_summary *s, cm_error *err);

/* The shard a relative path belongs to among n. */
unsigned cm_migrate_shard_of(const char *relative_path, unsigned n);

#ifdef __cplusplus
}
#endif
#endif
