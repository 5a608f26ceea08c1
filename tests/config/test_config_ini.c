/* test_config_ini.c - the INI configuration: the embedded default, every key, path
 * resolution, and that every refusal names file and line and says what is expected. */
#include "fixture.h"

#include "chaosmask/chaosmask.h"
#include "chaosmask/config.h"

#ifndef CHAOSMASK_DEFAULT_INI
#error "CHAOSMASK_DEFAULT_INI (path of config/chaosmask.ini) must be defined by the build"
#endif

static cm_config cfg; /* large: keep it off the stack */

static void test_embedded_default(void)
{
    puts("the embedded text is config/chaosmask.ini, byte for byte");
    static char file[65536];
    long n = fx_read(CHAOSMASK_DEFAULT_INI, file, sizeof file);
    CHECK(n > 0);
    CHECK(strcmp(cm_config_embedded_text(), file) == 0);

    puts("the embedded default parses and equals cm_config_defaults(), paths against the cwd");
    cm_error err = {0, ""};
    CHECK(chdir(fixture_root) == 0);
    int rc = cm_config_load_embedded(&cfg, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    cm_config def;
    cm_config_defaults(&def);
    CHECK(strcmp(cfg.source, "<embedded default>") == 0);
    CHECK_EQ_INT(cfg.profile, def.profile);
    CHECK_EQ_INT(cfg.profile, CM_PROFILE_LORENZ_CHACHA20);
    CHECK_EQ_INT(cfg.threads, def.threads);
    CHECK_EQ_INT(cfg.threads, 0);
    CHECK(strcmp(def.keyring_dir, "keyring") == 0);
    CHECK(strcmp(cfg.keyring_dir, fx_path("keyring")) == 0);
    CHECK(strcmp(def.archive_dir, "archive") == 0);
    CHECK(strcmp(cfg.archive_dir, fx_path("archive")) == 0);
    CHECK(strcmp(cfg.scp_aetitle, def.scp_aetitle) == 0);
    CHECK(strcmp(cfg.scp_aetitle, "CHAOSMASK") == 0);
    CHECK_EQ_INT(cfg.scp_port, def.scp_port);
    CHECK_EQ_INT(cfg.scp_port, 11112);
    CHECK_EQ_INT(cfg.log_level, def.log_level);
    CHECK_EQ_INT(cfg.log_level, CM_LOG_WARN);
    CHECK(strcmp(def.audit_path, "audit.log") == 0);
    CHECK(strcmp(cfg.audit_path, fx_path("audit.log")) == 0);
    CHECK_EQ_INT(cfg.audit_fsync, 1);
    CHECK_EQ_INT(cfg.max_depth, 32);
    CHECK_EQ_INT(cfg.max_elements, 1000000);
    CHECK(cfg.max_object_bytes == (uint64_t)4 << 30);
    CHECK_EQ_INT(cfg.identity_policy, CM_IDENTITY_REFUSE);
    CHECK(strcmp(cfg.scp_bind, "127.0.0.1") == 0 && strcmp(def.scp_bind, cfg.scp_bind) == 0);
    CHECK_EQ_INT(cfg.scp_max_associations, 16);
    CHECK_EQ_INT(cfg.scp_max_pdu, 65536);
    CHECK_EQ_INT(cfg.scp_acse_timeout, 30);
    CHECK_EQ_INT(cfg.scp_dimse_timeout, 60);
    CHECK_EQ_INT(cfg.scp_idle_timeout, 120);
    CHECK_EQ_INT(cfg.scp_shutdown_grace, 20);
    CHECK(cfg.scp_max_object_bytes == (uint64_t)1 << 30 && def.scp_max_object_bytes == cfg.scp_max_object_bytes);
    CHECK_EQ_INT(cfg.archive_max_studies, 500);
    CHECK(cfg.archive_max_study_bytes == (uint64_t)1 << 30);
    CHECK_EQ_INT(cfg.tls_enabled, 0);
    CHECK_EQ_INT(cfg.tls_require_client_certificate, 1);
    CHECK(cfg.tls_certificate[0] == '\0' && cfg.tls_ca[0] == '\0');

    puts("the embedded default defines the local test peers of a fresh checkout");
    CHECK_EQ_INT(def.npeers, 0);
    const struct {
        const char *ae;
        int store, find, retrieve;
        unsigned port;
    } peers[] = {
        {"ECHOSCU", 0, 0, CM_RETRIEVE_NO, 0},          {"STORESCU", 1, 0, CM_RETRIEVE_NO, 0},
        {"DCMSEND", 1, 0, CM_RETRIEVE_NO, 0},          {"FINDSCU", 0, 1, CM_RETRIEVE_NO, 0},
        {"GETSCU", 0, 1, CM_RETRIEVE_DECRYPTED, 0},    {"MOVESCU", 0, 1, CM_RETRIEVE_DECRYPTED, 0},
        {"STORESCP", 0, 0, CM_RETRIEVE_DECRYPTED, 11113}, {"BACKUP", 0, 1, CM_RETRIEVE_ENCRYPTED, 11114},
    };
    CHECK_EQ_INT(cfg.npeers, sizeof peers / sizeof peers[0]);
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        const cm_peer *p = cm_config_peer(&cfg, peers[i].ae);
        CHECK(p == &cfg.peers[i]);
        CHECK(strcmp(p->name, peers[i].ae) == 0 && strcmp(p->host, "127.0.0.1") == 0);
        CHECK_EQ_INT(p->store, peers[i].store);
        CHECK_EQ_INT(p->find, peers[i].find);
        CHECK_EQ_INT(p->retrieve, peers[i].retrieve);
        CHECK_EQ_INT(p->port, peers[i].port);
        CHECK_EQ_INT(p->tls, 0);
    }
    CHECK(cm_config_peer(&cfg, "echoscu") == NULL); /* AE titles are case-sensitive */
    CHECK(cm_config_peer(&cfg, "NOBODY") == NULL && cm_config_peer(&cfg, NULL) == NULL);
    CHECK(strcmp(cm_retrieve_name(CM_RETRIEVE_DECRYPTED), "decrypted") == 0);
    CHECK(strcmp(cm_retrieve_name(CM_RETRIEVE_ENCRYPTED), "encrypted") == 0);
    CHECK(strcmp(cm_retrieve_name(CM_RETRIEVE_NO), "no") == 0);
    CHECK(strcmp(cm_log_level_name(CM_LOG_TRACE), "trace") == 0);
    CHECK(cm_log_level_name(6) == NULL && cm_log_level_name(-1) == NULL);

    puts("the shipped file itself loads as a file, paths against its directory");
    CHECK_EQ_INT(cm_config_load_file(&cfg, CHAOSMASK_DEFAULT_INI, &err), 0);
    CHECK(strcmp(cfg.source, CHAOSMASK_DEFAULT_INI) == 0);
    char want[CM_PATH_MAX];
    snprintf(want, sizeof want, "%s", CHAOSMASK_DEFAULT_INI);
    strcpy(strrchr(want, '/'), "/keyring");
    CHECK(strcmp(cfg.keyring_dir, want) == 0);
}

