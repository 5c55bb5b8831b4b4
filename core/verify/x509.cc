#include "core/verify/x509.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta {
namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

bool IsIp(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

absl::StatusOr<std::string> SelfSignedCertificate(const PrivateKey& key,
                                                  std::string_view common_name,
                                                  const std::vector<std::string>& alt_names,
                                                  int days) {
  // Load the key into OpenSSL through its PEM form.
  const std::string key_pem = key.ToPem();
  std::unique_ptr<BIO, BioDeleter> kbio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(
      PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!pkey || !cert) return absl::InternalError("cannot prepare a certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!alt_names.empty()) {
    std::string san;
    for (const auto& n : alt_names)
      san += StrCat(san.empty() ? "" : ",", IsIp(n) ? "IP:" : "DNS:", n);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    if (ext == nullptr) return absl::InvalidArgumentError("bad subject alternative names");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  const EVP_MD* md = key.algorithm() == KeyAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), pkey.get(), md) == 0)
    return absl::InternalError("cannot sign the certificate");
  std::unique_ptr<BIO, BioDeleter> out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), cert.get());
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<PublicKey> CertificatePublicKey(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::unique_ptr<X509, X509Deleter> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError("not a PEM certificate");
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr) return absl::InvalidArgumentError("the certificate has no public key");
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return absl::InvalidArgumentError("cannot encode the certificate's key");
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return PublicKey::FromSpkiDer(spki);
}

}  // namespace veta
