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
 * dicom/ reads objects from memory or files and writes them to a descriptor it is given; it
 * never creates a file (the application layer's atomic writer does), so plaintext pixels are
 * never written by the encrypt path: the object is masked in memory.
 *
 * Results are 0 or a negative code; when err is not NULL it receives the code and a one-line
 * explanation fit for an administrator ("Rows x Columns x ... = 524288 bytes but Pixel Data
 * holds 1000").  A key provider's own code (a key-ring error) is passed through unchanged.
 * Functions are thread-safe on distinct objects (no shared mutable state apart from DCMTK's
 * data dictionary, which is locked).
 */
#ifndef CHAOSMASK_DICOM_H
#define CHAOSMASK_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/dicom_precheck.h"
#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_DICOM_PRIVATE_CREATOR "CHAOSMASK 1"
#define CM_DICOM_PRIVATE_GROUP 0x0099u
#define CM_DICOM_BLOCK_VERSION 2u   /* layout of the private block written; 1 still read */
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
#define CM_DICOM_EIDENTITY -114     /* patient identity changed since encryption (refused by policy) */
#define CM_DICOM_EREENCODED -115    /* re-encoded in a way that cannot be undone (lossy, encapsulated transcoded) */
#define CM_DICOM_EMASKED -116       /* the pixels are already a mask, or a stripped encrypted object */

/* Short fixed explanation of a CM_DICOM_E... code; never NULL. */
const char *cm_dicom_strerror(int code);

/* The keys of a key ring, as dicom/ asks for them: get() returns 0 and the key, or a negative
 * code of its own layer (e.g. CM_CFG_EUNKNOWNKEY, CM_CFG_EMODE) with err filled; dicom/
 * passes that code and message through unchanged, so a key-ring problem is reported as what
 * it is.  key_id comes from a file and has been checked against the key-id syntax. */
typedef struct cm_key_provider {
    int (*get)(void *self, const char *key_id, uint8_t key[CM_KEYBYTES], cm_error *err);
    void *self;
} cm_key_provider;

/* ---- one object in memory ---- */

/* A DICOM object read into memory: the bytes as read (kept until released) and DCMTK's
 * parse of them.  The structure pre-check (dicom_precheck.h) runs on the bytes before DCMTK
 * parses anything.  Not shared between threads while an operation runs on it. */
typedef struct cm_dicom_object cm_dicom_object;

/* Reads the regular file path completely (one read), pre-checks it with lim (NULL: the
 * defaults) and parses it.  CM_DICOM_EINPUT (not DICOM Part 10, truncated, unreadable),
 * CM_DICOM_ESTRUCTURE (limits), CM_DICOM_ENOMEM. */
int cm_dicom_load(cm_dicom_object **out, const char *path, const cm_dicom_limits *lim, cm_error *err);
/* The same from memory: a Part 10 file (xfer_uid NULL) or a bare data set in transfer syntax
 * xfer_uid.  The bytes are copied. */
int cm_dicom_parse(cm_dicom_object **out, const uint8_t *bytes, size_t len, const char *xfer_uid,
                   const cm_dicom_limits *lim, cm_error *err);
void cm_dicom_free(cm_dicom_object *obj);
/* The bytes as read, unchanged by any operation (NULL after cm_dicom_release_bytes). */
const uint8_t *cm_dicom_bytes(const cm_dicom_object *obj, size_t *len);
/* Frees the copy of the bytes as read (they are not needed once parsed, unless the caller
 * wants to copy an object it verified: cm_dicom_write_fd(..., as_read = 1)). */
void cm_dicom_release_bytes(cm_dicom_object *obj);
/* Writes the object to fd: as read (as_read = 1, the exact bytes) or as it is now, in the
 * transfer syntax it will be stored in, with its meta header as read (updated only where the
 * transfer syntax changed).  0, or CM_DICOM_EIO with errno's text (nothing else is done to fd). */
int cm_dicom_write_fd(cm_dicom_object *obj, int fd, int as_read, cm_error *err);

/* Facts about an object and what an operation did, for messages and audit records. */
typedef struct cm_dicom_report {
    char sop_class_uid[65];
    char sop_instance_uid[65];
    char study_instance_uid[65];
    char transfer_syntax[65];      /* of the object as read */
    char profile[32];              /* encrypted objects */
    char key_id[CM_DICOM_KEYID_MAX + 1];
    unsigned block_version;
    uint64_t protected_bytes;      /* pixel bytes masked or unmasked */
    char identity_changed[160];    /* identity attributes that changed, allowed by policy ("" = none) */
    char note[256];                /* e.g. "decoded from RLE Lossless; written as Explicit VR Little Endian" */
} cm_dicom_report;

/* Encryption settings.  key_id is what the private block records (the key-ring id syntax:
 * letters, digits, '.', '_', '-', at most 63, not starting with '.').  An object that already
 * carries a ChaosMask block is CM_DICOM_EENCRYPTED only when that block authenticates with
 * the key it names (keys); a block that does not (a forged or stale creator, a block copied
 * from another object) is CM_DICOM_EBLOCK, so plaintext is never passed off as encrypted.
 * Pixels that are statistically a mask already, or an object whose standard attributes say
 * it was encrypted while its block is gone, are CM_DICOM_EMASKED unless force. */
typedef struct cm_dicom_encrypt_params {
    int profile;                 /* CM_PROFILE_... */
    const char *key_id;
    const uint8_t *key;          /* CM_KEYBYTES */
    cm_key_provider keys;        /* to authenticate a block the object already carries */
    const cm_executor *executor; /* segments in parallel; NULL = the caller's thread */
    int force;                   /* encrypt even what looks like a mask already */
} cm_dicom_encrypt_params;

/* What decrypt, verify and rebind need. */
typedef struct cm_dicom_open_params {
    cm_key_provider keys;
    const cm_executor *executor;
    int identity_policy;         /* CM_DICOM_IDENTITY_REFUSE or _ALLOW */
} cm_dicom_open_params;
#define CM_DICOM_IDENTITY_REFUSE 0
#define CM_DICOM_IDENTITY_ALLOW 1

/* Masks every pixel-bearing element in place and adds the private block (format 2). */
int cm_dicom_encrypt(cm_dicom_object *obj, const cm_dicom_encrypt_params *p, cm_dicom_report *rep,
                     cm_error *err);
/* Authenticates, then restores the original object (block removed, marked attributes
 * restored, pixels unmasked; a losslessly compressed native object is decoded first). */
int cm_dicom_decrypt(cm_dicom_object *obj, const cm_dicom_open_params *p, cm_dicom_report *rep, cm_error *err);
/* Authenticates without unmasking anything. */
int cm_dicom_verify(cm_dicom_object *obj, const cm_dicom_open_params *p, cm_dicom_report *rep, cm_error *err);
/* Authenticates, then records the object's current patient identity in its block (after an
 * authorized correction); the pixels stay masked.  Format-2 objects only. */
int cm_dicom_rebind(cm_dicom_object *obj, const cm_dicom_open_params *p, cm_dicom_report *rep, cm_error *err);

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
    int block_error;               /* encrypted only: 0, or why the block cannot be used */
    char block_message[512];       /* which field is damaged and how */
    char transfer_syntax[65];      /* of the object as read */
    char sop_instance_uid[65];
    uint32_t segments;             /* total engine segments */
    size_t element_count;          /* protected (or, unencrypted, protectable) elements */
    cm_dicom_element_info elements[CM_DICOM_INFO_MAX_ELEMENTS]; /* the first ones */
    int layout_error;              /* 0 or why the pixel layout cannot be used */
    char layout_message[512];
} cm_dicom_info;

/* Describes the object without a key; a damaged block is reported in info, not failed. */
int cm_dicom_inspect(cm_dicom_object *obj, cm_dicom_info *info, cm_error *err);

/* DCMTK's own log messages at the program's level (CM_LOG_... of config.h): below debug
 * only DCMTK's errors are printed, so its warnings never reach stderr raw. */
void cm_dicom_set_log_level(int cm_log_level);

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
int cm_dicom_read_frame(const char *in_path, uint32_t frame, cm_dicom_pixels *px, cm_error *err);
void cm_dicom_pixels_free(cm_dicom_pixels *px);

#ifdef __cplusplus
}
#endif
#endif
