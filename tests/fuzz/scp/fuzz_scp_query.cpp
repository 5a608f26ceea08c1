/* fuzz_scp_query.cpp - libFuzzer harness for the identifier of a C-FIND, C-GET or C-MOVE as
 * chaosmask-scp receives it, through the service's own path: ReceivedDataset::receive_bytes
 * under the identifier limits (Session::identifier_limits: memory file, structure check,
 * parse), then find_received (query.h: the peer's permission, dcmqrdb's matching under the
 * index lock) or plan_retrieval (retrieve.h: the requester's and the destination's policy,
 * the look-up of the objects to send) and, for each object a retrieval would send,
 * SubOperation::load (suboperation.h: the archive file read and decrypted or verified in
 * memory, as the sub-operation sends it).  No association is opened: a C-MOVE is decided,
 * never connected.
 *
 * The index: six objects (two patients, two studies, three series) stored once at start-up
 * through store_received, the storage hook the service runs for a C-STORE; the sixth arrives
 * encrypted with the fixed key and then RLE compressed, and is archived as received.
 *
 * Input: byte 0, then the identifier.  Byte 0: bit 7 the transfer syntax (implicit, else
 * explicit little endian: what the service accepts for query/retrieve); k = bits 0-6:
 * k % 6 the operation and information model (C-FIND, C-GET, C-MOVE, each Patient Root and
 * Study Root), k / 6 % 3 the requester (FUZZ: may find, retrieve = decrypted; BACKUP: may
 * find, retrieve = encrypted; NOBODY: neither), k / 18 % 4 the C-MOVE destination (DEST:
 * decrypted; DESTENC: encrypted; NOPORT: configured without a port; UNKNOWN: not a peer).
 * The Query/Retrieve Level and the keys are the identifier's.  Each input is run twice on one
 * Session (one association, one index handle), as a peer may send the same request again.
 *
 * Invariants, besides no crash, leak or undefined behaviour (a 20,000-deep identifier is
 * refused by the structure check, tests/fuzz/regress/scp_query/):
 *  - answered (Success) or refused with a DICOM failure status; an identifier that does not
 *    parse is refused and matches nothing; a peer without the right gets 0x0124;
 *  - C-FIND: at most one response per stored object; every Patient ID, Study, Series and SOP
 *    Instance UID a response carries belongs to a stored object;
 *  - C-GET/C-MOVE: the policy is the requester's (C-MOVE: the stricter of requester and
 *    destination); a destination without a port or not configured is refused (0xA801); every
 *    object named is a stored object (its file, SOP class and instance as stored), named once;
 *    each loads as the sub-operation would send it: decrypted = no ChaosMask block and the
 *    stored original's data set digest, encrypted = the archive file as stored, authentic;
 *  - the second run of a request on the association answers as the first;
 *  - nothing changes: index.dat and every archive file keep their size and modification
 *    time, no file appears in the archive or beside it. */
#include "fuzz_scp_common.h"

#include "digest.h"
#include "query.h"
#include "received.h"
#include "retrieve.h"
#include "store.h"
#include "suboperation.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcrleerg.h>

#include <map>

