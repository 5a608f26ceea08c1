/* main.cpp - chaosmask-scp, the encrypting DICOM archive: the command line, the start-up checks
 * (configuration, key ring with an active key, archive and its index, TLS files), then the
 * server (server.h).  Everything a peer can send is handled in forked children. */
#include "archive_index.h"
#include "reindex.h"
#include "server.h"
#include "tls.h"

#include "chaosmask/app_cmdline.h"
#include "chaosmask/app_file.h"
#include "chaosmask/app_ops.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmnet/dul.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace chaosmask::scp;

namespace {

enum { OPT_PORT = 256, OPT_REINDEX };

const cm_optdef OPTIONS[] = {
    {"port", OPT_PORT, "N", "TCP port to listen on (default: the configuration's [scp] port)"},
    {"reindex", OPT_REINDEX, NULL,
     "rebuild the archive's index.dat from its files and exit (the service must be stopped)"},
    CM_OPT_END,
};

const unsigned EXITS = CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL);

void help(FILE *f)
{
    fprintf(f, "usage: chaosmask-scp [--config FILE] [--keyring DIR] [--port N] [-v|-d|--log-level L]\n"
               "       chaosmask-scp [--config FILE] --reindex\n"
               "       chaosmask-scp --help | --version\n\n"
               "The ChaosMask storage service: a DICOM archive that masks the pixels of every object it\n"
               "receives before anything reaches the disk.  C-ECHO; C-STORE of every storage SOP class in\n"
               "the transfer syntax the peer proposes, stored as received (masked); C-FIND on the clear\n"
               "index; C-GET and C-MOVE giving each [peer NAME] the originals, the masked objects or\n"
               "nothing.  Peers, TLS, limits and timeouts come from the configuration; every association,\n"
               "store, query and retrieval is a line in the audit log.  SIGTERM stops it gracefully.\n\n"
               "--reindex rebuilds index.dat from the archive files (exit 4 when files were left out,\n"
               "each named on stderr); the index it replaces stays as index.dat.before-reindex.\n\n"
               "options:\n");
    cm_cmdline_print_options(f, OPTIONS);
    fprintf(f, "\nglobal options:\n");
    cm_cmdline_print_options(f, cm_cmdline_global_options());
    fprintf(f, "    --version                 print the version and exit\n\n");
    cm_cmdline_print_exits(f, EXITS);
}

/* A relative --keyring made absolute: the service changes into the archive directory. */
int absolute_keyring(cm_app *app, cm_error *err)
{
    static char dir[PATH_MAX];
    if (app->keyring_dir == nullptr || app->keyring_dir[0] == '/')
        return 0;
    if (realpath(app->keyring_dir, dir) == nullptr)
        return cm_fail(err, CM_CFG_ENOENT, "key ring %s: %s", app->keyring_dir, strerror(errno));
    app->keyring_dir = dir;
    return 0;
}

/* The key ring opens and has an active key: a store must never find out it has none. */
int open_keys(cm_app *app, Service &svc, cm_error *err)
{
    char id[CM_KEYID_MAX];
    int rc = absolute_keyring(app, err);
    if (rc == 0)
        rc = cm_app_keys(app, &svc.keys, err);
    if (rc == 0)
        rc = cm_keys_active(svc.keys, id, err);
    return rc;
}

/* Removes the temporary files a killed process left in the archive's directories. */
void clean_archive()
{
    DIR *d = opendir(".");
    if (d == nullptr)
        return;
    while (struct dirent *e = readdir(d))
        if (strlen(e->d_name) == 2 && isxdigit(static_cast<unsigned char>(e->d_name[0])) &&
            isxdigit(static_cast<unsigned char>(e->d_name[1])))
            cm_atomic_clean_dir(e->d_name, nullptr, nullptr);
    closedir(d);
}

/* The archive directory's lock, held for the life of the process (and of its children): shared
 * by services, exclusive for --reindex, so neither runs under the other. */
