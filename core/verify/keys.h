// Signing keys: Ed25519 (RFC 8032) and ECDSA P-256 with SHA-256, in PEM files.
//
// Verification of Ed25519 goes through libsodium (strict: non-canonical signatures and
// small-order keys are refused; about twice OpenSSL 3.0's rate here), everything else through
// OpenSSL. A PublicKey holds its parsed form, so verifying never re-parses the key (ECDSA
// verify drops from 11k/s to 3k/s when the key is re-parsed each time).
//
// Thread-safety: PublicKey and PrivateKey are immutable after construction; their methods may
// be called from any number of threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "veta/v1/ledger.pb.h"

namespace veta {

enum class KeyAlgorithm { kEd25519, kEcdsaP256 };

std::string_view AlgorithmName(KeyAlgorithm algorithm);  // "ed25519", "ecdsa-p256"
absl::StatusOr<KeyAlgorithm> ParseAlgorithmName(std::string_view name);
veta::v1::KeyAlgorithm ToProto(KeyAlgorithm algorithm);

class PublicKey {
 public:
  // From a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo).
  static absl::StatusOr<PublicKey> FromPem(std::string_view pem);
  static absl::StatusOr<PublicKey> FromSpkiDer(std::string_view der);
  // From the 32 raw bytes of RFC 8032.
  static absl::StatusOr<PublicKey> FromEd25519Raw(std::string_view raw);
  // From the record form; checks that keyid and algorithm match the key.
  static absl::StatusOr<PublicKey> FromProto(const veta::v1::PublicKey& proto);

  KeyAlgorithm algorithm() const;
  // X.509 SubjectPublicKeyInfo, DER.
  const std::string& spki_der() const;
  // Lowercase hex SHA-256 of spki_der(): the key id in envelopes.
  const std::string& keyid() const;
  // Ed25519 only: the 32 raw bytes (empty for other algorithms).
  const std::string& ed25519_raw() const;
  // Lowercase hex SHA-256 of the key itself (its algorithm and point), one per key whatever
  // its encoding: a P-256 point written compressed, uncompressed or hybrid is one key under
  // three key ids. What "one key, one holder" compares.
  const std::string& point_id() const;
  std::string ToPem() const;
  veta::v1::PublicKey ToProto() const;

  // OK, or Unauthenticated("signature does not verify ...") / InvalidArgument (malformed).
  [[nodiscard]] absl::Status Verify(std::string_view message, std::string_view signature) const;

  struct Impl;  // opaque: the parsed key, defined in keys.cc

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

class PrivateKey {
 public:
  static absl::StatusOr<PrivateKey> Generate(KeyAlgorithm algorithm);
  // From a PEM "PRIVATE KEY" block (PKCS#8, unencrypted).
  static absl::StatusOr<PrivateKey> FromPem(std::string_view pem);
  // From the 32-byte seed of RFC 8032.
  static absl::StatusOr<PrivateKey> FromEd25519Seed(std::string_view seed);

  KeyAlgorithm algorithm() const;
  const PublicKey& public_key() const;
  // PKCS#8 PEM. Secret: write it only to files of mode 0600.
  std::string ToPem() const;
  // Ed25519: the 64-byte signature of RFC 8032. ECDSA: DER (r, s) over SHA-256(message).
  absl::StatusOr<std::string> Sign(std::string_view message) const;

  struct Impl;  // opaque: the parsed key, defined in keys.cc

 private:
  explicit PrivateKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Reads a whole (small) file; NotFound / PermissionDenied with the path in the message.
absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 1 << 20);
// Writes a file atomically (temporary, fsync, rename, fsync of its folder), with the given mode.
[[nodiscard]] absl::Status WriteFileAtomic(const std::string& path, std::string_view data,
                                           int mode = 0644);

}  // namespace veta
