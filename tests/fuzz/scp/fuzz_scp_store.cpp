/* fuzz_scp_store.cpp - libFuzzer harness for the data set of a C-STORE as chaosmask-scp
 * receives it, through the service's own receive path: ReceivedDataset::receive_bytes (the
 * bounded memory file, the structure check, the parse - what receive() does after DIMSE has
 * handed over the bytes) and store_received (store.h: the checks against the request, the
 * duplicate check, the masking, the atomic write under a random name into the archive
 * directory, the index.dat update, the audit record).  The network layer, the peer's
 * permission and the presentation context are not fuzzed here (tests/scp/test_hostile.sh).
 *
 * Input: byte 0, then the data set bytes.  Byte 0: bits 0-2 the transfer syntax of the
 * presentation context, among those the service accepts for storage (explicit and implicit
 * little endian, explicit big endian, deflate, JPEG baseline, JPEG lossless SV1, JPEG-LS
 * lossless, RLE); bit 3 the command names other UIDs than the data set (else an honest SCU:
 * the command carries the data set's SOP Class and Instance UIDs); bit 4 the same data set is
 * stored a second time.
 *
 * Invariants, besides no crash, leak or undefined behaviour:
 *  - the status is Success or a DICOM failure status (0xA700, 0xA900, 0xC000, 0x0124...);
 *  - nothing is ever written outside the archive directory; every file in it is index.dat or
 *    xx/ + 30 hex digits + .dcm (a name from the random generator, never from the data set);
 *  - refused: no archive file, no index record for the request's SOP Instance UID;
 *  - stored: exactly one archive file, the one store_received names, the only index record of
 *    the instance; it parses under the archive limits; it holds no protectable element in
 *    clear (encrypted, or nothing to protect); it decrypts with the fixed key to the received
 *    data set (same transfer syntax, the same protected element bytes, the same data set
 *    digest - digest.h, what the service itself compares duplicates with);
 *  - stored twice: the second store answers Success and keeps the one file (identical
 *    content); refused twice: the same status both times.
 * The archive (index.dat, the xx/ folders) and the audit log are emptied after every input. */
#include "fuzz_scp_common.h"

#include "digest.h"
#include "received.h"
#include "store.h"

#include <dcmtk/dcmdata/dcdeftag.h>

