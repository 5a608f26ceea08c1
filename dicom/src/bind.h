/* bind.h - what format 2 ties to the pixels besides the pixels themselves (dicom/src only):
 *   - bound attributes: the UIDs and every attribute that turns a stored value into a clinical
 *     value or a position; a keyed digest of each is stored, the object tag covers the
 *     digests, so a changed attribute fails authentication with its name;
 *   - patient identity: a keyed digest per attribute, checked against a policy instead (a PACS
 *     corrects identity legitimately);
 *   - marks: standard attributes viewers show and pipelines check, set on encryption so the
 *     object says it is encrypted, their originals kept in the block and restored exactly.
 * docs/private-block.md lists every attribute and why. */
#ifndef CHAOSMASK_DICOM_BIND_H
#define CHAOSMASK_DICOM_BIND_H

#include "chaosmask/chaosmask.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dctagkey.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chaosmask {

#define CM_BIND_DIGESTBYTES 16u

struct NamedTag {
    DcmTagKey tag;
    const char *name;
};

/* The attributes format 2 binds, in the order written to the block. */
const std::vector<NamedTag> &bound_attributes();
/* Patient identity attributes (the order of the identity digests). */
const std::vector<NamedTag> &identity_attributes();
/* The attributes set to say "encrypted" (the order of the marks). */
const std::vector<NamedTag> &marked_attributes();
/* "Rescale Intercept (0028,1052)" for any tag; the dictionary name when not in our lists. */
std::string tag_name(const DcmTagKey &tag);

/* Canonical bytes of an attribute of item (absent and empty told apart), independent of the
 * transfer syntax and of the VR a reader assigns (US or SS, OB or OW...): binary values as
 * their little-endian bytes, text trimmed of padding, sequences item by item. */
std::string canonical_value(DcmItem &item, const DcmTagKey &tag);

/* Keyed digests of the canonical values of tags, CM_BIND_DIGESTBYTES each, under a sub-key of
 * the object named by purpose ("bound" or "identity").  0 or an engine code. */
int attribute_digests(const cm_object *obj, const char *purpose, DcmItem &item, const std::vector<DcmTagKey> &tags,
                      std::vector<uint8_t> &out);
/* Compares digests with the ones stored, in constant time per attribute; fills `changed` with
 * the names of the attributes that differ ("Rescale Intercept (0028,1052)", ...). */
void digests_compare(const std::vector<uint8_t> &stored, const std::vector<uint8_t> &actual,
                     const std::vector<DcmTagKey> &tags, std::vector<std::string> &changed);

/* What encryption records of the attributes survives writing and reading the object, checked
 * before anything is changed; else CM_DICOM_EUNSUPPORTED.  No bound, identity or marked
 * attribute (nor an element in one of their sequences) has a VR DCMTK did not recognise (kept
 * as raw bytes, written as UN: its digest would change and the object no longer decrypt);
 * every marked attribute present is a string element with its dictionary VR, so that its
 * value is put back exactly (an Image Type sent as UN would come back empty or as CS). */
int attributes_check(DcmItem &ds, cm_error *err);
/* The marks: records the originals of marked_attributes() (serialised for the block), then
 * sets the marks.  0 or CM_DICOM_EINTERNAL. */
int marks_apply(DcmItem &ds, std::vector<uint8_t> &originals);
/* Puts the recorded originals back exactly (an attribute that was absent is removed).
 * CM_DICOM_EBLOCK when the record does not parse. */
int marks_restore(DcmItem &ds, const std::vector<uint8_t> &originals);
/* Names of the marks ds carries ("" when none): an encrypted object whose block is gone. */
std::string marks_present(DcmItem &ds);

} // namespace chaosmask

#endif
