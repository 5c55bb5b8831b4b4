// Issuing "Oro formal" certificates from the ledger (the format and the offline check:
// core/verify/certificate_verify.h).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "core/verify/certificate_verify.h"
#include "veta/v1/custody.pb.h"

namespace veta {

class Ledger;
class Reader;

// Issues a certificate for a gold lot against the latest checkpoint. FailedPrecondition
// "[CERTIFICATE_REFUSED] ..." naming the entry that taints the lineage (voided, flagged), or
// saying why not (an ore lot, nothing left, too large); Unavailable while the lot is newer than the
// latest checkpoint (retry: one is signed within a second); NotFound for no such lot.
absl::StatusOr<veta::v1::Certificate> IssueCertificate(const Ledger& ledger,
                                                       std::string_view lot_id);

// OK when no lot of the lineage (a backward lineage, read whole) was voided and no entry that
// created one raised a red flag; FailedPrecondition "[CERTIFICATE_REFUSED] lot X rests on
// entry N (...)" naming the first that did.
[[nodiscard]] absl::Status LineageIsClean(const Reader& store, const veta::v1::Lineage& lineage,
                                          std::string_view lot_id);

}  // namespace veta
