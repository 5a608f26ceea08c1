/* check.h - the assertion macros of the test programs: print the failed condition with its
 * location and exit 1, so ctest reports the test as failed with a reason. */
#ifndef CHAOSMASK_TESTS_CHECK_H
#define CHAOSMASK_TESTS_CHECK_H
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                  \
    do {                                                                                    \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                     \
        if (check_a_ != check_b_) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__,     \
                    __LINE__, #a, #b, check_a_, check_b_);                                  \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)
#endif
