/* chaosmask migrate - one action over whole archive trees: the shell over the application
 * layer's migration engine (app_migrate.h): options, the live progress line, JSON lines and
 * the summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaosmask/app_json.h"
#include "chaosmask/app_migrate.h"
#include "cli.h"

enum {
    OPT_OUT = 'o',
    OPT_JOBS = 'j',
    OPT_SHARD = 256,
    OPT_JOURNAL,
    OPT_RESUME,
    OPT_DRY_RUN,
    OPT_JSON,
    OPT_KEY,
    OPT_FROM,
    OPT_PROFILE,
    OPT_FOLLOW,
    OPT_HARDLINKS,
    OPT_MEMORY,
};

typedef struct shell {
    int json, live;
    size_t line_len;
} shell;

static void on_file(void *user, const cm_migrate_file *f)
{
    shell *sh = user;
    if (!sh->json)
        return;
    cm_json j;
    cm_json_init(&j);
    cm_json_object_begin(&j, NULL);
    cm_json_str(&j, "path", f->path);
    cm_json_str(&j, "outcome", f->outcome);
    cm_json_str(&j, "reason", f->reason);
    cm_json_uint(&j, "bytes", f->bytes);
    cm_json_str(&j, "key_id", f->key_id && f->key_id[0] ? f->key_id : NULL);
    cm_json_num(&j, "ms", f->ms, 1);
    if (f->output != NULL)
        cm_json_str(&j, "output", f->output);
    if (f->message != NULL)
        cm_json_str(&j, "message", f->message);
    if (f->from_journal)
        cm_json_bool(&j, "from_journal", 1);
    cm_json_object_end(&j);
    printf("%s\n", cm_json_text(&j));
    cm_json_free(&j);
}

static void human_bytes(char *buf, size_t n, double bytes)
{
    const char *unit[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000 && u < 4)
        bytes /= 1000, u++;
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

/* The live line on a terminal: files and bytes of the total, rate, ETA, failures. */
static void on_progress(void *user, const cm_migrate_progress *p)
{
    shell *sh = user;
    if (!sh->live)
        return;
    char done[32], total[32], rate[32], line[200];
    human_bytes(done, sizeof done, (double)p->bytes_done);
    human_bytes(total, sizeof total, (double)p->bytes_total);
    double bps = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
    human_bytes(rate, sizeof rate, bps);
    double left = bps > 0 ? (double)(p->bytes_total - p->bytes_done) / bps : 0;
    int n = snprintf(line, sizeof line, "%llu/%llu files, %s of %s, %s/s, ETA %dm%02ds, %llu failed",
                     (unsigned long long)p->files_done, (unsigned long long)p->files_total, done, total, rate,
                     (int)left / 60, (int)left % 60, (unsigned long long)p->failed);
    fprintf(stderr, "\r%s%*s", line, sh->line_len > (size_t)n ? (int)(sh->line_len - (size_t)n) : 0, "");
    sh->line_len = (size_t)n;
}

static void summary_json(const cm_migrate_opts *o, const cm_migrate_summary *s)
{
    cm_json j;
    cm_json_init(&j);
    cm_json_object_begin(&j, NULL);
    cm_json_object_begin(&j, "summary");
    cm_json_str(&j, "action", cm_migrate_action_name(o->action));
    cm_json_uint(&j, "files", s->files);
    cm_json_uint(&j, "bytes", s->bytes);
    cm_json_uint(&j, "processed", s->processed);
    cm_json_uint(&j, "skipped", s->skipped);
    cm_json_uint(&j, "failed", s->failed);
    cm_json_uint(&j, "from_journal", s->from_journal);
    cm_json_num(&j, "seconds", s->seconds, 3);
    for (int failure = 0; failure < 2; failure++) {
        cm_json_object_begin(&j, failure ? "failed_by_reason" : "skipped_by_reason");
        for (size_t i = 0; i < s->nreasons; i++)
            if (s->reasons[i].failure == failure)
                cm_json_uint(&j, s->reasons[i].name, s->reasons[i].count);
        cm_json_object_end(&j);
    }
    if (o->action == CM_MIGRATE_SCAN) {
        cm_json_array_begin(&j, "encrypted");
        for (size_t i = 0; i < s->nscan; i++) {
            cm_json_object_begin(&j, NULL);
            cm_json_str(&j, "key_id", s->scan[i].key_id);
            cm_json_str(&j, "profile", s->scan[i].profile);
            cm_json_uint(&j, "format", s->scan[i].block_version);
            cm_json_uint(&j, "objects", s->scan[i].objects);
            cm_json_uint(&j, "bytes", s->scan[i].bytes);
            cm_json_object_end(&j);
        }
        cm_json_array_end(&j);
    }
    cm_json_object_end(&j);
    cm_json_object_end(&j);
    printf("%s\n", cm_json_text(&j));
    cm_json_free(&j);
}

