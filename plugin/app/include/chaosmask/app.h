/*
 * app.h - the application layer every ChaosMask program stands on (the `chaosmask` command,
 * the `chaosmask-scp` service, archive migration): which configuration is read, one logging
 * path, and the shared resources opened on first use - the key provider (app_keys.h), the
 * audit log (app_audit.h), the worker pool (app_pool.h).  Files are written with the one
 * atomic writer (app_file.h); results are classified by app_outcome.h; the file operations
 * that decide a result without printing it are in app_ops.h.
 *
 * A cm_app belongs to one thread of control: set it up, then share the resources it hands
 * out (which are thread-safe) with worker threads.
 */
#ifndef CHAOSMASK_APP_H
#define CHAOSMASK_APP_H

#include "chaosmask/app_audit.h"
#include "chaosmask/app_keys.h"
#include "chaosmask/app_outcome.h"
#include "chaosmask/app_pool.h"
#include "chaosmask/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_app {
    const char *program;      /* "chaosmask", "chaosmask-scp": the first word of every message */
    const char *command;      /* the subcommand, or NULL */
    const char *config_path;  /* --config FILE, or NULL: the installed file if it exists, else the embedded default */
    const char *keyring_dir;  /* --keyring DIR, or NULL: the configuration's [keyring] dir */
    int log_override;         /* -q/-v/-d/--log-level, or -1: the configuration's [log] level */
    cm_config cfg;            /* valid after cm_app_load_config */
    int cfg_loaded;
    cm_keys *keys;            /* opened by cm_app_keys */
    cm_audit *audit;          /* opened by cm_app_audit */
    cm_pool *pool;            /* created by cm_app_pool */
} cm_app;

void cm_app_init(cm_app *app, const char *program);
/* Releases what was opened (wipes cached keys). */
void cm_app_close(cm_app *app);

/* The installed configuration file (CHAOSMASK_SYSCONFDIR/chaosmask.ini). */
const char *cm_app_installed_config(void);
/* Reads and validates the configuration: --config FILE (missing: an error), else the installed
 * file when it exists (unreadable: an error, never a silent fallback), else the embedded
 * default.  Then applies the log level to this process and to DCMTK.  0 or a CM_CFG_ code. */
int cm_app_load_config(cm_app *app, cm_error *err);
/* The effective log level (CM_LOG_...). */
int cm_app_log_level(const cm_app *app);
const char *cm_app_keyring_dir(const cm_app *app);

/* The shared resources, opened on first use (the configuration must be loaded). */
int cm_app_keys(cm_app *app, cm_keys **out, cm_error *err);
int cm_app_audit(cm_app *app, cm_audit **out, cm_error *err);
int cm_app_pool(cm_app *app, cm_pool **out, cm_error *err);

/* "PROGRAM COMMAND: LEVEL: message" on stderr when level <= the effective level. */
void cm_app_log(const cm_app *app, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The one error line: "PROGRAM COMMAND: FILE: message" (FILE omitted when NULL). */
void cm_app_report(const cm_app *app, const char *file, const cm_error *err);
/* A usage or other error not carried by a cm_error: "PROGRAM COMMAND: message". */
void cm_app_say(const cm_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "lorenz, lorenz-chacha20, aes-256-gcm": the profile names, generated from the engine. */
const char *cm_app_profile_list(void);
/* Parses a profile name; CM_APP_EUSAGE with a message listing the names. */
int cm_app_parse_profile(const char *name, int *profile, cm_error *err);
/* Seconds on the monotonic clock. */
double cm_app_seconds(void);

#ifdef __cplusplus
}
#endif
#endif
