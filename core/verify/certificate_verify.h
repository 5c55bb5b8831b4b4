// "Oro formal" certificates: a signed statement that a gold lot's whole backward lineage is
// accepted, unflagged and uncorrected, with its fine grams and its origin by unit and
// department, proven against a checkpoint.
//
// The statement is a C2SP signed note by the checkpoint key (the authority's), so the same
// verifier key opens it:
//
//   <origin>
//   oro-formal certificate v2
//   lot <lot id>
//   holder <RUC>
//   fine-mg <fine milligrams of the lot as created>      recomputed by the verifier
//   remaining-mg <milligrams of gold>                    the authority's word, at issue
//   exported <country> <entry>                           when it was exported
//   unit <concession code> <department> <fine mg>       one line per unit of origin
//   department <department> <fine mg>                   one line per department
//   checkpoint <tree size> <base64 root hash>
//   entries <seq> <seq> ...                            every entry it rests on
//
// Shares are integers: a unit's or department's fine mg over the lot's fine-mg (they sum to
// it exactly); a reader rounds them only to show them.
//
// VerifyCertificate checks it offline with only the authority's public key: both signatures,
// each entry's inclusion proof against the checkpoint, and then replays the lots' arithmetic
// (core/verify/lots.h, the rules' own) over the entries' payloads (extractions, sales, processing,
// corrections, the units' registry records) and compares exactly, so that a certificate
// cannot claim an origin its entries do not show. Because a part's milligrams are
// apportioned from what its lot had left, the entries include, for every lot of the lineage,
// the earlier takes from it (and their corrections), not only the lineage's own steps.
// Part of veta_verify: no RocksDB, no gRPC; what a buyer or a refiner runs offline.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "veta/v1/custody.pb.h"
#include "veta/v1/ledger.pb.h"

namespace veta {

// The second line of a certificate's note.
inline constexpr std::string_view kCertificateTitle = "oro-formal certificate v2";
// Lots a certified lineage may hold, and bytes of the entries it carries.
inline constexpr uint32_t kCertificateLotsMax = 10000;
inline constexpr size_t kCertificateBytesMax = 16 << 20;

// FailedPrecondition "[CERTIFICATE_REFUSED] message".
[[nodiscard]] absl::Status CertificateRefused(std::string message);

struct CertificateClaims {
  std::string origin;
  std::string lot_id;
  std::string holder;
  int64_t fine_mg = 0;
  int64_t remaining_mg = 0;  // stated by the authority, not recomputed (later entries decide it)
  std::string exported_to;
  uint64_t exported_at = 0;
  std::vector<veta::v1::UnitShare> units;
  std::vector<veta::v1::DepartmentShare> departments;
  note::Checkpoint checkpoint;
  std::vector<uint64_t> entries;
};

// Offline check, as described above. Unauthenticated for a bad signature; InvalidArgument or
// DataLoss naming what does not hold.
// `expected_origin`, when given, is the log the certificate must come from (the key alone
// would also open notes of another log signed with it).
absl::StatusOr<CertificateClaims> VerifyCertificate(const veta::v1::Certificate& certificate,
                                                    const PublicKey& authority,
                                                    std::string_view expected_origin = "");

// Opens a checkpoint note with the authority's key (the origin is the note's first line).
absl::StatusOr<note::Checkpoint> OpenCheckpointNote(const std::string& note_text,
                                                    const PublicKey& authority);
// An entry's inclusion proof against a checkpoint already opened.
[[nodiscard]] absl::Status VerifyInclusionBundle(const veta::v1::ProofBundle& bundle,
                                                 const note::Checkpoint& checkpoint);

}  // namespace veta