static void summary_text(const cm_migrate_opts *o, const cm_migrate_summary *s)
{
    char bytes[32], rate[32];
    human_bytes(bytes, sizeof bytes, (double)s->bytes);
    human_bytes(rate, sizeof rate, s->seconds > 0 ? (double)s->bytes_processed / s->seconds : 0);
    printf("migrate %s: %llu files (%s) in %.1f s: %llu %s, %llu skipped, %llu failed; %s/s\n",
           cm_migrate_action_name(o->action), (unsigned long long)s->files, bytes, s->seconds,
           (unsigned long long)s->processed, o->dry_run ? "to process" : "processed", (unsigned long long)s->skipped,
           (unsigned long long)s->failed, rate);
    if (s->from_journal)
        printf("  %llu of them done by an earlier run (journal)\n", (unsigned long long)s->from_journal);
    for (size_t i = 0; i < s->nreasons; i++)
        printf("  %-8s %-20s %llu\n", s->reasons[i].failure ? "failed" : "skipped", s->reasons[i].name,
               (unsigned long long)s->reasons[i].count);
    if (o->action == CM_MIGRATE_SCAN) {
        printf("  %-24s %-18s %6s %10s %14s\n", "key id", "profile", "format", "objects", "bytes");
        for (size_t i = 0; i < s->nscan; i++)
            printf("  %-24s %-18s %6u %10llu %14llu\n", s->scan[i].key_id, s->scan[i].profile,
                   s->scan[i].block_version, (unsigned long long)s->scan[i].objects,
                   (unsigned long long)s->scan[i].bytes);
    }
}