int lock_archive(const char *dir, bool exclusive, cm_error *err)
{
    static int fd = -1;
    if (fd < 0 && (fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return cm_fail(err, CM_APP_EIO, "archive directory %s: %s", dir, strerror(errno));
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK)
        return cm_fail(err, CM_APP_EIO, "archive directory %s cannot be locked: %s", dir, strerror(errno));
    return exclusive ? cm_fail(err, CM_APP_EIO, "the archive %s is in use by a running chaosmask-scp (or another "
                                                "--reindex): stop the service first", dir)
                     : cm_fail(err, CM_APP_EIO, "the archive %s is being reindexed (chaosmask-scp --reindex)", dir);
}

/* The archive directory (created if missing) becomes the working directory; its index opens. */
int open_archive(Service &svc, cm_error *err)
{
    const char *dir = svc.cfg->archive_dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cm_fail(err, CM_APP_EIO, "archive directory %s cannot be created: %s ([archive] dir)", dir,
                       strerror(errno));
    if (chdir(dir) != 0)
        return cm_fail(err, CM_APP_EIO, "archive directory %s: %s ([archive] dir)", dir, strerror(errno));
    if (lock_archive(dir, false, err) != 0)
        return err->code;
    svc.archive = dir;
    clean_archive();
    /* the 256 folders the archive files go in (00 .. ff), made and synced once here, so a
     * store never depends on a folder another association made and may not have synced yet */
    for (int i = 0; i < 256; i++) {
        char sub[3];
        snprintf(sub, sizeof sub, "%02x", i);
        if (mkdir(sub, 0700) != 0 && errno != EEXIST)
            return cm_fail(err, CM_APP_EIO, "archive directory %s/%s cannot be created: %s", dir, sub,
                           strerror(errno));
    }
    std::unique_ptr<ArchiveIndex> index =
        ArchiveIndex::open(svc.cfg->archive_max_studies, svc.cfg->archive_max_study_bytes, err);
    if (!index)
        return CM_APP_EIO;
    /* index.dat may be new: its directory entry too */
    return cm_fsync_dir(".", err);
}

void set_limits(cm_app *app, Service &svc)
{
    svc.archive_limits = cm_app_limits(app);
    svc.received_limits = svc.archive_limits;
    if (svc.cfg->scp_max_object_bytes < svc.received_limits.max_bytes)
        svc.received_limits.max_bytes = svc.cfg->scp_max_object_bytes;
}

/* What every child inherits: no core dumps (they would hold plaintext), private files. */
void harden_process()
{
    umask(077);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0);
}

void prepare_dcmtk()
{
    cm_dicom_register_dictionary();
    DJDecoderRegistration::registerCodecs(); /* C-GET/C-MOVE may decode JPEG, JPEG-LS and RLE in memory */
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    dcmDisableGethostbyaddr.set(OFTrue); /* numeric peer addresses: no DNS on the way in */
}

int start(cm_app *app, Service &svc, std::unique_ptr<DcmTLSTransportLayer> &tls, cm_error *err)
{
    svc.app = app;
    svc.cfg = &app->cfg;
    harden_process();
    int rc = open_keys(app, svc, err);
    if (rc == 0)
        rc = cm_app_audit(app, &svc.audit, err);
    if (rc == 0 && svc.cfg->tls_enabled) {
        tls = tls_accepting_layer(*svc.cfg, err);
        rc = tls ? 0 : err->code;
        svc.tls_in = tls.get();
    }
    if (rc == 0)
        rc = open_archive(svc, err);
    set_limits(app, svc);
    prepare_dcmtk();
    return rc;
}

/* The archive directory becomes the working directory of --reindex: as root, never through a
 * symbolic link (its owner could point it anywhere), and the rest runs as the directory's
 * owner (the service's user, who made it), so nothing the owner put in the archive can make
 * root act on a file outside it, and the index it makes is the service's.  An index.dat of
 * another owner (restored by root, a hard link) is refused: run as the service's user. */
int enter_archive_as_owner(const char *dir, cm_error *err)
{
    if (geteuid() != 0)
        return chdir(dir) == 0 ? 0 : cm_fail(err, CM_APP_EIO, "archive directory %s: %s ([archive] dir)", dir,
                                             strerror(errno));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st, idx;
    if (fd < 0 || fstat(fd, &st) != 0 || fchdir(fd) != 0) {
        const int e = errno;
        if (fd >= 0)
            close(fd);
        return cm_fail(err, CM_APP_EIO, "archive directory %s: %s ([archive] dir; as root, not a symbolic link)",
                       dir, strerror(e));
    }
    close(fd);
    if (lstat("index.dat", &idx) == 0 && (idx.st_uid != st.st_uid || idx.st_nlink != 1 || !S_ISREG(idx.st_mode)))
        return cm_fail(err, CM_APP_EUSAGE, "%s/index.dat is not a file of the archive's owner (uid %u) alone: run "
                       "--reindex as the service's user (sudo -u USER chaosmask-scp --reindex)", dir,
                       static_cast<unsigned>(st.st_uid));
    if (st.st_uid == 0)
        return 0;
    const struct passwd *pw = getpwuid(st.st_uid);
    const gid_t gid = pw != nullptr ? pw->pw_gid : st.st_gid;
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(st.st_uid) != 0)
        return cm_fail(err, CM_APP_EIO, "cannot become the owner of the archive %s (uid %u): %s", dir,
                       static_cast<unsigned>(st.st_uid), strerror(errno));
    return 0;
}

