// X.509 certificates for TLS. Veta needs no certificate authority for its clients: a party's
// TLS certificate carries one of its registered signing keys, so the registry itself is the
// trust anchor (TLS proves possession of the private key; the key ring says whose it is).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/verify/keys.h"

namespace veta {

// A self-signed certificate (PEM) for `key`, valid for `days`, with the given common name and
// subject alternative names (DNS names, or IP addresses such as "127.0.0.1").
absl::StatusOr<std::string> SelfSignedCertificate(const PrivateKey& key,
                                                  std::string_view common_name,
                                                  const std::vector<std::string>& alt_names,
                                                  int days = 825);

// The public key a PEM certificate carries.
absl::StatusOr<PublicKey> CertificatePublicKey(std::string_view pem);

}  // namespace veta
