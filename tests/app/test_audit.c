/* test_audit.c - the audit log: one line per event with the documented fields, values from
 * files escaped (no forged lines, valid UTF-8), concurrent writers never interleave, log
 * rotation, refusal of unsafe files; and the outcome table every program shares. */
#include "config/fixture.h"

#include <sys/wait.h>

#include "chaosmask/app_audit.h"
#include "chaosmask/app_outcome.h"
#include "chaosmask/dicom.h"

static int mode_of_file(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (int)(st.st_mode & 07777);
}

static int count_lines(const char *path, int *complete)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    static char line[65536];
    int n = 0;
    *complete = 1;
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        n++;
        if (len < 3 || line[0] != '{' || line[len - 1] != '\n' || line[len - 2] != '}')
            *complete = 0;
    }
    fclose(f);
    return n;
}

static void test_fields(void)
{
    puts("an event is one line with the documented fields; failures carry outcome and reason");
    const char *path = fx_path("audit.log");
    cm_audit *a = NULL;
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_audit_open(&a, path, 1, "chaosmask", &err), 0);
    CHECK(cm_audit_enabled(a));
    cm_audit_event ev = cm_audit_event_init("decrypt");
    ev.file = "/archive/a.dcm";
    ev.sop_instance_uid = "1.2.3";
    ev.key_id = "k1";
    ev.bytes = 524288;
    CHECK_EQ_INT(cm_audit_write(a, &ev, &err), 0);
    ev = cm_audit_event_init("decrypt");
    ev.code = CM_DICOM_EAUTH;
    ev.message = "authentication failed\nforged\": \"line";
    ev.file = "/archive/bad\xff\xfe.dcm";
    CHECK_EQ_INT(cm_audit_write(a, &ev, &err), 0);
    cm_audit_close(a);
    CHECK_EQ_INT(mode_of_file(path), 0600);
    char text[4096];
    fx_read(path, text, sizeof text);
    int complete;
    CHECK_EQ_INT(count_lines(path, &complete), 2);
    CHECK(complete);
    CHECK(fx_contains(text, "\"event\": \"decrypt\", \"outcome\": \"ok\", \"reason\": null"));
    CHECK(fx_contains(text, "\"sop_instance_uid\": \"1.2.3\", \"key_id\": \"k1\", \"bytes\": 524288"));
    CHECK(fx_contains(text, "\"outcome\": \"refused\", \"reason\": \"auth\""));
    CHECK(fx_contains(text, "failed\\u000aforged\\\": \\\"line"));
    CHECK(fx_contains(text, "bad\\ufffd\\ufffd.dcm"));
    CHECK(fx_contains(text, "\"time\": \"20"));
    CHECK(fx_contains(text, "\"program\": \"chaosmask\""));

    puts("the service's fields: called AE, TLS subject, operation, level, mode, destination, status");
    CHECK_EQ_INT(cm_audit_open(&a, path, 0, "chaosmask-scp", &err), 0);
    ev = cm_audit_event_init("retrieve");
    ev.peer_ae = "VIEWER";
    ev.peer_address = "10.0.0.7";
    ev.called_ae = "CHAOSMASK";
    ev.tls = 1;
    ev.tls_subject = "/CN=viewer";
    ev.operation = "C-MOVE";
    ev.level = "STUDY";
    ev.mode = "decrypted";
    ev.destination = "STORESCP";
    ev.transfer_syntax = "1.2.840.10008.1.2.1";
    ev.status = 0xA801;
    CHECK_EQ_INT(cm_audit_write(a, &ev, &err), 0);
    cm_audit_close(a);
    fx_read(path, text, sizeof text);
    CHECK(fx_contains(text, "\"peer_ae\": \"VIEWER\", \"peer_address\": \"10.0.0.7\", \"called_ae\": "
                            "\"CHAOSMASK\", \"tls\": true, \"tls_subject\": \"/CN=viewer\", \"operation\": "
                            "\"C-MOVE\", \"transfer_syntax\": \"1.2.840.10008.1.2.1\", \"level\": \"STUDY\", "
                            "\"mode\": \"decrypted\", \"destination\": \"STORESCP\", \"status\": \"0xA801\""));
    CHECK(strstr(text, "\"status\": \"0x0000\"") == NULL); /* -1: no status field at all */
}