/* --reindex: the archive's index rebuilt from its files (reindex.h), one audit record. */
int reindex(cm_app *app, cm_error *err)
{
    harden_process();
    const char *dir = app->cfg.archive_dir;
    if (enter_archive_as_owner(dir, err) != 0 || lock_archive(dir, true, err) != 0)
        return err->code;
    cm_audit *audit = nullptr;
    if (cm_app_audit(app, &audit, err) != 0)
        return err->code;
    prepare_dcmtk();
    ReindexSummary s;
    const cm_dicom_limits limits = cm_app_limits(app);
    int rc = reindex_archive(app->cfg, limits, stderr, s, err);
    cm_audit_event ev = cm_audit_event_init("reindex");
    char detail[256];
    snprintf(detail, sizeof detail, "%zu archive files: %zu indexed in %zu studies, %zu older copies and %zu files "
             "left out, %zu other files ignored", s.files, s.indexed, s.studies, s.duplicates, s.left_out, s.ignored);
    ev.code = rc;
    ev.message = rc != 0 ? err->msg : nullptr;
    ev.output = "index.dat";
    ev.detail = detail;
    ev.count = static_cast<long long>(s.indexed);
    cm_error aerr = {0, ""};
    if (cm_audit_write(audit, &ev, &aerr) != 0 && rc == 0)
        rc = cm_fail(err, aerr.code, "%s", aerr.msg);
    if (rc != 0)
        return rc;
    printf("%s/index.dat rebuilt: %s\n", dir, detail);
    if (s.left_out + s.duplicates > 0)
        return cm_fail(err, CM_DICOM_EINPUT, "%zu archive files left out of the index (named above)",
                       s.left_out + s.duplicates);
    return 0;
}

int parse_port(cm_app *app, const cm_cmdline &cl, unsigned *port)
{
    const char *v = cm_cl_value(&cl, OPT_PORT);
    if (v == nullptr)
        return 0;
    uint64_t n = 0;
    if (cm_parse_size(v, &n) != 0 || n == 0 || n > 65535 || strspn(v, "0123456789") != strlen(v)) {
        cm_app_say(app, "--port '%s' is not a TCP port number from 1 to 65535", v);
        return CM_OUT_USAGE;
    }
    *port = static_cast<unsigned>(n);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    cm_cmdline_translate_dcmtk(argc, argv);
    static cm_app app;
    cm_app_init(&app, "chaosmask-scp");
    cm_cmdline cl;
    memset(&cl, 0, sizeof cl);
    int help_flag = 0, version = 0;
    cm_cmdline_spec spec = {OPTIONS, 0, 1, "chaosmask-scp --help"};
    int rc = cm_cmdline_parse(&app, argc, argv, &spec, &cl, &help_flag, &version);
    if (rc != 0)
        return rc;
    if (help_flag || version) {
        help_flag ? help(stdout) : cm_cmdline_print_version("chaosmask-scp");
        return CM_OUT_OK;
    }
    if (cl.argc > 0) {
        cm_app_say(&app, "unexpected argument '%s' (see chaosmask-scp --help)", cl.argv[0]);
        return CM_OUT_USAGE;
    }
    cm_error err = {0, ""};
    if (cm_cl_flag(&cl, OPT_REINDEX)) {
        if (cm_app_load_config(&app, &err) == 0)
            reindex(&app, &err);
        if (err.code != 0)
            cm_app_report(&app, nullptr, &err);
        cm_app_close(&app);
        return cm_outcome_of(err.code);
    }
    unsigned port = 0;
    if ((rc = parse_port(&app, cl, &port)) != 0)
        return rc;
    Service svc;
    std::unique_ptr<DcmTLSTransportLayer> tls;
    if (cm_app_load_config(&app, &err) == 0) {
        svc.port = port ? port : app.cfg.scp_port;
        start(&app, svc, tls, &err);
    }
    Server server(svc);
    if (err.code == 0)
        server.listen(&err);
    if (err.code != 0) {
        cm_app_report(&app, nullptr, &err);
        cm_app_close(&app);
        return cm_outcome_of(err.code);
    }
    rc = server.run();
    cm_app_close(&app);
    return rc;
}
