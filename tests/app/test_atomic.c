/* test_atomic.c - the one atomic writer: new files and their modes whatever the umask, a
 * replaced file keeps owner, group, mode and mtime, a crash between the temporary file and
 * the rename leaves the old file, stale temporary files are removed by the next writer in
 * that directory (and live ones are not), a signal removes the temporary file, no_replace,
 * and a failing write leaves nothing. */
#include "config/fixture.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "chaosmask/app_file.h"
#include "chaosmask/app_outcome.h"

static int mode_of(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (int)(st.st_mode & 07777);
}

/* Number of temporary files (the documented pattern) in dir. */
static int temps_in(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] == '.' && strstr(e->d_name, CM_ATOMIC_TMP_TAG) != NULL;
    closedir(d);
    return n;
}

static void write_or_die(const char *path, const char *text, const cm_atomic_opts *o)
{
    cm_error err = {0, ""};
    int rc = cm_atomic_write_file(path, text, strlen(text), o, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
}

static void test_modes(void)
{
    puts("new files: 0666 minus the umask, or exactly the mode asked for whatever the umask");
    char buf[64];
    mode_t old = umask(022);
    write_or_die(fx_path("umask.txt"), "a", NULL);
    CHECK_EQ_INT(mode_of(fx_path("umask.txt")), 0644);
    cm_atomic_opts phi = {.mode = 0600};
    write_or_die(fx_path("phi.txt"), "b", &phi);
    CHECK_EQ_INT(mode_of(fx_path("phi.txt")), 0600);
    umask(077);
    cm_atomic_opts open_mode = {.mode = 0644};
    write_or_die(fx_path("wide.txt"), "c", &open_mode);
    CHECK_EQ_INT(mode_of(fx_path("wide.txt")), 0644);
    umask(old);
    puts("a replaced file gets the new content, atomically");
    write_or_die(fx_path("umask.txt"), "second", NULL);
    CHECK_EQ_INT(fx_read(fx_path("umask.txt"), buf, sizeof buf), 6);
    CHECK(strcmp(buf, "second") == 0);
    CHECK_EQ_INT(temps_in(fixture_root), 0);
}

static void test_keep_owner(void)
{
    const char *path = fx_path("owned.txt");
    fx_write(path, "original", 0640);
    struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
    CHECK(utimensat(AT_FDCWD, path, past, 0) == 0);
    struct stat before;
    cm_error err = {0, ""};
    if (geteuid() == 0) {
        puts("in place as root: a file owned by nobody keeps owner, group, mode and mtime");
        CHECK(chown(path, 65534, 65534) == 0);
        CHECK(stat(path, &before) == 0);
        cm_atomic_opts like = {.like = &before};
        write_or_die(path, "replaced", &like);
        struct stat after;
        CHECK(stat(path, &after) == 0);
        CHECK_EQ_INT(after.st_uid, 65534);
        CHECK_EQ_INT(after.st_gid, 65534);
        CHECK_EQ_INT(after.st_mode & 07777, 0640);
        CHECK_EQ_INT(after.st_mtime, 1000000000);
        CHECK(after.st_ino != before.st_ino); /* a new file, renamed over the old one */
    } else {
        puts("in place, not root: a file whose owner cannot be kept is not replaced");
        CHECK(stat("/", &before) == 0); /* owned by root: we cannot give a file to root */
        cm_atomic_opts like = {.like = &before};
        CHECK_EQ_INT(cm_atomic_write_file(path, "x", 1, &like, &err), CM_APP_EIO);
        CHECK(fx_contains(err.msg, "cannot give the new file the owner"));
    }
    char buf[64];
    fx_read(path, buf, sizeof buf);
    CHECK(strcmp(buf, geteuid() == 0 ? "replaced" : "original") == 0);
    CHECK_EQ_INT(temps_in(fixture_root), 0);
}

/* Child: opens an atomic file over target, writes, then dies as told. */
static pid_t child_writer(const char *target, int how)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid > 0)
        return pid;
    if (how == SIGTERM)
        cm_atomic_cleanup_on_signals();
    cm_atomic f;
    cm_error err;
    if (cm_atomic_open(&f, target, NULL, &err) != 0 || cm_atomic_write(&f, "new content", 11, &err) != 0)
        _exit(3);
    if (how == SIGSTOP) { /* stay alive with the lock held until killed */
        raise(SIGSTOP);
        _exit(0);
    }
    raise(how);
    _exit(4);
}

