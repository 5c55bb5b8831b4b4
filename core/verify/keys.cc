#include "core/verify/keys.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/sha256.h"

namespace veta {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

void InitSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

absl::StatusOr<KeyAlgorithm> AlgorithmOf(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof(group), &len) == 1 &&
        std::string_view(group, len) == "prime256v1") {
      return KeyAlgorithm::kEcdsaP256;
    }
    return absl::InvalidArgumentError("EC key is not on curve P-256 (prime256v1)");
  }
  return absl::InvalidArgumentError("key is neither Ed25519 nor ECDSA P-256");
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

std::string_view AlgorithmName(KeyAlgorithm algorithm) {
  return algorithm == KeyAlgorithm::kEd25519 ? "ed25519" : "ecdsa-p256";
}

absl::StatusOr<KeyAlgorithm> ParseAlgorithmName(std::string_view name) {
  if (name == "ed25519") return KeyAlgorithm::kEd25519;
  if (name == "ecdsa-p256" || name == "p256") return KeyAlgorithm::kEcdsaP256;
  return absl::InvalidArgumentError(
      StrCat("unknown key algorithm '", name, "': use ed25519 or ecdsa-p256"));
}

veta::v1::KeyAlgorithm ToProto(KeyAlgorithm algorithm) {
  return algorithm == KeyAlgorithm::kEd25519 ? veta::v1::KEY_ALGORITHM_ED25519
                                             : veta::v1::KEY_ALGORITHM_ECDSA_P256_SHA256;
}

struct PublicKey::Impl {
  PkeyPtr pkey;
  KeyAlgorithm algorithm;
  std::string spki_der;
  std::string keyid;
  std::string ed25519_raw;
  std::string point_id;
};

namespace {

absl::StatusOr<std::shared_ptr<const PublicKey::Impl>> MakePublicImpl(PkeyPtr pkey);

}  // namespace

absl::StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return absl::InvalidArgumentError("not a PEM public key (BEGIN PUBLIC KEY)");
  ASSIGN_OR_RETURN(auto impl, MakePublicImpl(std::move(pkey)));
  return PublicKey(std::move(impl));
}

absl::StatusOr<PublicKey> PublicKey::FromSpkiDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError("not a DER SubjectPublicKeyInfo");
  }
  ASSIGN_OR_RETURN(auto impl, MakePublicImpl(std::move(pkey)));
  return PublicKey(std::move(impl));
}

absl::StatusOr<PublicKey> PublicKey::FromEd25519Raw(std::string_view raw) {
  if (raw.size() != 32) return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
  if (!pkey) return absl::InvalidArgumentError("invalid Ed25519 public key");
  ASSIGN_OR_RETURN(auto impl, MakePublicImpl(std::move(pkey)));
  return PublicKey(std::move(impl));
}

absl::StatusOr<PublicKey> PublicKey::FromProto(const veta::v1::PublicKey& proto) {
  ASSIGN_OR_RETURN(PublicKey key, FromSpkiDer(proto.spki_der()));
  if (proto.keyid() != key.keyid()) {
    return absl::InvalidArgumentError(
        StrCat("key id ", proto.keyid(), " does not match the key (", key.keyid(), ")"));
  }
  if (proto.algorithm() != veta::ToProto(key.algorithm())) {
    return absl::InvalidArgumentError(StrCat("key ", key.keyid(), " is ",
                                             AlgorithmName(key.algorithm()),
                                             ", not the algorithm its record names"));
  }
  return key;
}

KeyAlgorithm PublicKey::algorithm() const { return impl_->algorithm; }
const std::string& PublicKey::spki_der() const { return impl_->spki_der; }
const std::string& PublicKey::keyid() const { return impl_->keyid; }
const std::string& PublicKey::ed25519_raw() const { return impl_->ed25519_raw; }
const std::string& PublicKey::point_id() const { return impl_->point_id; }

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) != 1) std::abort();
  return BioContents(bio.get());
}

veta::v1::PublicKey PublicKey::ToProto() const {
  veta::v1::PublicKey proto;
  proto.set_keyid(keyid());
  proto.set_algorithm(veta::ToProto(algorithm()));
  proto.set_spki_der(spki_der());
  return proto;
}

