/* fuzz_precheck.cpp - libFuzzer harness for the structure check (dicom_precheck.h).
 *
 * Each input is one byte choosing the form and DCMTK's reading options, then the object.  Form
 * (byte % 6): 0 = a Part 10 file for cm_dicom_precheck_file; 1..5 = a bare data set for
 * cm_dicom_precheck_dataset in explicit VR LE, implicit VR LE, explicit VR BE, deflated explicit
 * VR LE or JPEG baseline.  Options (byte / 6, one bit each): CP-246 off, dcmEnableUnknownVRConversion,
 * dcmConvertUndefinedLengthOBOWtoSQ, dcmConvertVOILUTSequenceOWtoSQ, dcmIgnoreParsingErrors;
 * both the check and DCMTK read with them.  The check runs
 * with a small max_depth (6) and max_elements (5000).  Whatever it accepts is then parsed by
 * DCMTK from the same bytes, and the nesting and size of what DCMTK built must lie within the
 * limits: an object DCMTK recurses into deeper than the check counted is a bug in the check,
 * reported as a crash.  Sanitizers catch reads outside the buffer and undefined behaviour in the
 * check itself.
 *
 * Built like every harness of tests/fuzz (CMakeLists.txt there): a libFuzzer program in the
 * fuzz build (scripts/fuzz.sh, seeds from make_seeds.py: the sample files with byte 0 and
 * their bare data sets with the form byte of their transfer syntax), a replay program that
 * ctest runs in every other build.
 */
#include "chaosmask/dicom.h"
#include "chaosmask/dicom_precheck.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcobject.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace {

const unsigned kMaxDepth = 6;
const uint64_t kMaxElements = 5000;

/* Nesting and element count of what DCMTK built, walked without recursion. */
void measure(DcmItem *top, unsigned &depth, uint64_t &elements)
{
    std::vector<std::pair<DcmItem *, unsigned>> todo{{top, 0}};
    while (!todo.empty()) {
        auto [item, d] = todo.back();
        todo.pop_back();
        /* nextInContainer: getElement(i) and getItem(k) walk the list from its start */
        for (DcmObject *o = item->nextInContainer(nullptr); o != nullptr; o = item->nextInContainer(o)) {
            ++elements;
            if (o->ident() != EVR_SQ)
                continue;
            DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(o);
            /* a level is a sequence with an item in it: a defined-length value that holds no item
             * (which the check takes for a plain value) may still be read by DCMTK as an empty
             * sequence, and nothing can nest inside it */
            if (sq->card() > 0)
                depth = std::max(depth, d + 1);
            for (DcmObject *it = sq->nextInContainer(nullptr); it != nullptr; it = sq->nextInContainer(it)) {
                ++elements;
                todo.push_back({static_cast<DcmItem *>(it), d + 1});
            }
        }
    }
}

void check_dcmtk(DcmObject &obj, DcmItem *meta, DcmItem *ds, const uint8_t *data, size_t size, E_TransferSyntax xfer)
{
    DcmInputBufferStream stream;
    stream.setBuffer(data, static_cast<offile_off_t>(size));
    stream.setEos();
    obj.transferInit();
    (void)obj.read(stream, xfer, EGL_noChange, DCM_MaxReadLength);
    obj.transferEnd();
    unsigned depth = 0;
    uint64_t elements = 0;
    if (meta != nullptr)
        measure(meta, depth, elements);
    if (ds != nullptr)
        measure(ds, depth, elements);
    if (depth > kMaxDepth || elements > kMaxElements) {
        fprintf(stderr, "DCMTK built depth %u, %llu elements beyond the checked limits\n", depth,
                static_cast<unsigned long long>(elements));
        abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const syntaxes[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2",
                                           "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50"};
    const unsigned form = data[0] % 6, options = data[0] / 6;
    dcmEnableCP246Support.set((options & 1) == 0);
    dcmEnableUnknownVRConversion.set((options & 2) != 0);
    dcmConvertUndefinedLengthOBOWtoSQ.set((options & 4) != 0);
    dcmConvertVOILUTSequenceOWtoSQ.set((options & 8) != 0);
    dcmIgnoreParsingErrors.set((options & 16) != 0);
    ++data, --size;
    cm_dicom_limits lim;
    cm_dicom_limits_default(&lim);
    lim.max_depth = kMaxDepth;
    lim.max_elements = kMaxElements;
    lim.max_bytes = 1 << 20;
    cm_error err;
    int rc = form == 0 ? cm_dicom_precheck_file(data, size, &lim, &err)
                       : cm_dicom_precheck_dataset(data, size, syntaxes[form - 1], &lim, &err);
    if (rc != err.code || (rc != 0 && err.msg[0] == '\0') ||
        (rc != 0 && rc != CM_DICOM_EINPUT && rc != CM_DICOM_ESTRUCTURE && rc != CM_DICOM_ENOMEM))
        abort();
    if (rc != 0)
        return 0;
    if (form == 0) {
        DcmFileFormat ff;
        ff.setReadMode(ERM_fileOnly);
        check_dcmtk(ff, ff.getMetaInfo(), ff.getDataset(), data, size, EXS_Unknown);
    } else {
        DcmDataset ds;
        check_dcmtk(ds, nullptr, &ds, data, size, DcmXfer(syntaxes[form - 1]).getXfer());
    }
    return 0;
}
