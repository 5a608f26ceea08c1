/* app.c - configuration selection, logging and the shared resources of a program (app.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chaosmask/app.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/dicom.h"

#ifndef CHAOSMASK_INSTALLED_CONFIG
#define CHAOSMASK_INSTALLED_CONFIG "/etc/chaosmask/chaosmask.ini"
#endif

void cm_app_init(cm_app *app, const char *program)
{
    memset(app, 0, sizeof *app);
    app->program = program;
    app->log_override = -1;
    cm_config_defaults(&app->cfg);
}

void cm_app_close(cm_app *app)
{
    cm_pool_destroy(app->pool);
    cm_audit_close(app->audit);
    cm_keys_close(app->keys);
    app->pool = NULL;
    app->audit = NULL;
    app->keys = NULL;
}

const char *cm_app_installed_config(void)
{
    return CHAOSMASK_INSTALLED_CONFIG;
}

int cm_app_log_level(const cm_app *app)
{
    if (app->log_override >= 0)
        return app->log_override;
    return app->cfg_loaded ? app->cfg.log_level : CM_LOG_WARN;
}

int cm_app_load_config(cm_app *app, cm_error *err)
{
    struct stat st;
    int rc;
    if (app->config_path != NULL)
        rc = cm_config_load_file(&app->cfg, app->config_path, err);
    else if (stat(CHAOSMASK_INSTALLED_CONFIG, &st) == 0 || errno != ENOENT)
        rc = cm_config_load_file(&app->cfg, CHAOSMASK_INSTALLED_CONFIG, err);
    else
        rc = cm_config_load_embedded(&app->cfg, err);
    if (rc != 0)
        return rc;
    app->cfg_loaded = 1;
    cm_dicom_set_log_level(cm_app_log_level(app));
    cm_app_log(app, CM_LOG_DEBUG, "configuration from %s", app->cfg.source);
    return 0;
}

const char *cm_app_keyring_dir(const cm_app *app)
{
    return app->keyring_dir != NULL ? app->keyring_dir : app->cfg.keyring_dir;
}

int cm_app_keys(cm_app *app, cm_keys **out, cm_error *err)
{
    if (app->keys == NULL) {
        int rc = cm_keys_open(&app->keys, cm_app_keyring_dir(app), err);
        if (rc != 0)
            return rc;
    }
    *out = app->keys;
    return 0;
}

int cm_app_audit(cm_app *app, cm_audit **out, cm_error *err)
{
    if (app->audit == NULL) {
        int rc = cm_audit_open(&app->audit, app->cfg.audit_path, app->cfg.audit_fsync, app->program, err);
        if (rc != 0)
            return rc;
    }
    *out = app->audit;
    return 0;
}

int cm_app_pool(cm_app *app, cm_pool **out, cm_error *err)
{
    if (app->pool == NULL && cm_pool_create(&app->pool, app->cfg.threads) != 0)
        return cm_fail(err, CM_APP_ENOMEM, "cannot create the worker pool: out of memory");
    *out = app->pool;
    return 0;
}

static void prefix(const cm_app *app)
{
    fprintf(stderr, "%s%s%s: ", app->program ? app->program : "chaosmask", app->command ? " " : "",
            app->command ? app->command : "");
}

void cm_app_log(const cm_app *app, int level, const char *fmt, ...)
{
    if (level > cm_app_log_level(app))
        return;
    va_list ap;
    va_start(ap, fmt);
    prefix(app);
    fprintf(stderr, "%s: ", cm_log_level_name(level));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cm_app_report(const cm_app *app, const char *file, const cm_error *err)
{
    prefix(app);
    if (file != NULL)
        fprintf(stderr, "%s: ", file);
    fprintf(stderr, "%s\n", err != NULL && err->msg[0] ? err->msg : "failed");
}

void cm_app_say(const cm_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prefix(app);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static char profile_list[128];

static void build_profile_list(void)
{
    size_t n = 0;
    for (int p = 1; cm_profile_name(p) != NULL && n < sizeof profile_list; p++)
        n += (size_t)snprintf(profile_list + n, sizeof profile_list - n, "%s%s", p > 1 ? ", " : "", cm_profile_name(p));
}

const char *cm_app_profile_list(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_profile_list);
    return profile_list;
}

int cm_app_parse_profile(const char *name, int *profile, cm_error *err)
{
    int p = cm_profile_from_name(name);
    if (p < 0)
        return cm_fail(err, CM_APP_EUSAGE, "profile '%s' is not one of %s", name ? name : "", cm_app_profile_list());
    *profile = p;
    return 0;
}

double cm_app_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