namespace {

using namespace fuzz_scp;

struct StoredObject {
    std::string sop_class, sop_instance, study, series, patient, file;
    std::string plain_digest;   /* the data set as sent */
    std::string stored_digest;  /* the archive file as stored (masked) */
    struct stat st;
};

std::map<std::string, StoredObject> stored; /* by SOP Instance UID */
std::set<std::string> patients, studies, series_uids;
struct stat index_st;

const char *const MODELS[6] = {
    UID_FINDPatientRootQueryRetrieveInformationModel, UID_FINDStudyRootQueryRetrieveInformationModel,
    UID_GETPatientRootQueryRetrieveInformationModel,  UID_GETStudyRootQueryRetrieveInformationModel,
    UID_MOVEPatientRootQueryRetrieveInformationModel, UID_MOVEStudyRootQueryRetrieveInformationModel,
};
const char *const DESTINATIONS[4] = {"DEST", "DESTENC", "NOPORT", "UNKNOWN"};

std::string digest_of(cm_dicom_object *obj)
{
    std::string d;
    FUZZ_CHECK(chaosmask::scp::dataset_digest(obj, d), "a stored object cannot be encoded for its digest");
    return d;
}

/* One object stored through the storage hook, as a C-STORE of an honest SCU. */
/* recompressed: the object is encrypted with the fixed key first, then compressed with
 * RLE lossless (what a PACS may do) and sent in that syntax: the service stores it as
 * received, verifying it decodes it in memory, and a retrieval must still send it as stored
 * (encrypted) or give the original back (decrypted).  Not JPEG-LS: DCMTK 3.6.7's JPEG-LS
 * encoder writes before its output buffer for some incompressible frames (valgrind:
 * DJLSEncoderBase::fixPaddingIfNecessary), and masked pixels are incompressible - it
 * corrupted this harness's heap in about one run in thirty.  The service never encodes. */
void store_object(unsigned n, const char *patient, const char *study, const char *series, bool recompressed = false)
{
    Env &e = env();
    DcmDataset ds;
    char inst[64], number[16];
    snprintf(inst, sizeof inst, "1.2.826.0.1.3680043.10.1049.300.%u", n);
    snprintf(number, sizeof number, "%u", n);
    ds.putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
    ds.putAndInsertString(DCM_SOPInstanceUID, inst);
    ds.putAndInsertString(DCM_StudyInstanceUID, study);
    ds.putAndInsertString(DCM_SeriesInstanceUID, series);
    ds.putAndInsertString(DCM_PatientID, patient);
    ds.putAndInsertString(DCM_PatientName, (std::string("Fuzz^") + patient).c_str());
    ds.putAndInsertString(DCM_StudyDate, "20260101");
    ds.putAndInsertString(DCM_StudyTime, "120000");
    ds.putAndInsertString(DCM_AccessionNumber, "A1");
    ds.putAndInsertString(DCM_StudyID, "1");
    ds.putAndInsertString(DCM_Modality, "OT");
    ds.putAndInsertString(DCM_SeriesNumber, "1");
    ds.putAndInsertString(DCM_InstanceNumber, number);
    ds.putAndInsertUint16(DCM_Rows, 8);
    ds.putAndInsertUint16(DCM_Columns, 8);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    ds.putAndInsertUint16(DCM_BitsStored, recompressed ? 16 : 12);
    ds.putAndInsertUint16(DCM_HighBit, recompressed ? 15 : 11);
    ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
    Uint16 pixels[64];
    for (unsigned i = 0; i < 64; i++)
        pixels[i] = static_cast<Uint16>((i * 37 + n * 101) & 0x0FFF);
    ds.putAndInsertUint16Array(DCM_PixelData, pixels, 64);
    std::vector<uint8_t> bytes;
    FUZZ_CHECK(encode_bare(ds, EXS_LittleEndianExplicit, bytes), "cannot encode stored object %u", n);
    StoredObject o;
    const char *xfer = UID_LittleEndianExplicitTransferSyntax;
    if (recompressed) {
        fuzz::Object plain;
        cm_error err = {0, ""};
        FUZZ_CHECK(cm_dicom_parse(&plain.obj, bytes.data(), bytes.size(), xfer, nullptr, &err) == 0, "parse: %s",
                   err.msg);
        o.plain_digest = digest_of(plain.obj);
        uint8_t key[CM_KEYBYTES];
        fuzz_key(key);
        cm_dicom_encrypt_params ep = fuzz::encrypt_params(CM_PROFILE_LORENZ_CHACHA20, key, 0);
        cm_dicom_report rep;
        FUZZ_CHECK(cm_dicom_encrypt(plain.obj, &ep, &rep, &err) == 0, "encrypt object %u: %s", n, err.msg);
        DcmRLEEncoderRegistration::registerCodecs();
        DcmDataset &enc = plain.dataset();
        FUZZ_CHECK(enc.chooseRepresentation(EXS_RLELossless, nullptr).good() &&
                       enc.canWriteXfer(EXS_RLELossless, EXS_LittleEndianExplicit),
                   "RLE cannot encode encrypted object %u", n);
        FUZZ_CHECK(encode_bare(enc, EXS_RLELossless, bytes), "cannot encode object %u in RLE", n);
        xfer = UID_RLELosslessTransferSyntax;
    }

    Session s(e.svc, e.peers[0], nullptr);
    ReceivedDataset received;
    FUZZ_CHECK(received.receive_bytes(bytes.data(), bytes.size(), xfer, e.svc.received_limits) == 0,
               "stored object %u refused on receipt: %s", n, received.message());
    if (!recompressed)
        o.plain_digest = digest_of(received.object());
    T_DIMSE_C_StoreRQ req;
    memset(&req, 0, sizeof req);
    OFStandard::strlcpy(req.AffectedSOPClassUID, UID_SecondaryCaptureImageStorage, sizeof req.AffectedSOPClassUID);
    OFStandard::strlcpy(req.AffectedSOPInstanceUID, inst, sizeof req.AffectedSOPInstanceUID);
    Uint16 status = store_received(s, req, received, &o.file);
    FUZZ_CHECK(status == STATUS_Success, "stored object %u: status 0x%04X", n, status);
    fuzz::Object archived;
    cm_error err = {0, ""};
    FUZZ_CHECK(cm_dicom_load(&archived.obj, o.file.c_str(), &e.svc.archive_limits, &err) == 0, "load %s: %s",
               o.file.c_str(), err.msg);
    o.stored_digest = digest_of(archived.obj);
    FUZZ_CHECK(o.stored_digest != o.plain_digest, "stored object %u was not masked", n);
    FUZZ_CHECK(chaosmask::dicom_object_xfer(archived.obj) == DcmXfer(xfer).getXfer(),
               "stored object %u is archived in %s, received in %s", n,
               DcmXfer(chaosmask::dicom_object_xfer(archived.obj)).getXferName(), DcmXfer(xfer).getXferName());
    o.sop_class = UID_SecondaryCaptureImageStorage;
    o.sop_instance = inst;
    o.study = study;
    o.series = series;
    o.patient = patient;
    stored[inst] = o;
    patients.insert(patient);
    studies.insert(study);
    series_uids.insert(series);
}

void check_unchanged()
{
    struct stat st;
    FUZZ_CHECK(stat("index.dat", &st) == 0, "index.dat is gone: %s", strerror(errno));
    FUZZ_CHECK(st.st_size == index_st.st_size && st.st_mtim.tv_sec == index_st.st_mtim.tv_sec &&
                   st.st_mtim.tv_nsec == index_st.st_mtim.tv_nsec,
               "a query changed index.dat");
    size_t objects = 0;
    std::vector<std::string> files, dirs, other;
    archive_entries(files, dirs, other);
    FUZZ_CHECK(other.empty(), "the archive holds a non-regular entry %s", other[0].c_str());
    for (const std::string &f : files)
        if (f != "index.dat")
            objects++;
    FUZZ_CHECK(objects == stored.size(), "the archive holds %zu files, %zu were stored", objects, stored.size());
    for (const auto &kv : stored) {
        FUZZ_CHECK(stat(kv.second.file.c_str(), &st) == 0, "archive file %s is gone", kv.second.file.c_str());
        FUZZ_CHECK(st.st_size == kv.second.st.st_size && st.st_mtim.tv_nsec == kv.second.st.st_mtim.tv_nsec &&
                       st.st_mtim.tv_sec == kv.second.st.st_mtim.tv_sec,
                   "archive file %s changed", kv.second.file.c_str());
    }
    check_scratch_root();
}

/* A key of a response that names a stored entity, when present and not empty. */
void check_key(DcmDataset &r, const DcmTagKey &tag, const std::set<std::string> &known, const char *what)
{
    OFString v;
    if (r.findAndGetOFStringArray(tag, v).good() && !v.empty())
        FUZZ_CHECK(known.count(v.c_str()) == 1, "a C-FIND response names a %s that is not stored: %s", what, v.c_str());
}

std::string find(Session &s, const char *model, ReceivedDataset &ids, bool allowed)
{
    std::vector<std::unique_ptr<DcmDataset>> matches;
    int code = 0;
    cm_error err = {0, ""};
    Uint16 status = find_received(s, model, ids, matches, code, err);
    fuzz_note("C-FIND: status 0x%04X, %zu matches, code %d %s", status, matches.size(), code, code ? err.msg : "");
    FUZZ_CHECK(status == STATUS_Success || failure_status(status), "C-FIND final status 0x%04X", status);
    FUZZ_CHECK(code == 0 || (status != STATUS_Success && matches.empty()),
               "C-FIND refused (%d %s) with status 0x%04X and %zu matches", code, err.msg, status, matches.size());
    if (ids.code() == 0 && !allowed)
        FUZZ_CHECK(status == 0x0124 && matches.empty(), "C-FIND of a peer without find: 0x%04X, %zu matches", status,
                   matches.size());
    FUZZ_CHECK(matches.size() <= stored.size(), "%zu C-FIND responses from %zu stored objects", matches.size(),
               stored.size());
    std::set<std::string> instances;
    for (const auto &kv : stored)
        instances.insert(kv.first);
    for (const std::unique_ptr<DcmDataset> &r : matches) {
        FUZZ_CHECK(r != nullptr, "a null C-FIND response");
        check_key(*r, DCM_PatientID, patients, "Patient ID");
        check_key(*r, DCM_StudyInstanceUID, studies, "Study Instance UID");
        check_key(*r, DCM_SeriesInstanceUID, series_uids, "Series Instance UID");
        check_key(*r, DCM_SOPInstanceUID, instances, "SOP Instance UID");
    }
    return "status " + std::to_string(status) + ", " + std::to_string(matches.size()) + " matches";
}

std::string retrieve(Session &s, bool move, const char *model, const char *destination, ReceivedDataset &ids)
{
    Env &e = env();
    T_DIMSE_C_GetRQ get;
    T_DIMSE_C_MoveRQ mv;
    memset(&get, 0, sizeof get);
    memset(&mv, 0, sizeof mv);
    get.MessageID = mv.MessageID = 1;
    OFStandard::strlcpy(get.AffectedSOPClassUID, model, sizeof get.AffectedSOPClassUID);
    OFStandard::strlcpy(mv.AffectedSOPClassUID, model, sizeof mv.AffectedSOPClassUID);
    OFStandard::strlcpy(mv.MoveDestination, destination, sizeof mv.MoveDestination);
    RetrievalPlan plan;
    plan_retrieval(s, move ? nullptr : &get, move ? &mv : nullptr, ids, plan);
    fuzz_note("%s: status 0x%04X, mode %d, %zu matches, code %d %s", move ? "C-MOVE" : "C-GET", plan.status, plan.mode,
              plan.matches.size(), plan.code, plan.code ? plan.err.msg : "");
    FUZZ_CHECK(plan.status == 0 || failure_status(plan.status), "%s status 0x%04X", move ? "C-MOVE" : "C-GET",
               plan.status);
    std::string outcome = "status " + std::to_string(plan.status) + ", mode " + std::to_string(plan.mode) + ":";
    for (const Match &m : plan.matches)
        outcome += " " + m.file;
    int want = s.peer.config->retrieve;
    const cm_peer *dest = move ? cm_config_peer(e.svc.cfg, destination) : nullptr;
    if (ids.code() != 0) {
        FUZZ_CHECK(plan.status != 0 && plan.matches.empty(), "an identifier refused on receipt (%s) was looked up",
                   ids.message());
        return outcome;
    }
    if (want == CM_RETRIEVE_NO) {
        FUZZ_CHECK(plan.status == 0x0124 && plan.matches.empty(), "retrieval by a peer without the right: 0x%04X",
                   plan.status);
        return outcome;
    }
    if (move && (dest == nullptr || dest->port == 0)) {
        FUZZ_CHECK(plan.status == 0xA801 && plan.matches.empty(), "C-MOVE to %s: status 0x%04X, %zu matches",
                   destination, plan.status, plan.matches.size());
        return outcome;
    }
    if (move && dest->retrieve < want)
        want = dest->retrieve;
    if (plan.status != 0)
        return outcome; /* the index refused the identifier: nothing is sent */
    FUZZ_CHECK(plan.mode == want, "%s sends as %d, the policy says %d", move ? "C-MOVE" : "C-GET", plan.mode, want);
    std::set<std::string> named;
    SubOperation sub(s, nullptr, !move, plan.mode, move ? s.peer.calling_ae.c_str() : nullptr, 1);
    for (const Match &m : plan.matches) {
        auto it = stored.find(m.sop_instance);
        FUZZ_CHECK(it != stored.end(), "a retrieval names an instance that is not stored: %s", m.sop_instance.c_str());
        FUZZ_CHECK(it->second.file == m.file && it->second.sop_class == m.sop_class,
                   "a retrieval names %s as %s (%s), stored as %s (%s)", m.sop_instance.c_str(), m.file.c_str(),
                   m.sop_class.c_str(), it->second.file.c_str(), it->second.sop_class.c_str());
        FUZZ_CHECK(named.insert(m.sop_instance).second, "a retrieval names %s twice", m.sop_instance.c_str());
        cm_dicom_object *obj = nullptr;
        SubResult r;
        int rc = sub.load(m, &obj, r);
        fuzz::Object loaded;
        loaded.obj = obj;
        FUZZ_CHECK(rc == 0, "a stored object cannot be sent: %d %s", rc, r.err.msg);
        cm_dicom_info info;
        cm_error err = {0, ""};
        FUZZ_CHECK(cm_dicom_inspect(obj, &info, &err) == 0, "inspect: %s", err.msg);
        if (plan.mode == CM_RETRIEVE_DECRYPTED) {
            FUZZ_CHECK(!info.encrypted, "sent decrypted, but it carries a ChaosMask block");
            FUZZ_CHECK(digest_of(obj) == it->second.plain_digest, "sent decrypted: not the original of %s",
                       m.sop_instance.c_str());
        } else {
            FUZZ_CHECK(info.encrypted && info.block_error == 0, "sent encrypted, but its block is %d/%d",
                       info.encrypted, info.block_error);
            FUZZ_CHECK(digest_of(obj) == it->second.stored_digest, "sent encrypted: not the archive file of %s",
                       m.sop_instance.c_str());
        }
    }
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    setup();
    InArchive in_archive;
    store_object(1, "P1", "1.2.826.0.1.3680043.10.1049.301.1", "1.2.826.0.1.3680043.10.1049.302.1");
    store_object(2, "P1", "1.2.826.0.1.3680043.10.1049.301.1", "1.2.826.0.1.3680043.10.1049.302.1");
    store_object(3, "P1", "1.2.826.0.1.3680043.10.1049.301.1", "1.2.826.0.1.3680043.10.1049.302.2");
    store_object(4, "P2", "1.2.826.0.1.3680043.10.1049.301.2", "1.2.826.0.1.3680043.10.1049.302.3");
    store_object(5, "P2", "1.2.826.0.1.3680043.10.1049.301.2", "1.2.826.0.1.3680043.10.1049.302.3");
    store_object(6, "P2", "1.2.826.0.1.3680043.10.1049.301.2", "1.2.826.0.1.3680043.10.1049.302.3", true);
    for (auto &kv : stored)
        FUZZ_CHECK(stat(kv.second.file.c_str(), &kv.second.st) == 0, "stat %s", kv.second.file.c_str());
    FUZZ_CHECK(stat("index.dat", &index_st) == 0, "no index.dat after the stores");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    Env &e = env();
    const char *xfer = (data[0] & 0x80) ? UID_LittleEndianImplicitTransferSyntax : UID_LittleEndianExplicitTransferSyntax;
    const unsigned k = data[0] & 0x7F, op = k % 6;
    const Peer &peer = e.peers[(k / 6) % 3];
    InArchive in_archive;
    {
        /* twice on one association (one Session, one index handle): the second request meets
         * whatever the first left in the handle, and must be answered the same way */
        Session s(e.svc, peer, nullptr);
        std::string outcome[2];
        for (int pass = 0; pass < 2; pass++) {
            ReceivedDataset ids;
            ids.receive_bytes(data + 1, size - 1, xfer, s.identifier_limits());
            fuzz_note("identifier: code %d %s", ids.code(), ids.code() ? ids.message() : "");
            if (op < 2)
                outcome[pass] = find(s, MODELS[op], ids, peer.config->find != 0);
            else
                outcome[pass] = retrieve(s, op >= 4, MODELS[op], DESTINATIONS[(k / 18) % 4], ids);
        }
        FUZZ_CHECK(outcome[0] == outcome[1], "the same request on one association: %s, then %s", outcome[0].c_str(),
                   outcome[1].c_str());
    }
    check_unchanged();
    if (truncate(e.audit.c_str(), 0) != 0)
        fuzz_fail("cannot empty the audit log: %s", strerror(errno));
    return 0;
}