/* --shard I/N */
static int parse_shard(cm_app *app, const char *text, cm_migrate_opts *o)
{
    unsigned i, n;
    char tail;
    if (text == NULL)
        return 0;
    if (sscanf(text, "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n || n > 1000000) {
        cm_app_say(app, "--shard '%s' must be I/N with 0 <= I < N (e.g. 0/4)", text);
        return CM_OUT_USAGE;
    }
    o->shard_index = i;
    o->shard_count = n;
    return 0;
}

static int parse_options(cm_app *app, const cm_cmdline *cl, cm_migrate_opts *o)
{
    int action = cl->argc > 0 ? cm_migrate_action_from_name(cl->argv[0]) : -1;
    if (action < 0 || cl->argc < 2) {
        cm_app_say(app, "expected ACTION PATH... with ACTION encrypt, decrypt, rekey, verify or scan (see chaosmask help migrate)");
        return CM_OUT_USAGE;
    }
    o->action = (cm_migrate_action)action;
    o->paths = cl->argv + 1;
    o->npaths = (size_t)cl->argc - 1;
    o->out_dir = cm_cl_value(cl, OPT_OUT);
    o->journal = cm_cl_value(cl, OPT_JOURNAL);
    o->resume = cm_cl_flag(cl, OPT_RESUME);
    o->dry_run = cm_cl_flag(cl, OPT_DRY_RUN);
    o->key_id = cm_cl_value(cl, OPT_KEY);
    o->from_id = cm_cl_value(cl, OPT_FROM);
    o->follow_symlinks = cm_cl_flag(cl, OPT_FOLLOW);
    o->allow_hardlinks = cm_cl_flag(cl, OPT_HARDLINKS);
    uint64_t v;
    int rc = parse_shard(app, cm_cl_value(cl, OPT_SHARD), o);
    if (rc == 0 && cm_cl_value(cl, OPT_JOBS) != NULL &&
        (rc = cm_cl_size(app, "--jobs", cm_cl_value(cl, OPT_JOBS), 1, CM_THREADS_MAX, &v)) == 0)
        app->cfg.threads = (unsigned)v; /* the one pool of the process, sized once */
    if (rc == 0 && cm_cl_value(cl, OPT_MEMORY) != NULL &&
        (rc = cm_cl_size(app, "--memory", cm_cl_value(cl, OPT_MEMORY), (uint64_t)64 << 20, UINT64_MAX, &v)) == 0)
        o->memory_budget = v;
    if (rc == 0 && (o->action == CM_MIGRATE_ENCRYPT || o->action == CM_MIGRATE_REKEY))
        rc = cm_cl_profile(app, cl, OPT_PROFILE, &o->profile);
    return rc;
}

static int run_migrate(cm_app *app, cm_cmdline *cl)
{
    cm_migrate_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_options(app, cl, &o);
    if (rc != 0)
        return rc;
    shell sh = {cm_cl_flag(cl, OPT_JSON), isatty(STDERR_FILENO) && cm_app_log_level(app) >= CM_LOG_WARN, 0};
    o.on_file = on_file;
    o.on_progress = on_progress;
    o.user = &sh;
    static cm_migrate_summary s; /* large (reason and scan tables) */
    cm_error err = {0, ""};
    rc = cm_migrate_run(app, &o, &s, &err);
    if (sh.live && sh.line_len > 0)
        fputc('\n', stderr);
    if (rc != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(rc);
    }
    if (sh.json)
        summary_json(&o, &s);
    else
        summary_text(&o, &s);
    return s.failed > 0 ? CM_OUT_CHECK : CM_OUT_OK;
}

static const cm_optdef MIGRATE_OPTIONS[] = {
    {"out", OPT_OUT, "DIR", "write results under DIR with the same relative paths (default: in place)"},
    {"jobs", OPT_JOBS, "N", "files in parallel (default: [engine] threads, 0 = all cores)"},
    {"shard", OPT_SHARD, "I/N", "only this machine's share: files whose relative path hashes to I of N"},
    {"journal", OPT_JOURNAL, "FILE", "the resume journal (default ./chaosmask-migrate-ACTION[-shard-I-of-N].journal)"},
    {"resume", OPT_RESUME, NULL, "continue the run the journal records: files done there are not done again"},
    {"dry-run", OPT_DRY_RUN, NULL, "classify and count, write nothing (no journal either)"},
    {"json", OPT_JSON, NULL, "one JSON line per file on stdout, then a summary line"},
    {"key", OPT_KEY, "ID", "encrypt: the key to use (default: the active key)"},
    {"from", OPT_FROM, "ID", "rekey: only objects under key ID (default: every key but the active one)"},
    {"profile", OPT_PROFILE, "P", "encrypt, rekey: the profile of new objects (default: the configuration's)"},
    {"follow-symlinks", OPT_FOLLOW, NULL, "follow symbolic links (default: counted and skipped)"},
    {"allow-hardlinks", OPT_HARDLINKS, NULL, "in place: also replace files with several hard links"},
    {"memory", OPT_MEMORY, "SIZE", "memory budget for files in flight (default: a quarter of RAM, at least 1G)"},
    CM_OPT_END,
};

const cm_command cm_cmd_migrate = {
    "migrate",
    "encrypt, decrypt, rekey, verify or scan whole archive trees (parallel, resumable, sharded)",
    "ACTION [OPTIONS] PATH...",
    "ACTION is one of:\n"
    "  encrypt  every DICOM file under PATH, in place or mirrored under --out\n"
    "  decrypt  the reverse (outputs are PHI: created 0600; every decryption is audited)\n"
    "  rekey    objects under another key (or --from ID) re-encrypted under the active key in\n"
    "           memory and replaced atomically; no plaintext is ever written\n"
    "  verify   authenticate everything, write nothing\n"
    "  scan     count objects and bytes per key id, profile and format, and how many are plain,\n"
    "           damaged or not DICOM: what to know before retiring a key (no key needed)\n"
    "Not-DICOM files, DICOMDIRs and objects without pixels are skipped and counted; replaced files\n"
    "keep owner, group, mode and mtime; files with several hard links are skipped unless allowed.\n"
    "Each file's outcome goes to a journal once its output is durable: after a crash or kill,\n"
    "the same command with --resume does every remaining file exactly once. A live progress line\n"
    "on a terminal; a summary at the end. Exit 1 when some files failed.",
    MIGRATE_OPTIONS,
    CM_X(CM_OUT_CHECK) | CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL),
    run_migrate,
};