static void test_crash_and_stale(void)
{
    char dir[CM_PATH_MAX], target[CM_PATH_MAX + 32], buf[64];
    snprintf(dir, sizeof dir, "%s", fx_path("crash"));
    fx_mkdir(dir, 0755);
    snprintf(target, sizeof target, "%s/object.dcm", dir);
    fx_write(target, "old content", 0644);

    puts("killed between the temporary file and the rename: the old file is intact");
    int status;
    pid_t pid = child_writer(target, SIGKILL);
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK_EQ_INT(fx_read(target, buf, sizeof buf), 11);
    CHECK(strcmp(buf, "old content") == 0);
    CHECK_EQ_INT(temps_in(dir), 1);

    puts("a live writer's temporary file is never taken for stale, however old");
    pid_t live = child_writer(fx_path("crash/other.dcm"), SIGSTOP);
    CHECK(waitpid(live, &status, WUNTRACED) == live && WIFSTOPPED(status));
    if (temps_in(dir) != 2)
        kill(live, SIGKILL); /* a failed check must not leave a stopped child holding ctest's pipe */
    CHECK_EQ_INT(temps_in(dir), 2);
    DIR *d = opendir(dir);
    struct dirent *e;
    struct timespec old[2] = {{time(NULL) - 60, 0}, {time(NULL) - 60, 0}};
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strstr(e->d_name, CM_ATOMIC_TMP_TAG))
            CHECK(utimensat(dirfd(d), e->d_name, old, 0) == 0);
    closedir(d);

    puts("the next writer in that directory removes the dead process's temporary file only");
    unsigned removed = 0;
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_atomic_clean_dir(dir, &removed, &err), 0);
    if (removed != 1 || temps_in(dir) != 1)
        kill(live, SIGKILL);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(temps_in(dir), 1);
    kill(live, SIGKILL);
    CHECK(waitpid(live, &status, 0) == live);
    d = opendir(dir);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strstr(e->d_name, CM_ATOMIC_TMP_TAG))
            CHECK(utimensat(dirfd(d), e->d_name, old, 0) == 0);
    closedir(d);
    /* the first cm_atomic_open of this process in the directory cleans it by itself */
    write_or_die(fx_path("crash/third.dcm"), "3", NULL);
    CHECK_EQ_INT(temps_in(dir), 0);

    puts("a dead writer's temporary file younger than 2 s is kept (its writer may be between "
         "creating and locking it, or lock where this process cannot see), then removed");
    char young[CM_PATH_MAX + 64];
    snprintf(young, sizeof young, "%s/.young.dcm%sAbc123", dir, CM_ATOMIC_TMP_TAG);
    fx_write(young, "partial output", 0600);
    struct timespec now[2] = {{time(NULL), 0}, {time(NULL), 0}}; /* younger than 2 s however long this takes */
    now[0].tv_sec += 60, now[1].tv_sec += 60;
    CHECK(utimensat(AT_FDCWD, young, now, 0) == 0);
    CHECK_EQ_INT(cm_atomic_clean_dir(dir, &removed, &err), 0);
    CHECK_EQ_INT(removed, 0);
    struct timespec aged[2] = {{time(NULL) - CM_ATOMIC_STALE_SECONDS, 0}, {time(NULL) - CM_ATOMIC_STALE_SECONDS, 0}};
    CHECK(utimensat(AT_FDCWD, young, aged, 0) == 0);
    CHECK_EQ_INT(cm_atomic_clean_dir(dir, &removed, &err), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(temps_in(dir), 0);
}

static void test_signal_cleanup(void)
{
    puts("SIGTERM during a write: the temporary file is removed, the process dies of the signal");
    char dir[CM_PATH_MAX], target[CM_PATH_MAX + 32], buf[64];
    snprintf(dir, sizeof dir, "%s", fx_path("signal"));
    fx_mkdir(dir, 0755);
    snprintf(target, sizeof target, "%s/object.dcm", dir);
    fx_write(target, "old content", 0644);
    int status;
    pid_t pid = child_writer(target, SIGTERM);
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    CHECK_EQ_INT(temps_in(dir), 0);
    CHECK_EQ_INT(fx_read(target, buf, sizeof buf), 11);
}

static void test_refusals(void)
{
    cm_error err = {0, ""};
    char buf[64];
    puts("no_replace never replaces an existing file");
    fx_write(fx_path("kept.key"), "secret", 0600);
    cm_atomic_opts once = {.mode = 0600, .no_replace = 1};
    CHECK_EQ_INT(cm_atomic_write_file(fx_path("kept.key"), "other", 5, &once, &err), CM_APP_EIO);
    CHECK(fx_contains(err.msg, "never overwritten"));
    fx_read(fx_path("kept.key"), buf, sizeof buf);
    CHECK(strcmp(buf, "secret") == 0);
    write_or_die(fx_path("fresh.key"), "new", &once);

    puts("CM_ATOMIC_SYNC_DEFER still replaces by rename and leaves no temporary file");
    cm_atomic_opts lazy = {.mode = 0600, .sync = CM_ATOMIC_SYNC_DEFER};
    CHECK_EQ_INT(cm_atomic_write_file(fx_path("kept.key"), "cache", 5, &lazy, &err), 0);
    fx_read(fx_path("kept.key"), buf, sizeof buf);
    CHECK(strcmp(buf, "cache") == 0);
    CHECK_EQ_INT(temps_in(fixture_root), 0);

    puts("a write that fails (file size limit) leaves the old file and no temporary file");
    fx_write(fx_path("limited.txt"), "old", 0644);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        static char big[65536];
        int rc = cm_atomic_write_file(fx_path("limited.txt"), big, sizeof big, NULL, &err);
        _exit(rc == CM_APP_EIO && fx_contains(err.msg, "write failed") ? 0 : 1);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fx_read(fx_path("limited.txt"), buf, sizeof buf);
    CHECK(strcmp(buf, "old") == 0);
    CHECK_EQ_INT(temps_in(fixture_root), 0);

    puts("a directory that does not exist is an I/O error naming the path");
    CHECK_EQ_INT(cm_atomic_write_file(fx_path("no/such/dir/f"), "x", 1, NULL, &err), CM_APP_EIO);
    CHECK(fx_contains(err.msg, fx_path("no/such/dir/f")));
}

int main(void)
{
    fixture_init();
    test_modes();
    test_keep_owner();
    test_crash_and_stale();
    test_signal_cleanup();
    test_refusals();
    puts("ok");
    return 0;
}
