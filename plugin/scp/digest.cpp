/* digest.cpp - a SHA-256 of a data set's encoding (digest.h). */
#include "digest.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcostrma.h>
#include <openssl/evp.h>

namespace chaosmask::scp {
namespace {

/* A DCMTK consumer that hashes what DCMTK writes instead of keeping it. */
class HashConsumer : public DcmConsumer {
  public:
    HashConsumer() : ctx_(EVP_MD_CTX_new())
    {
        ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1;
    }
    ~HashConsumer() override { EVP_MD_CTX_free(ctx_); }
    OFBool good() const override { return ok_; }
    OFCondition status() const override { return ok_ ? EC_Normal : EC_IllegalCall; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return ok_ ? OFstatic_cast(offile_off_t, 1 << 30) : 0; }
    void flush() override {}
    offile_off_t write(const void *buf, offile_off_t len) override
    {
        ok_ = ok_ && EVP_DigestUpdate(ctx_, buf, static_cast<size_t>(len)) == 1;
        return ok_ ? len : 0;
    }
    bool final(std::string &out)
    {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (!ok_ || EVP_DigestFinal_ex(ctx_, md, &n) != 1)
            return false;
        out.assign(reinterpret_cast<const char *>(md), n);
        return true;
    }

  private:
    EVP_MD_CTX *ctx_;
    bool ok_ = false;
};

class HashStream : public DcmOutputStream {
  public:
    HashStream() : DcmOutputStream(&consumer_) {}
    HashConsumer &consumer() { return consumer_; }

  private:
    HashConsumer consumer_;
};

} // namespace

bool dataset_digest(cm_dicom_object *obj, std::string &digest)
{
    DcmDataset *ds = dicom_object_fileformat(obj).getDataset();
    const E_TransferSyntax xfer = dicom_object_xfer(obj);
    HashStream stream;
    /* one encoding whatever the object came with: explicit lengths, no group lengths */
    ds->transferInit();
    OFCondition c = ds->write(stream, xfer, EET_ExplicitLength, nullptr, EGL_withoutGL);
    ds->transferEnd();
    if (c.good())
        stream.flush();
    return c.good() && stream.consumer().final(digest);
}

} // namespace chaosmask::scp