static void test_every_key(void)
{
    puts("every key is parsed");
    CHECK(mkdir(fx_path("etc"), 0755) == 0);
    const char *path = fx_path("etc/all.ini");
    fx_write(path,
             "\xef\xbb\xbf; a BOM, comments and blank lines are fine\r\n"
             "# hash comment\n"
             "\n"
             "[engine]\n"
             "profile = aes-256-gcm\n"
             "threads=8 ; inline comment\n"
             "[keyring]\n"
             "  dir   =   /abs/keys/  \n"
             "[archive]\n"
             "dir = ./rel//arch\n"
             "[scp]\n"
             "aetitle = PACS MASK_1\n"
             "port = 104\n"
             "[log]\n"
             "level = debug\n"
             "audit = ../log/audit.jsonl\n"
             "[engine]\n" /* a section may be reopened; its keys still count once */
             "; end",
             0644);
    cm_error err = {0, ""};
    int rc = cm_config_load_file(&cfg, path, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    CHECK(strcmp(cfg.source, path) == 0);
    CHECK_EQ_INT(cfg.profile, CM_PROFILE_AES_256_GCM);
    CHECK_EQ_INT(cfg.threads, 8);
    CHECK(strcmp(cfg.keyring_dir, "/abs/keys/") == 0); /* absolute paths are kept as written */
    CHECK(strcmp(cfg.archive_dir, fx_path("etc/rel/arch")) == 0);
    CHECK(strcmp(cfg.scp_aetitle, "PACS MASK_1") == 0);
    CHECK_EQ_INT(cfg.scp_port, 104);
    CHECK_EQ_INT(cfg.log_level, CM_LOG_DEBUG);
    CHECK(strcmp(cfg.audit_path, fx_path("etc/../log/audit.jsonl")) == 0);

    puts("every profile and level name, and the limits of the numbers");
    const struct {
        const char *text;
        int profile, level;
        unsigned threads, port;
    } cases[] = {
        {"[engine]\nprofile = lorenz\nthreads = 1024\n[log]\nlevel = fatal\n[scp]\nport = 65535\n",
         CM_PROFILE_LORENZ, CM_LOG_FATAL, 1024, 65535},
        {"[engine]\nprofile = lorenz-chacha20\nthreads = 007\n[log]\nlevel = trace\n[scp]\nport = "
         "1\n",
         CM_PROFILE_LORENZ_CHACHA20, CM_LOG_TRACE, 7, 1},
        {"[log]\nlevel = error\n", CM_PROFILE_DEFAULT, CM_LOG_ERROR, 0, 11112},
        {"[log]\nlevel = warn\n", CM_PROFILE_DEFAULT, CM_LOG_WARN, 0, 11112},
        {"", CM_PROFILE_DEFAULT, CM_LOG_WARN, 0, 11112},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_write(path, cases[i].text, 0644);
        CHECK_EQ_INT(cm_config_load_file(&cfg, path, &err), 0);
        CHECK_EQ_INT(cfg.profile, cases[i].profile);
        CHECK_EQ_INT(cfg.log_level, cases[i].level);
        CHECK_EQ_INT(cfg.threads, cases[i].threads);
        CHECK_EQ_INT(cfg.scp_port, cases[i].port);
    }
}

static void test_service_keys(void)
{
    puts("the service's keys: [scp], [archive], [tls] and [peer NAME] sections");
    CHECK(mkdir(fx_path("svc"), 0755) == 0);
    const char *path = fx_path("svc/scp.ini");
    fx_write(path,
             "[archive]\nmax_studies = 3\nmax_study_size = 2M\n"
             "[scp]\nbind = 0.0.0.0\nmax_associations = 1024\nmax_pdu = 4096\nacse_timeout = 1\n"
             "dimse_timeout = 3600\nidle_timeout = 86400\nshutdown_grace = 0\nmax_object_size = 64G\n"
             "[tls]\nenabled = yes\ncertificate = tls/server.pem\nprivate_key = /etc/k.pem\nca = tls/ca.pem\n"
             "require_client_certificate = no\n"
             "[peer  Reading room 2]\naetitle = VIEW 2\nhost = viewer-2.example.org\nport = 104\nstore = no\n"
             "find = yes\nretrieve = decrypted\ntls = yes\n"
             "[peer backup]\naetitle = BACKUP\nretrieve = encrypted\nhost = 10.0.0.7\n"
             "[peer quiet]\naetitle = Q\n",
             0644);
    cm_error err = {0, ""};
    int rc = cm_config_load_file(&cfg, path, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cfg.archive_max_studies, 3);
    CHECK(cfg.archive_max_study_bytes == 2u << 20);
    CHECK(strcmp(cfg.scp_bind, "0.0.0.0") == 0);
    CHECK_EQ_INT(cfg.scp_max_associations, 1024);
    CHECK_EQ_INT(cfg.scp_max_pdu, 4096);
    CHECK_EQ_INT(cfg.scp_acse_timeout, 1);
    CHECK_EQ_INT(cfg.scp_dimse_timeout, 3600);
    CHECK_EQ_INT(cfg.scp_idle_timeout, 86400);
    CHECK_EQ_INT(cfg.scp_shutdown_grace, 0);
    CHECK(cfg.scp_max_object_bytes == (uint64_t)64 << 30);
    CHECK_EQ_INT(cfg.tls_enabled, 1);
    CHECK(strcmp(cfg.tls_certificate, fx_path("svc/tls/server.pem")) == 0); /* relative to the file */
    CHECK(strcmp(cfg.tls_private_key, "/etc/k.pem") == 0);
    CHECK(strcmp(cfg.tls_ca, fx_path("svc/tls/ca.pem")) == 0);
    CHECK_EQ_INT(cfg.tls_require_client_certificate, 0);
    CHECK_EQ_INT(cfg.npeers, 3);
    const cm_peer *v = cm_config_peer(&cfg, "VIEW 2");
    CHECK(v != NULL && strcmp(v->name, "Reading room 2") == 0);
    CHECK(strcmp(v->host, "viewer-2.example.org") == 0 && v->port == 104);
    CHECK(!v->store && v->find && v->retrieve == CM_RETRIEVE_DECRYPTED && v->tls && v->line == 19);
    const cm_peer *b = cm_config_peer(&cfg, "BACKUP");
    CHECK(b != NULL && b->retrieve == CM_RETRIEVE_ENCRYPTED && b->port == 0 && !b->find && !b->tls);
    const cm_peer *q = cm_config_peer(&cfg, "Q");
    CHECK(q != NULL && q->host[0] == '\0' && !q->store && !q->find && q->retrieve == CM_RETRIEVE_NO);
    CHECK(strcmp(cm_peer_certificate_name(v), "viewer-2.example.org") == 0); /* its host */
    CHECK(cm_peer_certificate_name(q)[0] == '\0');

    /* a peer that calls with a certificate naming it (client certificates required, the
     * default) may read without a host: a workstation whose address changes */
    const char *roam = fx_path("svc/roam.ini");
    fx_write(roam,
             "[tls]\nenabled = yes\ncertificate = /etc/s.pem\nprivate_key = /etc/k.pem\nca = /etc/ca.pem\n"
             "[peer roaming]\naetitle = ROAM\nfind = yes\nretrieve = decrypted\ntls = yes\n"
             "certificate_name = ws-7.example.org\n"
             "[peer dest]\naetitle = DEST\nhost = 10.0.0.9\nport = 104\ntls = yes\ncertificate_name = pacs.example.org\n",
             0644);
    rc = cm_config_load_file(&cfg, roam, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    const cm_peer *r = cm_config_peer(&cfg, "ROAM");
    CHECK(r != NULL && r->host[0] == '\0' && strcmp(cm_peer_certificate_name(r), "ws-7.example.org") == 0);
    const cm_peer *d = cm_config_peer(&cfg, "DEST");
    CHECK(d != NULL && strcmp(d->host, "10.0.0.9") == 0 && strcmp(cm_peer_certificate_name(d), "pacs.example.org") == 0);

}

static void test_relative_resolution(void)
{
    puts("relative key ring dir resolves against the config file's directory");
    CHECK(mkdir(fx_path("site"), 0755) == 0);
    CHECK(mkdir(fx_path("site/conf"), 0755) == 0);
    const char *path = fx_path("site/conf/chaosmask.ini");
    fx_write(path, "[keyring]\ndir = keys\n", 0644);
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_config_load_file(&cfg, path, &err), 0);
    CHECK(strcmp(cfg.keyring_dir, fx_path("site/conf/keys")) == 0);
    CHECK(strcmp(cfg.archive_dir, fx_path("site/conf/archive")) == 0); /* defaults too */

    puts("... also when the config path itself is relative; the result is absolute");
    CHECK(chdir(fx_path("site")) == 0);
    CHECK_EQ_INT(cm_config_load_file(&cfg, "./conf//chaosmask.ini", &err), 0);
    CHECK(strcmp(cfg.keyring_dir, fx_path("site/conf/keys")) == 0);
    CHECK(strcmp(cfg.source, "./conf//chaosmask.ini") == 0);
    CHECK(chdir(fx_path("site/conf")) == 0);
    fx_write(path, "[keyring]\ndir = ../keys\n", 0644);
    CHECK_EQ_INT(cm_config_load_file(&cfg, "chaosmask.ini", &err), 0);
    CHECK(strcmp(cfg.keyring_dir, fx_path("site/conf/../keys")) == 0);

    puts("... and the embedded default against the current directory");
    CHECK_EQ_INT(cm_config_load_embedded(&cfg, &err), 0);
    CHECK(strcmp(cfg.keyring_dir, fx_path("site/conf/keyring")) == 0);
    CHECK(chdir(fixture_root) == 0);
}

/* Loads text from a fresh file and expects code with the message `want` after "PATH:". */
static void expect_error(const char *text, int code, const char *want)
{
    static int n;
    const char *path = fx_path("bad-%d.ini", n++);
    fx_write(path, text, 0644);
    cm_error err = {0, ""};
    cm_config_defaults(&cfg);
    cfg.threads = 77; /* must survive a failed load */
    int rc = cm_config_load_file(&cfg, path, &err);
    if (rc != code)
        fprintf(stderr, "rc %d for:\n%s\nmessage: %s\n", rc, text, err.msg);
    CHECK_EQ_INT(rc, code);
    char full[CM_ERRMAX + CM_PATH_MAX];
    snprintf(full, sizeof full, "%s:%s", path, want);
    CHECK(fx_contains(err.msg, full));
    CHECK(strncmp(err.msg, path, strlen(path)) == 0); /* the file comes first */
    CHECK_EQ_INT(cfg.threads, 77);
}

static void test_errors(void)
{
    puts("unknown keys and sections");
    expect_error("[engine]\nprofile = lorenz\nspeed = 3\n", CM_CFG_ESYNTAX,
                 "3: unknown key 'speed' in section [engine]; expected one of: profile, threads");
    expect_error("[scp]\naetitle = X\nhost = a\n", CM_CFG_ESYNTAX,
                 "3: unknown key 'host' in section [scp]; expected one of: aetitle, port, bind, "
                 "max_associations, max_pdu, acse_timeout, dimse_timeout, idle_timeout, shutdown_grace, "
                 "max_object_size");
    expect_error("[engine]\n\n[foo]\nbar = 1\n", CM_CFG_ESYNTAX,
                 "4: unknown section [foo] (key 'bar'); expected one of: [engine], [keyring], "
                 "[archive], [scp], [tls], [log], [dicom], [peer NAME]");
    expect_error("[Engine]\nprofile = lorenz\n", CM_CFG_ESYNTAX, "2: unknown section [Engine]");
    expect_error("profile = lorenz\n", CM_CFG_ESYNTAX, "1: key 'profile' is outside any section");

    puts("bad values");
    expect_error("[engine]\nprofile = foo\n", CM_CFG_ESYNTAX,
                 "2: profile 'foo' is not one of lorenz, lorenz-chacha20, aes-256-gcm");
    expect_error("[engine]\nprofile =\n", CM_CFG_ESYNTAX, "2: profile '' is not one of");
    const char *threads[] = {"-1", "abc", "1025", "0x10", "4 cores", "99999999999999999999"};
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        char text[100], want[200];
        snprintf(text, sizeof text, "; c\n[engine]\nthreads = %s\n", threads[i]);
        snprintf(want, sizeof want,
                 "3: threads '%s' is not a whole number from 0 to 1024 (0 = all cores)",
                 threads[i]);
        expect_error(text, CM_CFG_ESYNTAX, want);
    }
    const char *ports[] = {"0", "65536", "", "+104", "104.0"};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        char text[100], want[200];
        snprintf(text, sizeof text, "[scp]\nport = %s\n", ports[i]);
        snprintf(want, sizeof want, "2: port '%s' is not a TCP port number from 1 to 65535",
                 ports[i]);
        expect_error(text, CM_CFG_ESYNTAX, want);
    }
    expect_error("[scp]\naetitle =\n", CM_CFG_ESYNTAX, "2: aetitle '' is not a valid AE title");
    expect_error("[scp]\naetitle = ABCDEFGHIJKLMNOPQ\n", CM_CFG_ESYNTAX,
                 "2: aetitle 'ABCDEFGHIJKLMNOPQ' is not a valid AE title; expected 1 to 16");
    expect_error("[scp]\naetitle = A\\B\n", CM_CFG_ESYNTAX, "2: aetitle 'A\\B' is not a valid");
    expect_error("[log]\nlevel = verbose\n", CM_CFG_ESYNTAX,
                 "2: level 'verbose' is not one of fatal, error, warn, info, debug, trace");
    expect_error("[log]\nlevel = INFO\n", CM_CFG_ESYNTAX, "2: level 'INFO' is not one of");
    expect_error("[keyring]\ndir =\n", CM_CFG_ESYNTAX,
                 "2: dir is empty; expected a directory path");
    expect_error("[archive]\ndir =   \t\n", CM_CFG_ESYNTAX, "2: dir is empty");

    puts("the service's values");
    expect_error("[scp]\nbind = localhost\n", CM_CFG_ESYNTAX, "2: bind 'localhost' is not an IPv4 address");
    expect_error("[scp]\nmax_associations = 0\n", CM_CFG_ESYNTAX,
                 "2: max_associations '0' is not a whole number from 1 to 1024");
    expect_error("[scp]\nmax_pdu = 200000\n", CM_CFG_ESYNTAX,
                 "2: max_pdu '200000' is not a whole number from 4096 to 131072 bytes");
    expect_error("[scp]\nidle_timeout = 1h\n", CM_CFG_ESYNTAX,
                 "2: idle_timeout '1h' is not a whole number from 1 to 86400 seconds");
    expect_error("[scp]\nmax_object_size = 65G\n", CM_CFG_ESYNTAX, "2: max_object_size '65G' is not a size");
    expect_error("[archive]\nmax_studies = 501\n", CM_CFG_ESYNTAX,
                 "2: max_studies '501' is not a whole number from 1 to 500 (index.dat holds at most 500)");
    expect_error("[archive]\nmax_study_size = 2G\n", CM_CFG_ESYNTAX,
                 "2: max_study_size '2G' is not a size from 1M to 1G");
    expect_error("[tls]\nenabled = true\n", CM_CFG_ESYNTAX, "2: enabled 'true' is not yes or no");
    expect_error("[tls]\nca = a.pem\n\nenabled = yes\ncertificate = c.pem\n", CM_CFG_ESYNTAX,
                 "4: [tls] enabled = yes needs certificate and private_key");
    expect_error("[tls]\nenabled = yes\ncertificate = c.pem\nprivate_key = k.pem\n", CM_CFG_ESYNTAX,
                 "2: [tls] require_client_certificate = yes needs ca");

    puts("[peer NAME] sections");
    expect_error("[peer A]\naetitle = A\nspeed = 3\n", CM_CFG_ESYNTAX,
                 "3: unknown key 'speed' in section [peer A]; expected one of: aetitle, host, port, store, find, "
                 "retrieve, tls, certificate_name");
    expect_error("[log]\nlevel = warn\n\n[peer A]\nhost = 10.1.1.1\n", CM_CFG_ESYNTAX,
                 "4: [peer A] has no aetitle; expected aetitle = the peer's AE title");
    expect_error("[peer A]\naetitle = X\n[peer B]\naetitle = X\n", CM_CFG_ESYNTAX,
                 "3: [peer B]: aetitle 'X' already names [peer A] (line 1)");
    expect_error("[peer A]\naetitle = X\n[log]\nlevel = warn\n[peer A]\naetitle = Y\n", CM_CFG_ESYNTAX,
                 "5: section [peer A] appears again (first on line 1)");
    expect_error("[peer A]\naetitle = X\nfind = yes\nfind = no\n", CM_CFG_ESYNTAX,
                 "4: key 'find' in section [peer A] is set again (first on line 3)");
    expect_error("[peer A]\naetitle = ABCDEFGHIJKLMNOPQ\n", CM_CFG_ESYNTAX,
                 "2: aetitle 'ABCDEFGHIJKLMNOPQ' is not a valid AE title");
    expect_error("[peer A]\naetitle = A\nretrieve = yes\n", CM_CFG_ESYNTAX,
                 "3: retrieve 'yes' is not decrypted, encrypted or no");
    expect_error("[peer A]\naetitle = A\nhost = a/b\n", CM_CFG_ESYNTAX, "3: host 'a/b' is not a host name");
    expect_error("[peer A]\naetitle = A\nfind = yes\n", CM_CFG_ESYNTAX, "1: [peer A] may find but has no host");
    expect_error("[log]\nlevel = warn\n[peer B]\naetitle = B\nretrieve = encrypted\n", CM_CFG_ESYNTAX,
                 "3: [peer B] may retrieve but has no host: anyone could call with its AE title");
    /* a client certificate is not tied to a peer: TLS does not replace host */
    expect_error("[tls]\nenabled = yes\ncertificate = /etc/s.pem\nprivate_key = /etc/k.pem\nca = /etc/ca.pem\n"
                 "[peer C]\naetitle = C\nfind = yes\n",
                 CM_CFG_ESYNTAX, "6: [peer C] may find but has no host");
    /* ... unless the certificate must carry the peer's own name, which needs client certificates */
    expect_error("[tls]\nenabled = yes\ncertificate = /etc/s.pem\nprivate_key = /etc/k.pem\nca = /etc/ca.pem\n"
                 "require_client_certificate = no\n[peer C]\naetitle = C\nfind = yes\ntls = yes\n"
                 "certificate_name = c.example\n",
                 CM_CFG_ESYNTAX, "7: [peer C] has certificate_name, but [tls] require_client_certificate = no");
    expect_error("[peer A]\naetitle = A\nhost = 10.0.0.1\ncertificate_name = a.example\n", CM_CFG_ESYNTAX,
                 "1: [peer A] has certificate_name but not tls = yes");
    expect_error("[peer A]\naetitle = A\ncertificate_name = CN=a\n", CM_CFG_ESYNTAX,
                 "3: certificate_name 'CN=a' is not a host name or IPv4 address");
    expect_error("[peer A]\naetitle = A\nport = 0\n", CM_CFG_ESYNTAX,
                 "3: port '0' is not a whole number from 1 to 65535");
    expect_error("[peer A]\naetitle = A\n\ntls = yes\n", CM_CFG_ESYNTAX,
                 "4: [peer A] tls = yes needs [tls] certificate, private_key and ca");
    expect_error("[peer ]\naetitle = A\n", CM_CFG_ESYNTAX, "1: [peer ]: expected a name of 1 to 43 characters");
    static char many[CM_PEERS_MAX * 40 + 100];
    size_t n = 0;
    for (int i = 0; i <= CM_PEERS_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "[peer P%d]\naetitle = P%d\n", i, i);
    char too_many[100];
    snprintf(too_many, sizeof too_many, "%d: [peer P%d]: more than %d peers", 2 * CM_PEERS_MAX + 1, CM_PEERS_MAX,
             CM_PEERS_MAX);
    expect_error(many, CM_CFG_ESYNTAX, too_many);

    puts("duplicates and continuation lines");
    expect_error("[engine]\nthreads = 2\n[log]\nlevel = info\n[engine]\nthreads = 3\n",
                 CM_CFG_ESYNTAX,
                 "6: key 'threads' in section [engine] is set again (first on line 2)");
    expect_error("[log]\naudit = /var/log/a\n   /var/log/b\n", CM_CFG_ESYNTAX,
                 "3: indented line continues the value of 'audit' (line 2)");

    puts("lines inih cannot parse");
    expect_error("[engine\nprofile = lorenz\n", CM_CFG_ESYNTAX,
                 "1: cannot parse '[engine'; expected '[section]', 'key = value' or a comment");
    expect_error("[engine]\nprofile = lorenz\njust words\n", CM_CFG_ESYNTAX,
                 "3: cannot parse 'just words'");
    /* the first error wins, whoever found it */
    expect_error("[engine]\njust words\nspeed = 1\n", CM_CFG_ESYNTAX, "2: cannot parse");
    expect_error("[engine]\nspeed = 1\njust words\n", CM_CFG_ESYNTAX, "2: unknown key 'speed'");

    puts("over-long lines are refused, not split");
    char text[600], want[100];
    snprintf(text, sizeof text, "[log]\naudit = /%0240d\n", 0);
    snprintf(want, sizeof want, "2: line is %d characters long; lines may be at most %d",
             (int)strlen("audit = /") + 240, CM_CONFIG_LINE_MAX);
    expect_error(text, CM_CFG_ESYNTAX, want);
    char line[CM_CONFIG_LINE_MAX + 1];
    memset(line, 'x', sizeof line);
    line[CM_CONFIG_LINE_MAX] = '\0';
    memcpy(line, "; ", 2);
    snprintf(text, sizeof text, "%s\r\n%s\n[engine]\nthreads = 3\n", line, line);
    const char *ok = fx_path("longest.ini");
    fx_write(ok, text, 0644);
    cm_error err = {0, ""};
    CHECK_EQ_INT(cm_config_load_file(&cfg, ok, &err), 0); /* exactly the limit is fine */
    CHECK_EQ_INT(cfg.threads, 3);
    snprintf(text, sizeof text, "%sx\n", line);
    snprintf(want, sizeof want, "1: line is %d characters long", CM_CONFIG_LINE_MAX + 1);
    expect_error(text, CM_CFG_ESYNTAX, want);

    puts("not a text file");
    const char *nul = fx_path("nul.ini");
    fx_write_bytes(nul, "[engine]\nthreads = 1\0\n", 22, 0644);
    CHECK_EQ_INT(cm_config_load_file(&cfg, nul, &err), CM_CFG_ESYNTAX);
    CHECK(fx_contains(err.msg, ":2: NUL byte"));
}

