/*
 * dicom_dataset.h - C++ access to an object of dicom.h, for the programs that hand DCMTK's
 * network code a data set (the chaosmask-scp service sends retrieved objects from memory).
 * Everything else goes through the C API.
 */
#ifndef CHAOSMASK_DICOM_DATASET_H
#define CHAOSMASK_DICOM_DATASET_H

#include "chaosmask/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

namespace chaosmask {

/* Adds the private block's dictionary entries (once per process; thread-safe). */
void dicom_register_dictionary();

/* The parsed object (its data set: after cm_dicom_decrypt, the original).  Valid while obj
 * lives; the transfer syntax to send or write it in is dicom_object_xfer(). */
DcmFileFormat &dicom_object_fileformat(cm_dicom_object *obj);
E_TransferSyntax dicom_object_xfer(const cm_dicom_object *obj);

} // namespace chaosmask

#endif
