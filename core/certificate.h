// "Oro formal" certificates: a signed statement that a gold lot's whole backward lineage is
// accepted, unflagged and uncorrected, with its fine grams and its origin by unit and
// department, proven against a checkpoint.
//
// The statement is a C2SP signed note by the checkpoint key (the authority's), so the same
// verifier key opens it:
//
//   <origin>
//   oro-formal certificate v1
//   lot <lot id>
//   holder <RUC>
//   fine-g <fine grams of the lot as created>
//   unit <concession code> <department> <share>        one line per unit of origin
//   department <department> <share>                    one line per department
//   checkpoint <tree size> <base64 root hash>
//   entries <seq> <seq> ...                            every entry it rests on
//
// VerifyCertificate checks it offline with only the authority's public key: both signatures,
// each entry's inclusion proof against the checkpoint, and then recomputes the fine grams and
// the shares from the entries' own payloads (extractions, sales, processing, the units'
// registry records), so that a certificate cannot claim an origin its entries do not show.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/keys.h"
#include "core/note.h"
#include "veta/v1/custody.pb.h"
#include "veta/v1/ledger.pb.h"

namespace veta {

class Ledger;

// Lots a certified lineage may hold.
inline constexpr uint32_t kCertificateLotsMax = 10000;

// Issues a certificate for a gold lot against the latest checkpoint. FailedPrecondition
// "[CERTIFICATE_REFUSED] ..." naming the entry that taints the lineage (voided, flagged), or
// saying why not (an ore lot, too large); Unavailable while the lot is newer than the latest
// checkpoint (retry: one is signed within a second); NotFound for no such lot.
absl::StatusOr<veta::v1::Certificate> IssueCertificate(const Ledger& ledger,
                                                       std::string_view lot_id);

struct CertificateClaims {
  std::string origin;
  std::string lot_id;
  std::string holder;
  double fine_g = 0;
  std::vector<veta::v1::UnitShare> units;
  std::vector<veta::v1::DepartmentShare> departments;
  note::Checkpoint checkpoint;
  std::vector<uint64_t> entries;
};

// Offline check, as described above. Unauthenticated for a bad signature; InvalidArgument or
// DataLoss naming what does not hold.
absl::StatusOr<CertificateClaims> VerifyCertificate(const veta::v1::Certificate& certificate,
                                                    const PublicKey& authority);

class Store;

// OK when no lot of the lineage (a backward lineage, read whole) was voided and no entry that
// created one raised a red flag; FailedPrecondition "[CERTIFICATE_REFUSED] lot X rests on
// entry N (...)" naming the first that did.
absl::Status LineageIsClean(const Store& store, const veta::v1::Lineage& lineage,
                            std::string_view lot_id);

// Opens a checkpoint note with the authority's key (the origin is the note's first line).
absl::StatusOr<note::Checkpoint> OpenCheckpointNote(const std::string& note_text,
                                                    const PublicKey& authority);
// An entry's inclusion proof against a checkpoint already opened.
absl::Status VerifyInclusionBundle(const veta::v1::ProofBundle& bundle,
                                   const note::Checkpoint& checkpoint);

}  // namespace veta
