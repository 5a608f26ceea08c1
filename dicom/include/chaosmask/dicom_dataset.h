/*
 * dicom_dataset.h - the in-memory entry points of dicom/, for C++ callers that already hold a
 * DcmDataset (the storage hook and the retrieval filter of chaosmask-scp).  The file functions
 * of dicom.h are built on these.
 *
 * xfer is the transfer syntax the dataset was received or read in (EXS_Unknown: take
 * ds.getOriginalXfer()); it tells encapsulated from native pixel data and is recorded in the
 * private block.  Nothing is transcoded.  On failure the dataset's protected values are
 * unspecified (partly masked, or wiped after a failed decryption): discard it.
 */
#ifndef CHAOSMASK_DICOM_DATASET_H
#define CHAOSMASK_DICOM_DATASET_H

#include "chaosmask/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

namespace chaosmask {

/* Adds the private block's dictionary entries (once per process; thread-safe).  Call before
 * reading implicit-VR objects so the block's elements get their VRs; every function below
 * and in dicom.h calls it. */
void dicom_register_dictionary();

int dicom_encrypt_dataset(DcmDataset &ds, E_TransferSyntax xfer, const cm_dicom_encrypt_params &params,
                          cm_dicom_error *err);
int dicom_decrypt_dataset(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_key_fn key_fn, void *key_user,
                          unsigned threads, cm_dicom_error *err);
int dicom_verify_dataset(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_key_fn key_fn, void *key_user,
                         cm_dicom_error *err);
int dicom_inspect_dataset(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_info *info, cm_dicom_error *err);

} // namespace chaosmask

#endif
