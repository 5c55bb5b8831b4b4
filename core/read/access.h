// Who may call what, and read which records. With TLS, a caller is identified by the public
// key of its client certificate: a key the ledger knows (a registrar's, a miner's, a
// selector's, a REPCO party's, a regulator's registered through the authority, or an
// authority key). No certificate, or an unknown key, is the public. Without TLS (loopback
// only) the server trusts its local operator with everything.
//
//                          public registrar miner selector trader plant exporter regulator
//   Submit, SubmitStream      -       x       x      x       x      x      x        -
//   Check                     -       x       x      x       x      x      x        x
//   GetCheckpoint, proofs     x       x       x      x       x      x      x        x
//   GetRecord, ListRecords    x       x       x      x       x      x      x        x
//   GetEntry                  x*      x*      x*     x*      x*     x*     x*       x
//   ListEntries               -       -       -      -       -      -      -        x
//   GetLot                    -       -       x*     x*      x*     x*     x*       x
//   ListAttempts, ListFlags   -       -       x*     x*      x*     x*     x*       x
//   GetLineage (backward)     -       -       x*     x*      x*     x*     x*       x
//   GetLineage (forward)      -       -       -      -       -      -      -        x
//   GetCertificate            -       -       x*     x*      x*     x*     x*       x
//   GetIndicators, ExportEpcis -      -       -      -       -      -      -        x
//   Watch                     x*      x*      x*     x*      x*     x*     x*       x
//   GetDailyCapacity          -       x       x      x       x      x      x        x
//
//   x* = only records the caller may read: the public reads registry entries (records are
//   public: REINFO is); a party also reads transactions naming it, lots it holds, and
//   attempts and flags filtered to itself, and the backward lineage and certificate of a lot it
//   holds (a plant checking the ore it received); forward lineage (where gold went) is for
//   regulators. Regulators read everything.
//   A certificate, once issued, is checked offline by anyone. Watch follows new entries and
//   attempts within these bounds, and a party also sees what names a unit it holds
//   (core/read/watch.h).
//   GetDailyCapacity (what a seller or unit may still extract or process today, from the rules'
//   daily counters) answers any seller or unit to any registered party, registrar or
//   regulator: a trader checks the seller before paying. Not the public: the counters are a
//   unit's production as it happens (the capacity itself is public, in the unit's record).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/log/keyring.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/envelope.h"

namespace veta {

enum class Role {
  kPublic,
  kRegistrar,
  kMiner,
  kSelector,
  kTrader,
  kPlant,
  kExporter,
  kRegulator,
  kOperator,  // the local operator, on loopback without TLS: everything
};

std::string_view RoleName(Role role);
// Miner, selector, trader, plant, exporter: a party to transactions.
bool IsPartyRole(Role role);

struct Caller {
  Role role = Role::kPublic;
  std::string party_id;  // RUC, DNI, registrar id or regulator name
};

enum class Rpc {
  kSubmit,
  kCheck,
  kGetCheckpoint,
  kGetProof,
  kGetRecord,
  kListRecords,
  kGetEntry,
  kListEntries,
  kGetLot,
  kListAttempts,
  kListFlags,
  kGetLineage,
  kGetCertificate,
  kGetIndicators,
  kExportEpcis,
  kWatch,
  kGetDailyCapacity,
};

std::string_view RpcName(Rpc rpc);

// The matrix above: whether `role` may call `rpc` at all.
bool MayCall(Role role, Rpc rpc);

// Who holds this key: the caller it identifies (public when unknown, or when the key was
// dropped from its holder's record by a rotation). `visible` bounds the registry versions
// consulted.
Caller CallerForKey(const KeyInfo* info, const Reader& store, uint64_t visible);

// The parties an entry names (RUCs, DNIs), and whether it is a registry entry (public).
struct EntryParties {
  bool is_public = false;
  std::vector<std::string> parties;
};
EntryParties PartiesOf(const DecodedEnvelope& envelope);

// Whether the caller may read an entry with these parties.
bool MayReadEntry(const Caller& caller, const EntryParties& entry);
// Whether the caller may read data about `party_id` (a lot's holder, an attempts filter).
bool MayReadParty(const Caller& caller, std::string_view party_id);

}  // namespace veta
