/* splitmix.h - SplitMix64 (Steele, Lea and Flood 2014), the seeded generator behind every
 * "random" choice of the research code: the local-entropy blocks, the one-sample trial
 * position, the scatter-plot pairs and the phantoms' textures.  Fixed seeds make every run
 * draw the same values. */
#ifndef CHAOSMASK_RESEARCH_SPLITMIX_H
#define CHAOSMASK_RESEARCH_SPLITMIX_H

#include <stdint.h>

/* The SplitMix64 output for state z (z advanced by the golden-ratio increment, then mixed):
 * also a good 64-bit hash of z. */
uint64_t cm_mix64(uint64_t z);
/* The next output of the generator *state (which advances). */
uint64_t cm_splitmix64(uint64_t *state);

#endif