absl::Status PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (impl_->algorithm == KeyAlgorithm::kEd25519) {
    if (signature.size() != crypto_sign_BYTES) {
      return absl::UnauthenticatedError(
          StrCat("Ed25519 signature must be 64 bytes, not ", signature.size()));
    }
    if (crypto_sign_verify_detached(
            reinterpret_cast<const unsigned char*>(signature.data()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(),
            reinterpret_cast<const unsigned char*>(impl_->ed25519_raw.data())) != 0) {
      return absl::UnauthenticatedError(
          StrCat("signature does not verify with key ", impl_->keyid));
    }
    return absl::OkStatus();
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, impl_->pkey.get(),
                              nullptr) != 1) {
    return absl::InternalError("EVP_DigestVerifyInit_ex failed");
  }
  const int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (rc != 1) {
    return absl::UnauthenticatedError(StrCat("signature does not verify with key ", impl_->keyid));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::shared_ptr<const PublicKey::Impl>> MakePublicImpl(PkeyPtr pkey) {
  InitSodium();
  auto impl = std::make_shared<PublicKey::Impl>();
  ASSIGN_OR_RETURN(impl->algorithm, AlgorithmOf(pkey.get()));
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey.get(), &der);
  if (len <= 0) return absl::InternalError("cannot encode public key");
  impl->spki_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  impl->keyid = ToHex(Sha256Of(impl->spki_der));
  if (impl->algorithm == KeyAlgorithm::kEd25519) {
    // Strict keys: canonical, on the curve, in the prime-order subgroup and not of small order.
    // libsodium's verify refuses small-order keys but accepts mixed-order ones (a point plus a
    // small-order component), for which verifiers disagree; such a key never enters the ledger.
    size_t raw_len = 32;
    impl->ed25519_raw.resize(raw_len);
    if (EVP_PKEY_get_raw_public_key(pkey.get(),
                                    reinterpret_cast<unsigned char*>(impl->ed25519_raw.data()),
                                    &raw_len) != 1 ||
        raw_len != 32) {
      return absl::InternalError("cannot read raw Ed25519 key");
    }
    if (crypto_core_ed25519_is_valid_point(
            reinterpret_cast<const unsigned char*>(impl->ed25519_raw.data())) != 1) {
      return absl::InvalidArgumentError(
          "Ed25519 public key is not a canonical point of the prime-order subgroup");
    }
  }
  if (impl->algorithm == KeyAlgorithm::kEd25519) {
    impl->point_id = ToHex(Sha256Of(StrCat("ed25519:", impl->ed25519_raw)));
  } else {
    // The affine coordinates, whatever the encoding the SPKI carried (a compressed,
    // uncompressed or hybrid point; the curve named or given by its parameters).
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    std::string xy(64, '\0');
    const bool ok = EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
                    EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
                    BN_bn2binpad(x, reinterpret_cast<unsigned char*>(xy.data()), 32) == 32 &&
                    BN_bn2binpad(y, reinterpret_cast<unsigned char*>(xy.data()) + 32, 32) == 32;
    BN_free(x);
    BN_free(y);
    if (!ok) return absl::InternalError("cannot read the P-256 key's point");
    impl->point_id = ToHex(Sha256Of(StrCat("ecdsa-p256:", xy)));
  }
  impl->pkey = std::move(pkey);
  return std::shared_ptr<const PublicKey::Impl>(std::move(impl));
}

}  // namespace

struct PrivateKey::Impl {
  PkeyPtr pkey;
  PublicKey public_key;
};

namespace {

absl::StatusOr<PublicKey> PublicOf(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return absl::InternalError("cannot encode public key");
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return PublicKey::FromSpkiDer(spki);
}

}  // namespace

absl::StatusOr<PrivateKey> PrivateKey::Generate(KeyAlgorithm algorithm) {
  PkeyPtr pkey(algorithm == KeyAlgorithm::kEd25519
                   ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!pkey) return absl::InternalError("key generation failed");
  ASSIGN_OR_RETURN(PublicKey pub, PublicOf(pkey.get()));
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey), std::move(pub)}));
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return absl::InvalidArgumentError("not an unencrypted PEM private key (PKCS#8)");
  RETURN_IF_ERROR(AlgorithmOf(pkey.get()).status());
  ASSIGN_OR_RETURN(PublicKey pub, PublicOf(pkey.get()));
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey), std::move(pub)}));
}

absl::StatusOr<PrivateKey> PrivateKey::FromEd25519Seed(std::string_view seed) {
  if (seed.size() != 32) return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (!pkey) return absl::InvalidArgumentError("invalid Ed25519 seed");
  ASSIGN_OR_RETURN(PublicKey pub, PublicOf(pkey.get()));
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey), std::move(pub)}));
}

KeyAlgorithm PrivateKey::algorithm() const { return impl_->public_key.algorithm(); }
const PublicKey& PrivateKey::public_key() const { return impl_->public_key; }

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    std::abort();
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PrivateKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const char* md = algorithm() == KeyAlgorithm::kEd25519 ? nullptr : "SHA256";
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, impl_->pkey.get(), nullptr) !=
      1) {
    return absl::InternalError("EVP_DigestSignInit_ex failed");
  }
  size_t len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    return absl::InternalError("EVP_DigestSign (size) failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, msg,
                     message.size()) != 1) {
    return absl::InternalError("EVP_DigestSign failed");
  }
  sig.resize(len);
  return sig;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    const std::string msg = StrCat("cannot open ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::UnavailableError(msg);
  }
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out.append(buf, n);
    if (out.size() > max_bytes) {
      std::fclose(f);
      return absl::InvalidArgumentError(StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::UnavailableError(StrCat("cannot read ", path));
  return out;
}

absl::Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  const std::string tmp = StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::UnavailableError(StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  if (absl::Status s = WriteAll(fd, data, tmp); !s.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(StrCat("cannot sync ", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(
        StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  }
  // The new name is durable once its folder is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

}  // namespace veta
