/*
 * dicom.h - the encrypted DICOM object, as a small C API (DCMTK stays behind it).
 *
 * Every pixel-bearing element of a DICOM object (Pixel Data native or encapsulated, Float and
 * Double Float Pixel Data, Overlay Data (60xx,3000), the pixels of the Icon Image Sequence and
 * Waveform Data) is masked in place by the engine (chaosmask.h): same VR, same length, same
 * transfer syntax.  A private block (creator CM_DICOM_PRIVATE_CREATOR in group
 * CM_DICOM_PRIVATE_GROUP, block found dynamically) records how to undo it; decryption
 * authenticates everything before unmasking and gives back the original dataset exactly.
 * The block is documented field by field in docs/private-block.md.
 *
 * File functions write atomically: a temporary file in the output's directory, fsync, rename,
 * fsync of the directory.  On any failure the output does not exist (or keeps its old
 * content) and the input is untouched; in_path == out_path replaces the input atomically.
 * Plaintext pixels are never written by the encrypt path: the object is masked in memory.
 *
 * Results are 0 or a negative CM_DICOM_E... code; when err is not NULL it receives the code
 * and a one-line explanation fit for an administrator ("Rows x Columns x ... = 524288 bytes
 * but Pixel Data holds 1000").  Functions are thread-safe (no shared mutable state apart from
 * DCMTK's data dictionary, which is locked).
 */
#ifndef CHAOSMASK_DICOM_H
#define CHAOSMASK_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/chaosmask.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_DICOM_PRIVATE_CREATOR "CHAOSMASK 1"
#define CM_DICOM_PRIVATE_GROUP 0x0099u
#define CM_DICOM_BLOCK_VERSION 1u   /* layout of the private block; see docs/private-block.md */
#define CM_DICOM_KEYID_MAX 64u      /* a key id is stored as LO: at most 64 characters */
#define CM_DICOM_PATH_MAX 64u       /* "54000100/3/54001010": sequence/item/element, hex */
#define CM_DICOM_INFO_MAX_ELEMENTS 64u

/* Error codes (negative, disjoint from the engine's CM_E... codes). */
#define CM_DICOM_OK 0
#define CM_DICOM_EINPUT -101        /* not a DICOM Part 10 file, truncated, unparsable */
#define CM_DICOM_EGEOMETRY -102     /* pixel attributes inconsistent with the value lengths */
#define CM_DICOM_EUNSUPPORTED -103  /* layout, VR or block version this build does not handle */
#define CM_DICOM_ENOTHING -104      /* no pixel-bearing element: nothing to protect */
#define CM_DICOM_EENCRYPTED -105    /* already encrypted: not encrypted twice */
#define CM_DICOM_ENOTENCRYPTED -106 /* decrypt/verify of an object without a ChaosMask block */
#define CM_DICOM_EBLOCK -107        /* the private block is malformed (changed or damaged) */
#define CM_DICOM_EKEYID -108        /* the key id is not in the key ring */
#define CM_DICOM_EAUTH -109         /* authentication failed: wrong key or changed data */
#define CM_DICOM_EIO -110           /* could not write the output (nothing half-written left) */
#define CM_DICOM_ENOMEM -111        /* out of memory */
#define CM_DICOM_EINTERNAL -112     /* engine or DCMTK failure, bad argument */
#define CM_DICOM_ESTRUCTURE -113    /* refused before parsing: nesting too deep, too many elements,
                                     * object too large (dicom_precheck.h) */

typedef struct cm_dicom_error {
    int code;
    char message[512];
} cm_dicom_error;

/* Short fixed explanation of a CM_DICOM_E... code; never NULL. */
const char *cm_dicom_strerror(int code);

/* Looks up the key a stored object names.  Returns 0 and fills key, CM_DICOM_EKEYID when the
 * id is unknown, or another CM_DICOM_E... code. */
typedef int (*cm_dicom_key_fn)(void *user, const char *key_id, uint8_t key[CM_KEYBYTES]);

/* Encryption settings.  key_id is what the private block records (the key-ring id syntax:
 * letters, digits, '.', '_', '-', at most 63, not starting with '.').  threads: 0 = one per
 * CPU.  An object that already carries a ChaosMask block is reported as CM_DICOM_EENCRYPTED
 * only when that block authenticates with the key it names (key_fn); a block that does not
 * (a forged or stale creator, a block copied from another object) is CM_DICOM_EBLOCK, so
 * plaintext is never passed off as encrypted.  key_fn NULL: any existing block is EBLOCK. */