namespace {

using namespace fuzz_scp;

const char *const SYNTAXES[8] = {
    UID_LittleEndianExplicitTransferSyntax,
    UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,
    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGLSLosslessTransferSyntax,
    UID_RLELosslessTransferSyntax,
};

struct Stored {
    Uint16 status;
    std::string file;
};

Stored store_once(const uint8_t *data, size_t size, const char *xfer, bool other_uids)
{
    Env &e = env();
    Session s(e.svc, e.peers[0], nullptr);
    ReceivedDataset received;
    received.receive_bytes(data, size, xfer, e.svc.received_limits);
    T_DIMSE_C_StoreRQ req;
    memset(&req, 0, sizeof req);
    req.MessageID = 1;
    req.DataSetType = DIMSE_DATASET_PRESENT;
    if (other_uids) {
        OFStandard::strlcpy(req.AffectedSOPClassUID, UID_SecondaryCaptureImageStorage, sizeof req.AffectedSOPClassUID);
        OFStandard::strlcpy(req.AffectedSOPInstanceUID, "1.2.826.0.1.3680043.10.1049.999.1",
                            sizeof req.AffectedSOPInstanceUID);
    } else if (received.object() != nullptr) {
        DcmDataset *ds = chaosmask::dicom_object_fileformat(received.object()).getDataset();
        OFString cls, inst;
        ds->findAndGetOFStringArray(DCM_SOPClassUID, cls);
        ds->findAndGetOFStringArray(DCM_SOPInstanceUID, inst);
        OFStandard::strlcpy(req.AffectedSOPClassUID, cls.c_str(), sizeof req.AffectedSOPClassUID);
        OFStandard::strlcpy(req.AffectedSOPInstanceUID, inst.c_str(), sizeof req.AffectedSOPInstanceUID);
    }
    Stored out;
    out.status = store_received(s, req, received, &out.file);
    fuzz_note("store: status 0x%04X, file '%s', received code %d %s", out.status, out.file.c_str(), received.code(),
              received.code() ? received.message() : "");
    FUZZ_CHECK(out.status == STATUS_Success || failure_status(out.status), "C-STORE status 0x%04X", out.status);
    FUZZ_CHECK((out.status == STATUS_Success) == !out.file.empty(), "status 0x%04X with file '%s'", out.status,
               out.file.c_str());
    /* the index: the stored file is the instance's only record, a refusal left none */
    std::vector<std::string> files;
    cm_error err = {0, ""};
    ArchiveIndex *index = s.index(&err);
    FUZZ_CHECK(index != nullptr, "the index does not open: %s", err.msg);
    FUZZ_CHECK(index->files_of(req.AffectedSOPInstanceUID, files, &err) == 0, "index: %s", err.msg);
    if (out.status == STATUS_Success)
        FUZZ_CHECK(files.size() == 1 && files[0] == out.file, "stored as %s, the index holds %zu records (%s)",
                   out.file.c_str(), files.size(), files.empty() ? "" : files[0].c_str());
    else
        FUZZ_CHECK(files.empty(), "refused with 0x%04X, but the index holds %s", out.status, files[0].c_str());
    return out;
}

/* The archive holds exactly `expect` ("" = no object file), under a service-made name. */
void check_archive(const std::string &expect)
{
    std::vector<std::string> files, dirs, other;
    archive_entries(files, dirs, other);
    FUZZ_CHECK(other.empty(), "the archive holds a non-regular entry %s", other[0].c_str());
    size_t objects = 0;
    for (const std::string &f : files) {
        if (f == "index.dat")
            continue;
        FUZZ_CHECK(archive_name(f), "an archive file under a name the service did not make: %s", f.c_str());
        FUZZ_CHECK(f == expect, "archive file %s, expected %s", f.c_str(), expect.empty() ? "none" : expect.c_str());
        objects++;
    }
    FUZZ_CHECK(objects == (expect.empty() ? 0u : 1u), "%zu archive files, expected %s", objects,
               expect.empty() ? "none" : expect.c_str());
    for (const std::string &d : dirs)
        FUZZ_CHECK(d.size() == 2 && isxdigit(static_cast<unsigned char>(d[0])) &&
                       isxdigit(static_cast<unsigned char>(d[1])),
                   "an archive folder the service did not make: %s", d.c_str());
    check_scratch_root();
}

/* The plaintext of an object: decrypted when it carries a block (must succeed), as is when it
 * carries none.  allow_identity: an identity changed since encryption is accepted (an object
 * encrypted elsewhere may have been corrected since); the service's own encryption of an
 * object must decrypt under the default policy, refuse. */
bool plaintext(fuzz::Object &o, const char *what, bool must_be_encrypted, bool allow_identity)
{
    cm_dicom_info info;
    cm_error err = {0, ""};
    FUZZ_CHECK(cm_dicom_inspect(o.obj, &info, &err) == 0, "inspect %s: %s", what, err.msg);
    if (must_be_encrypted && !info.encrypted)
        FUZZ_CHECK((info.layout_error == 0 || info.layout_error == CM_DICOM_ENOTHING) && info.element_count == 0,
                   "the %s holds %zu protectable elements in clear (layout error %d)", what, info.element_count,
                   info.layout_error);
    if (!info.encrypted)
        return false;
    cm_dicom_open_params p = fuzz::open_params();
    p.identity_policy = allow_identity ? CM_DICOM_IDENTITY_ALLOW : CM_DICOM_IDENTITY_REFUSE;
    cm_dicom_report rep;
    int rc = cm_dicom_decrypt(o.obj, &p, &rep, &err);
    fuzz::check_result("decrypt", rc, err);
    FUZZ_CHECK(rc == 0, "the %s does not decrypt: %d %s", what, rc, err.msg);
    return true;
}

/* The archive file decrypts to the data set received. */
void check_stored(const uint8_t *data, size_t size, const char *xfer, const std::string &file)
{
    Env &e = env();
    fuzz::Object archived, received;
    cm_error err = {0, ""};
    int rc = cm_dicom_load(&archived.obj, file.c_str(), &e.svc.archive_limits, &err);
    FUZZ_CHECK(rc == 0, "the archive file %s does not load: %d %s", file.c_str(), rc, err.msg);
    rc = cm_dicom_parse(&received.obj, data, size, xfer, &e.svc.received_limits, &err);
    FUZZ_CHECK(rc == 0, "stored, but the received data set does not parse again: %d %s", rc, err.msg);
    FUZZ_CHECK(chaosmask::dicom_object_xfer(archived.obj) == chaosmask::dicom_object_xfer(received.obj),
               "stored in %s, received in %s", DcmXfer(chaosmask::dicom_object_xfer(archived.obj)).getXferName(),
               DcmXfer(chaosmask::dicom_object_xfer(received.obj)).getXferName());
    const bool sent_encrypted = plaintext(received, "received data set", false, true);
    plaintext(archived, "archive file", true, sent_encrypted);
    fuzz::Pixels pa, pr;
    bool la = fuzz::pixels_of(archived.dataset(), pa), lr = fuzz::pixels_of(received.dataset(), pr);
    FUZZ_CHECK(la == lr, "pixel layout readable: archive %d, received %d", la, lr);
    if (la)
        FUZZ_CHECK(pa == pr, "decrypted pixels differ: %zu elements / %zu bytes archived, %zu / %zu received",
                   pa.paths.size(), pa.bytes.size(), pr.paths.size(), pr.bytes.size());
    std::string da, dr;
    FUZZ_CHECK(chaosmask::scp::dataset_digest(archived.obj, da) && chaosmask::scp::dataset_digest(received.obj, dr),
               "a stored data set cannot be encoded for its digest");
    FUZZ_CHECK(da == dr, "the archive file decrypts to another data set than the one received");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    setup();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *xfer = SYNTAXES[data[0] & 7];
    const bool other_uids = (data[0] & 0x08) != 0, twice = (data[0] & 0x10) != 0;
    InArchive in_archive;
    const uint8_t *ds = data + 1;
    const size_t len = size - 1;
    Stored first = store_once(ds, len, xfer, other_uids);
    check_archive(first.file);
    if (first.status == STATUS_Success)
        check_stored(ds, len, xfer, first.file);
    if (twice) {
        Stored second = store_once(ds, len, xfer, other_uids);
        FUZZ_CHECK(second.status == first.status, "stored again: status 0x%04X, first 0x%04X", second.status,
                   first.status);
        FUZZ_CHECK(second.file == first.file, "stored again as %s, first as %s (identical content is kept)",
                   second.file.c_str(), first.file.c_str());
        check_archive(first.file);
    }
    clear_archive();
    return 0;
}