static void test_concurrent_and_rotation(void)
{
    puts("4 processes x 200 records: 800 whole lines, none interleaved");
    const char *path = fx_path("busy.log");
    cm_audit *a = NULL;
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_audit_open(&a, path, 0, "chaosmask-scp", &err), 0);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            char detail[2048];
            memset(detail, 'a' + k, sizeof detail - 1);
            detail[sizeof detail - 1] = '\0';
            for (int i = 0; i < 200; i++) {
                cm_audit_event ev = cm_audit_event_init("store");
                ev.detail = detail;
                if (cm_audit_write(a, &ev, &err) != 0)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status;
        CHECK(waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    int complete;
    CHECK_EQ_INT(count_lines(path, &complete), 800);
    CHECK(complete);

    puts("rotation: after the file is renamed away, the next record starts a new file");
    char rotated[CM_PATH_MAX];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    CHECK(rename(path, rotated) == 0);
    cm_audit_event ev = cm_audit_event_init("store");
    CHECK_EQ_INT(cm_audit_write(a, &ev, &err), 0);
    CHECK_EQ_INT(count_lines(path, &complete), 1);
    CHECK_EQ_INT(count_lines(rotated, &complete), 800);
    cm_audit_close(a);
}

static void test_refusals(void)
{
    puts("a symlink, a file writable by others: refused; an empty path records nothing");
    cm_audit *a = NULL;
    cm_error err = {0, ""};
    fx_write(fx_path("target.log"), "", 0600);
    CHECK(symlink(fx_path("target.log"), fx_path("link.log")) == 0);
    CHECK_EQ_INT(cm_audit_open(&a, fx_path("link.log"), 1, "chaosmask", &err), CM_APP_EAUDIT);
    CHECK(fx_contains(err.msg, "symbolic link"));
    fx_write(fx_path("open.log"), "", 0666);
    CHECK(chmod(fx_path("open.log"), 0666) == 0);
    CHECK_EQ_INT(cm_audit_open(&a, fx_path("open.log"), 1, "chaosmask", &err), CM_APP_EAUDIT);
    CHECK(fx_contains(err.msg, "writable by others"));
    CHECK_EQ_INT(cm_audit_open(&a, fx_path("no/dir/audit.log"), 1, "chaosmask", &err), CM_APP_EAUDIT);
    CHECK_EQ_INT(cm_audit_open(&a, "", 1, "chaosmask", &err), 0);
    CHECK(!cm_audit_enabled(a));
    cm_audit_event ev = cm_audit_event_init("store");
    CHECK_EQ_INT(cm_audit_write(a, &ev, &err), 0);
    cm_audit_close(a);
}

static void test_outcomes(void)
{
    puts("one outcome table: exit codes, worst of several, DICOM store statuses");
    const cm_exit_row *t = cm_exit_table();
    for (int c = 0; c < CM_OUT_COUNT; c++)
        CHECK_EQ_INT(t[c].code, c);
    CHECK_EQ_INT(cm_outcome_of(0), CM_OUT_OK);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_EENCRYPTED), CM_OUT_OK);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_ENOTHING), CM_OUT_NOTHING);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_EINPUT), CM_OUT_INPUT);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_ESTRUCTURE), CM_OUT_INPUT);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_EAUTH), CM_OUT_AUTH);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_EIDENTITY), CM_OUT_IDENTITY);
    CHECK_EQ_INT(cm_outcome_of(CM_DICOM_EREENCODED), CM_OUT_REENCODED);
    CHECK_EQ_INT(cm_outcome_of(CM_CFG_EUNKNOWNKEY), CM_OUT_CONFIG);
    CHECK_EQ_INT(cm_outcome_of(CM_CFG_EMODE), CM_OUT_CONFIG);
    CHECK_EQ_INT(cm_outcome_of(CM_APP_EIO), CM_OUT_IO);
    CHECK_EQ_INT(cm_outcome_of(CM_EAUTH), CM_OUT_AUTH);
    CHECK_EQ_INT(cm_outcome_of(CM_ENOMEM), CM_OUT_INTERNAL);
    CHECK_EQ_INT(cm_outcome_worst(CM_OUT_NOTHING, CM_OUT_INPUT), CM_OUT_INPUT);
    CHECK_EQ_INT(cm_outcome_worst(CM_OUT_AUTH, CM_OUT_INPUT), CM_OUT_AUTH);
    CHECK_EQ_INT(cm_outcome_worst(CM_OUT_OK, CM_OUT_NOTHING), CM_OUT_NOTHING);
    CHECK_EQ_INT(cm_outcome_worst(CM_OUT_IO, CM_OUT_AUTH), CM_OUT_IO);
    CHECK_EQ_INT(cm_outcome_store_status(CM_OUT_OK), 0x0000);
    CHECK_EQ_INT(cm_outcome_store_status(CM_OUT_IO), 0xA700);
    CHECK_EQ_INT(cm_outcome_store_status(CM_OUT_INPUT), 0xC000);
    CHECK_EQ_INT(cm_outcome_store_status(CM_OUT_AUTH), 0xC000);

    puts("the service's statuses: 0xA900 mismatch, 0x0124 not authorized, 0xA700 a limit reached");
    CHECK_EQ_INT(cm_store_status_of(0), 0x0000);
    CHECK_EQ_INT(cm_store_status_of(CM_DICOM_EENCRYPTED), 0x0000);
    CHECK_EQ_INT(cm_store_status_of(CM_APP_EMISMATCH), 0xA900);
    CHECK_EQ_INT(cm_store_status_of(CM_APP_EDENIED), 0x0124);
    CHECK_EQ_INT(cm_store_status_of(CM_APP_ELIMIT), 0xA700);
    CHECK_EQ_INT(cm_store_status_of(CM_APP_EIO), 0xA700);
    CHECK_EQ_INT(cm_store_status_of(CM_DICOM_ESTRUCTURE), 0xC000);
    CHECK_EQ_INT(cm_store_status_of(CM_DICOM_EGEOMETRY), 0xC000);
    CHECK_EQ_INT(cm_store_status_of(CM_DICOM_EBLOCK), 0xC000);
    CHECK_EQ_INT(cm_outcome_of(CM_APP_ELIMIT), CM_OUT_IO);
    CHECK_EQ_INT(cm_outcome_of(CM_APP_EDENIED), CM_OUT_INPUT);
}

int main(void)
{
    fixture_init();
    test_fields();
    test_concurrent_and_rotation();
    test_refusals();
    test_outcomes();
    puts("ok");
    return 0;
}
