/* replay_main.c - the main() of a harness built without libFuzzer (gcc, the release and
 * sanitizer builds): feeds inputs to LLVMFuzzerTestOneInput, so ctest replays the
 * regression inputs and the seed corpora through exactly the code libFuzzer runs.
 *
 * usage: fuzz_NAME_replay [--minimal] [FILE | DIR]...
 *   --minimal  first the inputs that need no corpus: the empty input, every one-byte input,
 *              a bare 128-byte preamble with "DICM", and runs of 0x00 and 0xFF bytes;
 *   FILE       one input; DIR: every regular file in it (not recursive), in name order.
 * A failed invariant aborts (the harness prints what failed); the exit status is 0 when every
 * input ran, 1 when an argument could not be read.  Prints how many inputs ran. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long inputs;

static void run(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, as libFuzzer hands it: reads past the end are caught */
    uint8_t *copy = calloc(size ? size : 1, 1);
    if (copy == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    if (size > 0)
        memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
    inputs++;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    int bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
    run(buf, len);
    free(buf);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static void run_minimal(void)
{
    uint8_t buf[4096] = {0};
    run(buf, 0);
    for (unsigned b = 0; b < 256; b++) {
        buf[0] = (uint8_t)b;
        run(buf, 1);
    }
    memset(buf, 0, 132);
    memcpy(buf + 128, "DICM", 4);
    run(buf, 132);
    for (size_t len = 2; len <= sizeof buf; len *= 4) {
        memset(buf, 0, len);
        run(buf, len);
        memset(buf, 0xFF, len);
        run(buf, len);
    }
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "--minimal") == 0)
            run_minimal();
        else if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]))
            rc = 1;
    }
    printf("%lu inputs ran, every invariant held\n", inputs);
    return rc;
}
