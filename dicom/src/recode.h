/* recode.h - the transfer syntax of an encrypted object now versus when it was encrypted.
 * Native to native (implicit/explicit VR, little/big endian, deflate) changes no pixel word:
 * nothing to do.  Native then compressed losslessly (RLE, JPEG lossless, JPEG-LS lossless):
 * DCMTK's decoders give the masked words back, and decryption goes on.  Lossy compression,
 * or encapsulated data transcoded: the masked bytes are gone (CM_DICOM_EREENCODED, never
 * "wrong key").  JPEG 2000: no decoder in DCMTK (CM_DICOM_EUNSUPPORTED with what to do). */
#ifndef CHAOSMASK_DICOM_RECODE_H
#define CHAOSMASK_DICOM_RECODE_H

#include "chaosmask/error.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <string>

namespace chaosmask {

struct RecodePlan {
    bool decode = false;          /* decode the pixel data before anything else */
    E_TransferSyntax from = EXS_Unknown, to = EXS_Unknown; /* what it is, what it was */
};

/* Registers DCMTK's JPEG, JPEG-LS and RLE decoders (once). */
void register_decoders();
/* 0 with plan filled, or the error that says why the object cannot be decrypted. */
int recode_check(DcmDataset &ds, const std::string &recorded_uid, E_TransferSyntax current, RecodePlan &plan,
                 cm_error *err);
/* Before any decoder runs on ds (in transfer syntax from): every encapsulated Pixel Data as
 * DCMTK's decoders will size it (Rows x Columns x Samples x Frames x bytes per sample of the
 * Pixel Data's own item, at most the 4 GiB a value holds), every JPEG and JPEG-LS stream
 * walked to its end as the codecs will read it (SOI first, table segments, one frame header of
 * the syntax's kind equal to those attributes, one scan per component; for JPEG-LS only what
 * CharLS reads safely), and the total within max_bytes.  0, or CM_DICOM_EGEOMETRY /
 * CM_DICOM_EUNSUPPORTED (the attributes, as the layout reads them) / CM_DICOM_ESTRUCTURE with
 * why. */
int decode_bound(DcmDataset &ds, E_TransferSyntax from, uint64_t max_bytes, cm_error *err);
/* decode_bound, and what an encrypted object recompressed after encryption can be: its
 * masked words are incompressible (the bits of the protected Pixel Data, Bits Allocated per
 * sample, at most twice the compressed bits, plus 8 KiB per object), they decode to at most
 * what the private block records (recorded_bytes), and Pixel Data nested in the clear to no
 * more than they do (or 1 MiB).  Else CM_DICOM_EAUTH: changed data, nothing decoded. */
int recode_bound(DcmDataset &ds, const RecodePlan &plan, uint64_t recorded_bytes, uint64_t max_bytes,
                 cm_error *err);
/* Decodes the pixel data to native words in memory. */
int recode_decode(DcmDataset &ds, const RecodePlan &plan, cm_error *err);

} // namespace chaosmask

#endif