static void test_file_errors(void)
{
    cm_error err = {0, ""};
    puts("missing file, directory, file writable by others");
    const char *missing = fx_path("missing.ini");
    CHECK_EQ_INT(cm_config_load_file(&cfg, missing, &err), CM_CFG_ENOENT);
    CHECK(fx_contains(err.msg, missing));
    CHECK_EQ_INT(cm_config_load_file(&cfg, fixture_root, &err), CM_CFG_EIO);
    CHECK(fx_contains(err.msg, "not a regular file"));
    const char *wide = fx_path("wide.ini");
    fx_write(wide, "[engine]\n", 0666);
    CHECK_EQ_INT(cm_config_load_file(&cfg, wide, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "has mode 0666"));
    CHECK(fx_contains(err.msg, wide));
    /* the config chooses the key ring: group-writable or foreign-owned files are refused */
    const char *group = fx_path("group.ini");
    fx_write(group, "[engine]\n", 0664);
    CHECK_EQ_INT(cm_config_load_file(&cfg, group, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "has mode 0664"));
    const char *foreign = fx_path("foreign.ini");
    fx_write(foreign, "[engine]\n", 0644);
    CHECK(chown(foreign, 65534, 65534) == 0);
    CHECK_EQ_INT(cm_config_load_file(&cfg, foreign, &err), CM_CFG_EMODE);
    CHECK(fx_contains(err.msg, "belongs to uid 65534"));
    CHECK_EQ_INT(cm_config_load_file(&cfg, NULL, &err), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_config_load_file(NULL, wide, &err), CM_CFG_EINVAL);
    CHECK_EQ_INT(cm_config_load_file(&cfg, missing, NULL), CM_CFG_ENOENT);
}

int main(void)
{
    fixture_init();
    test_embedded_default();
    test_every_key();
    test_service_keys();
    test_relative_resolution();
    test_errors();
    test_file_errors();
    puts("ok");
    return 0;
}
