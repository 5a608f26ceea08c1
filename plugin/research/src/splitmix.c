/* splitmix.c - SplitMix64 (see splitmix.h). */
#include "splitmix.h"

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ull

uint64_t cm_mix64(uint64_t z)
{
    z += GOLDEN_GAMMA;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t cm_splitmix64(uint64_t *state)
{
    uint64_t out = cm_mix64(*state);
    *state += GOLDEN_GAMMA;
    return out;
}