typedef struct cm_dicom_encrypt_params {
    int profile;                 /* CM_PROFILE_... */
    const char *key_id;
    const uint8_t *key;          /* CM_KEYBYTES */
    unsigned threads;
    cm_dicom_key_fn key_fn;      /* to authenticate a block the object already carries */
    void *key_user;
} cm_dicom_encrypt_params;


/* One protected element as inspect reports it. */
typedef struct cm_dicom_element_info {
    char path[CM_DICOM_PATH_MAX];  /* e.g. "7FE00010", "00880200/0/7FE00010" */
    char vr[3];
    uint64_t length;               /* value bytes masked */
    unsigned word_bytes;           /* engine word width */
    uint32_t segments;             /* frames, fragments, or 1 */
    int encapsulated;
} cm_dicom_element_info;

typedef struct cm_dicom_info {
    int encrypted;                 /* a ChaosMask block is present */
    unsigned block_version;        /* encrypted only */
    unsigned engine_version;
    char profile[32];
    char key_id[CM_DICOM_KEYID_MAX + 1];
    uint16_t block_group, block_slot;    /* where the block lives, e.g. 0x0099, 0x10 */
    char transfer_syntax[65];      /* of the object as read */
    char sop_instance_uid[65];
    uint32_t segments;             /* total engine segments */
    size_t element_count;          /* protected (or, unencrypted, protectable) elements */
    cm_dicom_element_info elements[CM_DICOM_INFO_MAX_ELEMENTS]; /* the first ones */
    int layout_error;              /* unencrypted only: 0 or why encrypt would refuse */
    char layout_message[512];
} cm_dicom_info;

/* Encrypts IN into OUT.  CM_DICOM_EENCRYPTED when IN already is (nothing written). */
int cm_dicom_encrypt_file(const char *in_path, const char *out_path,
                          const cm_dicom_encrypt_params *params, cm_dicom_error *err);

/* Authenticates IN, then writes the original object to OUT. */
int cm_dicom_decrypt_file(const char *in_path, const char *out_path, cm_dicom_key_fn key_fn,
                          void *key_user, unsigned threads, cm_dicom_error *err);

/* Authenticates IN without writing anything (plaintext is computed nowhere: the tags are
 * recomputed over the stored bytes; for aes-256-gcm a scratch copy is wiped). */
int cm_dicom_verify_file(const char *in_path, cm_dicom_key_fn key_fn, void *key_user,
                         cm_dicom_error *err);

/* Reads IN and writes it to OUT unchanged, the way the functions above read and write (the
 * baseline of the benchmarks and the reference the tests compare a round trip with). */
int cm_dicom_copy_file(const char *in_path, const char *out_path, cm_dicom_error *err);

/* Adds the private block's entries to DCMTK's data dictionary (once; thread-safe), so that
 * implicit-VR objects read back with the block's VRs.  Every function here calls it; a
 * program that reads datasets through DCMTK itself (the service) calls it at start-up. */
void cm_dicom_register_dictionary(void);

/* One frame of an image as plain samples, for analysis (`chaosmask analyze`); never used on
 * the storage path.  8- or 16-bit words (little-endian), 1 or 3 samples per pixel interleaved.
 * Compressed syntaxes are decoded with DCMTK's codecs (JPEG, JPEG-LS, RLE; JPEG 2000 is
 * refused: DCMTK has no free decoder for it).  Signed samples are mapped to unsigned by
 * flipping the sign bit (order-preserving).  Encrypted objects are refused. */
typedef struct cm_dicom_pixels {
    uint8_t *data;                 /* width * height * channels * bits/8 bytes; malloc'ed */
    size_t width, height;
    unsigned channels, bits;
    uint32_t frames;               /* frames in the object */
    char photometric[17];
} cm_dicom_pixels;
int cm_dicom_read_frame(const char *in_path, uint32_t frame, cm_dicom_pixels *px, cm_dicom_error *err);
void cm_dicom_pixels_free(cm_dicom_pixels *px);

/* Describes IN without a key.  Returns 0 for a readable object, encrypted or not. */
int cm_dicom_inspect_file(const char *in_path, cm_dicom_info *info, cm_dicom_error *err);

#ifdef __cplusplus
}
#endif
#endif
