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

// OK when no lot of the lineage (a backward lineage, read whole) was voided, no entry that
// created one raised a red flag (any of its flags), and no entry that took from a lot of the
// lineage and was voided before the lineage took from it raised one (a flagged sale voided
// and declared again: its flag stays in the lot's history), as of the lineage's point; a flag
// a registrar cleared by then (FlagClearance, rules v3) does not count. Applies to every
// ledger (certificates are reads), whatever its rules version. FailedPrecondition
// "[CERTIFICATE_REFUSED] lot X rests on entry N (...)" or "... rests on lot A, whose history
// holds entry N (...)", naming the first that did, its flag, and that a registrar's flag
// clearance lifts it.
[[nodiscard]] absl::Status LineageIsClean(const Reader& store, const veta::v1::Lineage& lineage,
                                          std::string_view lot_id);

}  // namespace veta
